"""Format readers on small real files written by the tests: exact extracted texts, regions, offsets."""

from __future__ import annotations

import io
import sys

import pytest

from indexer.errors import FileSkipped
from indexer.formats import Region, extract, format_of, gunzip
from indexer.formats.layout import Heading, section_regions


def make_pdf(pages: list[list[str]], **encryption) -> bytes:
    """A PDF with one text line per string, one list per page (an empty list: a blank page)."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=12)
    if encryption:
        pdf.set_encryption(**encryption)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(text=line)
            pdf.ln()
    return bytes(pdf.output())


def make_docx(build) -> bytes:
    """A .docx written by python-docx; ``build(document)`` adds the content."""
    docx = pytest.importorskip("docx")
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def slices(ex) -> list[tuple[str, int | None, str | None]]:
    return [(ex.text[r.start:r.end], r.page, r.section) for r in ex.regions]


# --- Markdown: the file's own text, sections at headings ---------------------------------------

MD = ("Intro line.\n"
      "# Guide\n"
      "## Install\r\n"
      "Run `pip install quarry`.\n"
      "\n"
      "```\n# not a heading\n```\n"
      "Usage *now*\n"
      "-----\n"
      "Ask a question.\n"
      "- # not one either\n")


def test_markdown_sections_over_the_file_text():
    ex = extract("docs/guide.md", MD.encode())
    assert ex.text == MD  # offsets index the file itself
    assert ex.note is None
    assert slices(ex) == [
        ("Intro line.\n", None, None),
        ("# Guide\n## Install\r\nRun `pip install quarry`.\n\n```\n# not a heading\n```\n", None, "Guide > Install"),
        ("Usage *now*\n-----\nAsk a question.\n- # not one either\n", None, "Guide > Usage now"),
    ]
    assert ex.regions[1] == Region(12, 83, None, "Guide > Install")


def test_section_trail_and_heading_only_regions():
    text = "# A\n## B\nb text\n### C\nc text\n## D\n# E\ne text"
    heads = [Heading(text.index(t), text.index(t) + len(t), t.count("#"), t.strip("# "))
             for t in ("# A", "## B", "### C", "## D", "# E")]
    got = [(text[r.start:r.end], r.section) for r in section_regions(text, heads)]
    assert got == [("# A\n## B\nb text\n", "A > B"),
                   ("### C\nc text\n", "A > B > C"),
                   ("## D\n# E\ne text", "E")]  # "## D" has no text of its own: merged forward


# --- plain text: sections at its headings ---------------------------------------------------------

TXT = ("Vim FAQ\n=======\n\nIntro text.\n\nSECTION 1 - GENERAL\n\n1.1. What is Vim?\n\nVim is an editor.\n\n"
       "1.2. I have a patch for Vim. Where do I send\n     the patch?\n\nTo the list.\n\n"
       "1.3. Can I un-source a script? In other words,\n     undo what it did.\n\nNo.\n\n"
       "2. Not a heading, a numbered sentence that closes.\n\nNOTES on the text\n\n"
       "Underlined too long\n===\n")


def test_plain_text_sections_at_its_headings():
    ex = extract("vim.txt", TXT.encode())
    assert ex.text == TXT  # offsets index the file itself
    assert [(TXT[r.start:r.end].split("\n")[0], r.section) for r in ex.regions] == [
        ("Vim FAQ", "Vim FAQ"),  # underlined
        # in capitals, at the same level; a heading with no text of its own is merged forward
        ("SECTION 1 - GENERAL", "SECTION 1 - GENERAL > 1.1. What is Vim?"),
        # numbered in levels, over two lines
        ("1.2. I have a patch for Vim. Where do I send",
         "SECTION 1 - GENERAL > 1.2. I have a patch for Vim. Where do I send the patch?"),
        # a question heading that goes on after its question
        ("1.3. Can I un-source a script? In other words,",
         "SECTION 1 - GENERAL > 1.3. Can I un-source a script? In other words, undo what it did.")]
    assert TXT[ex.regions[-1].start:].endswith("NOTES on the text\n\nUnderlined too long\n===\n")
    # no heading: one region, as before (a numbered sentence, words in lower case, an underline of
    # another length are none)
    assert extract("notes.txt", b"2. A numbered sentence that closes.\n\nNOTES on it\n\nToo long\n==\n").regions == ()



def test_plain_text_headings_as_docbook_writes_them():
    # DocBook's text output puts a no-break space after a section's number ("1.1.\xa0In the Beginning",
    # "Chapter\xa01.\xa0Introduction"); an appendix numbers its sections "A.1."
    text = ("Chapter\xa01.\xa0Introduction -- What is the Debian Project?\n\n    The project is a group.\n\n"
            "1.1.\xa0In the Beginning\n\n    It was founded in 1993.\n\n"
            "A.1. Discussion and Amendment\n\n    Anyone may propose.\n\n"
            "A. Smith wrote the rest.\n\n    Not a heading above.\n")
    ex = extract("history.txt", text.encode())
    assert [r.section for r in ex.regions] == [
        "Chapter 1. Introduction -- What is the Debian Project?",  # the title with plain spaces
        "Chapter 1. Introduction -- What is the Debian Project? > 1.1. In the Beginning",
        "Chapter 1. Introduction -- What is the Debian Project? > A.1. Discussion and Amendment"]
    assert text[ex.regions[-1].start:].endswith("A. Smith wrote the rest.\n\n    Not a heading above.\n")



def test_plain_text_titles_at_the_margin_over_indented_text():
    # DocBook's text output and many FAQs: a title or a question at the margin, its text indented under it
    text = ("Appendix\xa0B.\xa0A Portrait of J. Random Hacker\n\n   This profile reflects comments.\n\n"
            "General Appearance\n\n   Intelligent. Scruffy. Intense.\n\n"
            "Why do long usernames get printed as numbers?\n\n\tThe standards require it.\n\n"
            "For more information, read\n\n    :help usr_01.txt\n\n"  # a lead-in, not in title case
            "A Title Over Text At Its Own Margin\n\nNot indented under it.\n")
    ex = extract("portrait.txt", text.encode())
    assert [r.section for r in ex.regions] == [
        "Appendix B. A Portrait of J. Random Hacker",
        "Appendix B. A Portrait of J. Random Hacker > General Appearance",
        "Appendix B. A Portrait of J. Random Hacker > Why do long usernames get printed as numbers?"]
    assert text[ex.regions[-1].start:].endswith("For more information, read\n\n    :help usr_01.txt\n\n"
                                                "A Title Over Text At Its Own Margin\n\nNot indented under it.\n")


# --- HTML: visible text only ---------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Not shown</title><style>p { color: red }</style></head>
<body><script>var hidden = 1;</script><nav hidden>Menu</nav>
<h1>Cats  &amp; <em>dogs</em></h1>
<p>Cats   sleep a lot.<br>A cat <b>purrs</b>.</p><!-- a comment -->
<div style="display: none">invisible</div>
<h2>Prices</h2>
<table><tr><th>item</th><th>price</th></tr><tr><td>food</td><td>$5</td></tr></table>
<pre>x  =  1
y = 2</pre>
<ul><li>one</li><li>two <span>three</span></li></ul>
</body></html>"""


def test_html_visible_text_and_sections():
    ex = extract("page.html", HTML.encode())
    assert ex.text == ("Cats & dogs\nCats sleep a lot.\nA cat purrs.\nPrices\nitem | price\nfood | $5\n"
                       "x  =  1\ny = 2\none\ntwo three")
    assert slices(ex) == [
        ("Cats & dogs\nCats sleep a lot.\nA cat purrs.\n", None, "Cats & dogs"),
        ("Prices\nitem | price\nfood | $5\nx  =  1\ny = 2\none\ntwo three", None, "Cats & dogs > Prices"),
    ]


def test_html_heading_permalinks_are_not_text():
    # Sphinx and MkDocs end every heading with a permalink shown on hover: "How do I run it?¶" asks nothing
    page = ('<h3>How do I run it?<a class="headerlink" href="#run" title="Permalink to this heading">\u00b6</a></h3>'
            '<p>Run <a class="reference" href="#make">make</a>.</p>')
    ex = extract("faq.html", page.encode())
    assert ex.text == "How do I run it?\nRun make."
    assert slices(ex) == [("How do I run it?\nRun make.", None, "How do I run it?")]


def test_html_navigation_is_not_text():
    # a site's menus and a sidebar's table of contents: the same on every page, and every heading again
    page = ('<nav><a href="/">Home</a> | <a href="next.html">next</a></nav>'
            '<div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li>How do I run it?</li></ul>'
            '</div><div class="navheader"><table><tr><th>Chapter 2. FAQ</th></tr><tr><td><a href="a.html">Prev'
            '</a></td></tr></table></div><h1>FAQ</h1><p>Run make.</p><div class="navfooter"><a href="b.html">Next'
            '</a></div><footer>\u00a9 2024 The authors.</footer>')
    ex = extract("faq.html", page.encode())
    assert ex.text == "FAQ\nRun make.\n\u00a9 2024 The authors."


def test_html_table_of_contents_of_the_page_is_not_text():
    # docutils' "Contents" and DocBook's: every heading again as a link into the page; a list of links to
    # other pages ("Perl policy", "Python policy") is content and stays
    page = ('<div class="contents topic"><p>Contents</p><ul><li><a href="#run">How do I run it?</a>'
            '<ul><li><a href="faq.html#fast">Is it fast?</a></li></ul></li></ul></div>'
            '<h2 id="run">How do I run it?</h2><p>Run make.</p><h2 id="fast">Is it fast?</h2><p>Yes.</p>'
            '<p>See also:</p><ul><li><a href="perl.html">Perl policy</a></li><li><a href="py.html">Python policy</a>'
            '</li></ul><ul><li><a href="#run">How do I run it?</a> is the first question.</li>'
            '<li><a href="#fast">Is it fast?</a></li></ul>')
    ex = extract("docs/faq.html", page.encode())
    assert ex.text == ("Contents\nHow do I run it?\nRun make.\nIs it fast?\nYes.\nSee also:\nPerl policy\n"
                       "Python policy\nHow do I run it? is the first question.\nIs it fast?")


def test_html_declared_charset_is_used():
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 cr\xe8me \u2013 5\u20ac</p></body></html>'
    ex = extract("menu.htm", page.encode("cp1252"))
    assert ex.text == "Café crème – 5€"
    assert ex.note == "not UTF-8: decoded as cp1252"
    with pytest.raises(FileSkipped, match="no visible text"):
        extract("blank.html", b"<html><head><title>t</title></head><body> <script>x()</script></body></html>")


# --- PDF: text per page ------------------------------------------------------------------------

def test_pdf_text_per_page():
    data = make_pdf([["Cats sleep sixteen hours a day.", "A cat purrs."], [], ["The Moon orbits the Earth."]])
    ex = extract("papers/moon.pdf", data)
    assert ex.text == "Cats sleep sixteen hours a day.\nA cat purrs.\n\f\n\n\f\nThe Moon orbits the Earth."
    assert slices(ex) == [("Cats sleep sixteen hours a day.\nA cat purrs.\n\f\n", 1, None),
                          ("\n\f\n", 2, None),
                          ("The Moon orbits the Earth.", 3, None)]


def test_a_ligature_of_extracted_text_is_its_letters():
    # a PDF typeset by TeX or DocBook holds "ﬁ" (U+FB01): "conﬁguration" matched no question's "configuration"
    from indexer.formats.layout import clean_extracted

    assert clean_extracted("The conﬁguration ﬁle, ﬂags and eﬀort; a di\ufb03cult \ud800 one") == \
        "The configuration file, flags and effort; a difficult \ufffd one"
    ex = extract("guide.html", "<html><body><p>Where is the user conﬁguration ﬁle?</p></body></html>".encode())
    assert ex.text == "Where is the user configuration file?"


def test_pdf_that_cannot_be_indexed():
    with pytest.raises(FileSkipped, match=r"^x.pdf: encrypted PDF \(needs a password\)$"):
        extract("x.pdf", make_pdf([["Secret."]], owner_password="o", user_password="u"))
    # an owner password alone (no user password) does not stop reading
    assert extract("y.pdf", make_pdf([["Open words."]], owner_password="o")).text == "Open words."
    with pytest.raises(FileSkipped, match=r"without a text layer \(scanned\? run OCR"):
        extract("scan.pdf", make_pdf([[], []]))
    with pytest.raises(FileSkipped, match=r"damaged or unreadable PDF \(\w+\)"):
        extract("bad.pdf", b"%PDF-1.4\nnot really a pdf")


def test_missing_library_is_a_clear_skip(monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdf", None)  # import pypdf now raises ImportError
    monkeypatch.setitem(sys.modules, "docx", None)
    with pytest.raises(FileSkipped) as e:
        extract("a.pdf", b"%PDF-1.4")
    assert e.value.reason == "needs the pypdf package: pip install 'quarry[formats]'"
    with pytest.raises(FileSkipped, match="needs the python-docx package"):
        extract("a.docx", b"PK")


# --- DOCX: paragraphs and tables in order, sections at Heading styles --------------------------

def _report(document) -> None:
    document.add_heading("Annual report", 0)
    document.add_paragraph("We sold tea.")
    document.add_heading("Costs", 1)
    document.add_paragraph("Tea cost $5 per box.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "item", (0, 1): "price", (1, 0): "tea", (1, 1): "$5"}.items():
        table.cell(r, c).text = value
    document.add_paragraph("")
    document.add_heading("Details", 2)
    document.add_paragraph("Boxes hold\tten bags.")
    document.add_heading("Outlook", 1)
    document.add_paragraph("More tea next year.")


def test_docx_paragraphs_tables_and_sections():
    ex = extract("report.docx", make_docx(_report))
    assert ex.text == ("Annual report\nWe sold tea.\nCosts\nTea cost $5 per box.\nitem | price\ntea | $5\n"
                       "Details\nBoxes hold\tten bags.\nOutlook\nMore tea next year.")
    assert slices(ex) == [
        ("Annual report\nWe sold tea.\n", None, "Annual report"),
        ("Costs\nTea cost $5 per box.\nitem | price\ntea | $5\n", None, "Annual report > Costs"),
        ("Details\nBoxes hold\tten bags.\n", None, "Annual report > Costs > Details"),
        ("Outlook\nMore tea next year.", None, "Annual report > Outlook"),
    ]


def test_a_word_files_headings_formatted_by_hand_head_sections():
    from docx.shared import Pt

    def build(document) -> None:
        run = document.add_paragraph().add_run("Lease terms")
        run.font.size = Pt(16)
        document.add_paragraph().add_run("1. Rent").bold = True
        document.add_paragraph("Rent is due on the first day of each month.")
        document.add_paragraph().add_run("Note:").bold = True  # a label, not a heading
        document.add_paragraph("Late rent costs a fee.")
        document.add_paragraph().add_run("2. Repairs").bold = True
        document.add_paragraph("The landlord pays for repairs to the roof.")
        document.add_paragraph().add_run("2.1. Gutters").bold = True  # numbered a level deeper: under 2.
        document.add_paragraph("The tenant clears the gutters.")
        document.add_paragraph().add_run("3. Keys").bold = True
        document.add_paragraph("Two keys are given.")
        document.add_paragraph().add_run("Signatures").bold = True  # no number: beside "3.", not above it
        document.add_paragraph("Both parties sign.")

    ex = extract("lease.docx", make_docx(build))
    assert [(ex.text[r.start:r.end].split("\n")[0], r.section) for r in ex.regions] == [
        ("Lease terms", "Lease terms > 1. Rent"), ("2. Repairs", "Lease terms > 2. Repairs"),
        ("2.1. Gutters", "Lease terms > 2. Repairs > 2.1. Gutters"), ("3. Keys", "Lease terms > 3. Keys"),
        ("Signatures", "Lease terms > Signatures")]

    # where Heading styles are used, only they head sections; where most paragraphs are bold, bold is no sign
    def styled(document) -> None:
        document.add_heading("Rent", 1)
        document.add_paragraph().add_run("Due dates").bold = True
        document.add_paragraph("Rent is due on the first.")

    assert [r.section for r in extract("a.docx", make_docx(styled)).regions] == ["Rent"]

    def all_bold(document) -> None:
        for text in ("Rent", "Due on the first", "Repairs"):
            document.add_paragraph().add_run(text).bold = True

    assert [r.section for r in extract("b.docx", make_docx(all_bold)).regions] == [None]


def test_other_names_for_markdown_and_html():
    page = (b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
            b"<title>Kettle</title><style>p{color:red}</style></head><body><h1>Kettle</h1><h2>Descaling</h2>"
            b"<p>Descale it every four weeks.</p><script>var x = 1;</script></body></html>")
    ex = extract("manual.xhtml", page)
    assert ex.text == "Kettle\nDescaling\nDescale it every four weeks."
    assert ex.regions[-1].section == "Kettle > Descaling"
    ex = extract("notes.mkd", b"# Notes\n\n## Garden\n\nWater the tomatoes.\n")
    assert [r.section for r in ex.regions] == ["Notes > Garden"]


def test_docx_that_cannot_be_indexed():
    with pytest.raises(FileSkipped, match=r"damaged or unreadable DOCX \(\w+\)"):
        extract("bad.docx", b"PK\x03\x04 not a zip")
    with pytest.raises(FileSkipped, match="no text"):
        extract("empty.docx", make_docx(lambda d: d.add_paragraph("   ")))


@pytest.mark.parametrize(("name", "reader"), [
    ("README", ".txt"), ("COPYING", ".txt"), ("GPL-3", ".txt"), ("Apache-2.0", ".txt"), ("MPL-1.1", ".txt"),
    ("notes.MD", ".md"), ("page.HTM", ".htm"), ("photo.jpg", None), ("archive.tar.gz", None), ("lib.so", None),
    ("README.Debian", ".txt"), ("changelog.Debian.amd64", ".txt"), ("README.source", ".txt"),
    ("FAQ.txt.gz", ".txt"), ("README.gz", ".txt"), ("NEWS.Debian.gz", ".txt"), ("guide.md.gz", ".md"),
    ("page.html.gz", ".html"), ("bc.info.gz", ".info"), ("photo.jpg.gz", None), ("twice.txt.gz.gz", None),
    ("usage.rst", ".rst"), ("usage.rst.gz", ".rst"),
])
def test_names_without_an_extension_are_plain_text(name, reader):
    # a documentation folder's README, COPYING and licence files ("Apache-2.0") have no extension of their own
    assert format_of(name) == reader


def test_file_without_an_extension_is_read_as_text():
    assert extract("Apache-2.0", b"You may sublicense it.\n").text == "You may sublicense it.\n"
    with pytest.raises(FileSkipped, match=r"binary file \(NUL bytes\)"):
        extract("core", b"\x7fELF\x02\x01\x01\x00")


def test_unknown_extension_and_empty_file():
    with pytest.raises(FileSkipped, match=r"unsupported extension \.jpg"):
        extract("photo.JPG", b"\xff\xd8")
    with pytest.raises(FileSkipped, match=r"unsupported extension \.ps\.gz"):
        extract("manual.ps.gz", b"\x1f\x8b")
    with pytest.raises(FileSkipped, match="empty file"):
        extract("notes.md", b"")
    with pytest.raises(FileSkipped, match=r"no text \(only white space\)"):
        extract("blank.txt", b" \r\n\t\n")


def test_markdown_front_matter_is_not_a_heading():
    text = "---\ntitle: Notes\ntags: [a]\n---\nBody text.\n# Real\nMore.\n"
    ex = extract("notes.md", text.encode())
    assert slices(ex) == [("---\ntitle: Notes\ntags: [a]\n---\nBody text.\n", None, None),
                          ("# Real\nMore.\n", None, "Real")]


def test_a_gzip_file_is_read_as_the_file_it_holds():
    import gzip

    assert extract("FAQ.txt.gz", gzip.compress(b"Is it free?\nYes.\n")).text == "Is it free?\nYes.\n"
    assert extract("guide.md.gz", gzip.compress(b"# Guide\n\nRun it.\n")).text == "# Guide\n\nRun it.\n"
    # concatenated members (gzip a >> b) are one file, as zcat reads them
    assert extract("log.gz", gzip.compress(b"one\n") + gzip.compress(b"two\n")).text == "one\ntwo\n"
    whole = gzip.compress(b"Some text that is long enough.\n" * 10)
    for data, why in [(b"not gzip at all", r"damaged gzip file \(.*incorrect header check\)"),
                      (whole[:-10], r"damaged gzip file \(cut short\)"),
                      (gzip.compress(b""), r"empty file \(once decompressed\)"),
                      (gzip.compress(b"\x7fELF\x00\x01"), r"binary file \(NUL bytes\)")]:
        with pytest.raises(FileSkipped, match=why):
            extract("notes.txt.gz", data)
    with pytest.raises(FileSkipped, match="more than 0 MB once decompressed"):
        gunzip("big.gz", gzip.compress(b"x" * 1000), limit=999)
    assert gunzip("big.gz", gzip.compress(b"x" * 1000), limit=1000) == b"x" * 1000


def test_a_manual_pages_roff_source_is_skipped_with_how_to_render_it():
    import gzip

    for head in (b'.\\" GNU grep man page\n.TH GREP 1\n', b".TH PYTHON \"1\"\n", b"'\\\" t\n.TH GIT 1\n"):
        with pytest.raises(FileSkipped, match=r"roff source: index it as text \(MANWIDTH=80 man -l FILE"):
            extract("grep.1.gz", gzip.compress(head))
        with pytest.raises(FileSkipped, match="roff source"):
            extract("grep.1", head)
    assert extract("notes.txt", b".The dot is not a macro.\n").text == ".The dot is not a macro.\n"


RST = """\
=====
Guide
=====

What the guide is for.

Install
-------

Run ``pip install tool``; see :ref:`setup` and :func:`tool.main`.

.. code-block:: python

   import tool

.. toctree::

   usage

Offline
~~~~~~~

Copy the wheel first.

Usage
-----

Ask it.
"""


def test_rst_sections_at_its_titles_and_the_text_stays_the_file():
    out = extract("guide.rst", RST.encode())
    assert out.text == RST
    got = [(r.section, RST[r.start:r.end].split("\n", 1)[0]) for r in out.regions]
    assert got == [("Guide", "====="), ("Guide > Install", "Install"), ("Guide > Install > Offline", "Offline"),
                   ("Guide > Usage", "Usage")]
    assert out.regions[0].start == 0 and out.regions[-1].end == len(RST)
    # Windows line ends and a form feed (a line break to docutils, none to quarry) move no title
    crlf = "Title\r\n=====\r\n\r\n\x0cText one.\r\n\r\nPart\r\n----\r\n\r\nText two.\r\n"
    regions = extract("crlf.rst", crlf.encode()).regions
    assert [(r.section, crlf[r.start:r.end][:4]) for r in regions] == [("Title", "Titl"), ("Title > Part", "Part")]
    # no titles (a transition line is none): one region without a section
    plain = "Text.\n\n----------\n\nMore text.\n"
    assert [r.section for r in extract("notes.rst", plain.encode()).regions] == [None]


def test_org_sections_at_its_headlines_and_the_text_stays_the_file():
    org = ("#+TITLE: Notes\r\n#+TODO: TODO WAIT | DONE\nIntro.\n* TODO [#A] Install the tool   :work:\n"
           "Run make.\x0c Then test.\n** WAIT Configure [1/2] [[https://example.org][the site]]\nEdit it.\n"
           "*bold* opens no headline\n* Usage of ~quarry~ and =ask=\nAsk it.\n")
    out = extract("notes.org", org.encode())
    assert out.text == org
    got = [(r.section, org[r.start:r.end].split("\n", 1)[0]) for r in out.regions]
    assert got == [(None, "#+TITLE: Notes\r"), ("Install the tool", "* TODO [#A] Install the tool   :work:"),
                   ("Install the tool > Configure the site",
                    "** WAIT Configure [1/2] [[https://example.org][the site]]"),
                   ("Usage of quarry and ask", "* Usage of ~quarry~ and =ask=")]
    assert [r.section for r in extract("plain.org", b"No headlines here.\n").regions] == [None]


def test_asciidoc_sections_at_its_titles_outside_blocks():
    adoc = ("= The Guide\n:toc:\n\nIntro.\n== not a title: inside a paragraph\n\n[[install]]\n"
            "== Installing `quarry` ==\n\nRun it.\n\n----\n== not a title: in a listing\n----\n\n// a comment\n"
            "=== *Offline* install\nText.\n\n```sh\n# not a title: in a fence\n```\n\n== Usage\nAsk.\n")
    out = extract("guide.adoc", adoc.encode())
    assert out.text == adoc
    assert [(r.section, adoc[r.start:r.end].split("\n", 1)[0]) for r in out.regions] == [
        ("The Guide", "= The Guide"), ("The Guide > Installing quarry", "== Installing `quarry` =="),
        ("The Guide > Installing quarry > Offline install", "=== *Offline* install"),
        ("The Guide > Usage", "== Usage")]
    assert [format_of(n) for n in ("book.asciidoc", "a.ADOC", "notes.org.gz")] == [".asciidoc", ".adoc", ".org"]


def test_a_pdfs_running_header_and_page_numbers_are_left_out():
    from indexer.formats.pdf import without_running_lines

    body = [["Memcheck finds leaks.", "It reports them at exit."], ["Suppressions hide errors.", "Write your own."],
            ["Cachegrind profiles caches.", "It is slow."], ["Callgrind records calls.", "Use the viewer."]]
    pages = [["Using the Valgrind core", *lines, str(n)] for n, lines in enumerate(body, start=7)]
    ex = extract("manual.pdf", make_pdf(pages))
    assert "Using the Valgrind core" not in ex.text and "\n7\n" not in ex.text + "\n"
    assert [ex.text[r.start:r.end].strip().splitlines() for r in ex.regions] == body
    assert [r.page for r in ex.regions] == [1, 2, 3, 4]
    # a header on fewer than three pages, or a page with nothing else on it, stays; so does a last word
    assert without_running_lines(["Intro\nText one.\nMore.", "Intro\nText two.\nMore."]) == [
        "Intro\nText one.\nMore.", "Intro\nText two.\nMore."]
    assert without_running_lines(["Title\n3"]) == ["Title\n3"]
    assert without_running_lines(["A\nThe line ends with\ndid"]) == ["A\nThe line ends with\ndid"]
    assert without_running_lines(["A\nText.\nPage 3 of 9"]) == ["A\nText."]


def test_a_word_a_pdf_hyphenated_at_a_line_break_is_made_whole():
    from indexer.formats.pdf import dehyphenated

    # the rest of the word moves up to the line it starts on; its punctuation with it
    assert dehyphenated(["The shell expands words before the reg-\nular expression functions see them; expres-\n"
                         "sions."]) == ["The shell expands words before the regular\nexpression functions see them; "
                                        "expressions."]  # (the line that held only "sions." goes)
    # a compound the document writes with its hyphen elsewhere keeps it; an option, a number or a capital does not join
    pages = ["A user-defined key.", "Each user-\ndefined key, --enable-\nstrict, page 12-\n13, Anti-\nFraud."]
    assert dehyphenated(pages) == [
        "A user-defined key.", "Each user-defined\nkey, --enable-\nstrict, page 12-\n13, Anti-\nFraud."]
    assert dehyphenated(["No break here.\n\nA blank line stays."]) == ["No break here.\n\nA blank line stays."]
    ex = extract("paper.pdf", make_pdf([["Search reads the configura-", "tion file first."]]))
    assert ex.text == "Search reads the configuration\nfile first."


def test_a_pdfs_paragraphs_are_apart_and_its_larger_type_heads_sections():
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()

    def write(lines: list[str], size: int, then: float) -> None:  # lines 5 mm apart, then a gap of `then` mm
        pdf.set_font("helvetica", size=size)
        for i, line in enumerate(lines):
            pdf.cell(text=line)
            pdf.ln(then if i == len(lines) - 1 else 5)

    cats = ["Cats sleep sixteen hours a day", "and spend the rest of it grooming", "or watching birds from a window."]
    write(["Cats"], 16, 9)
    write(cats, 11, 9)
    write(["A cat purrs when it is content", "and sometimes when it is hurt."], 11, 9)
    write(["Dogs"], 16, 9)
    write(["Dogs bark at strangers", "and at the postman."], 11, 5)
    ex = extract("pets.pdf", bytes(pdf.output()))
    assert ex.text == ("Cats\n\n" + "\n".join(cats) + "\n\nA cat purrs when it is content\n"
                       "and sometimes when it is hurt.\n\nDogs\n\nDogs bark at strangers\nand at the postman.")
    assert [(ex.text[r.start:r.end].split("\n")[0], r.page, r.section) for r in ex.regions] == [
        ("Cats", 1, "Cats"), ("Dogs", 1, "Dogs")]


def test_pdf_paragraph_gaps_and_heading_types():
    from indexer.formats.pdf import Line, pdf_headings, with_paragraphs

    # lines 12 points apart; 26 apart opens a paragraph; a line higher up (the next column) opens none
    page = [Line("One two", 700, 10), Line("three.", 688, 10), Line("Four", 662, 10), Line("five.", 650, 10),
            Line("six", 700, 10), Line("seven.", 688, 10)]
    assert with_paragraphs([page]) == ["One two\nthree.\n\nFour\nfive.\nsix\nseven."]
    # no heights (pypdf's pieces did not make up the text): as extracted
    assert with_paragraphs([[Line("a"), Line("b")]]) == ["a\nb"]
    # entries a blank line apart outnumber lines of a paragraph: the spacing is still the paragraph's; code in a
    # smaller type (9 points, 11.7 apart) is spaced as the body (10 points, 13 apart), in type sizes
    entries = [Line(f"{n}. Entry", 700 - 26 * n, 10) for n in range(6)]
    body = [Line("Body one", 500, 10), Line("two.", 487, 10), Line("code", 475.3, 9), Line("more", 463.6, 9)]
    assert with_paragraphs([entries + body]) == [
        "\n\n".join(x.text for x in entries) + "\n\nBody one\ntwo.\ncode\nmore"]
    # a paper's formulas: their pieces (brackets, "=", subscripts) sit a fraction of a line apart, more often
    # than lines of prose follow each other; the spacing is measured below lines of running text
    prose = [Line(f"Line {n} of a paragraph of running text that wraps on", 700 - 12 * n, 10) for n in range(4)]
    formula = [Line(t, 600 - 8 * k, 10) for k, t in enumerate(["(", "x", ")", "=", "y", "(", "z", ")", "+", "1"])]
    more = [Line(f"Line {n} of the next paragraph of running text, after it", 500 - 12 * n, 10) for n in range(3)]
    page = with_paragraphs([prose + formula + more])[0]
    assert prose[0].text + "\n" + prose[1].text + "\n" in page and "\n\n" + more[0].text + "\n" + more[1].text in page
    # a PDF's lines are as wide as its page: a wrapped line of 104 characters runs on into the next, as a text
    # file's line of 100 or fewer does; a text file's line that long is a paragraph of its own
    from dataclasses import replace as with_

    from indexer.chunker import ChunkerSettings, chunk_text
    from indexer.formats.pdf import WIDEST_LINE

    wide = ("under) may be used to automatically place the key in other positions of the graph. Also an at <position>\n"
            "may be given to indicate precisely where the plot should be placed.")
    pdf_sentences, _ = chunk_text(wide, "a.pdf", with_(ChunkerSettings(), wrap_width=WIDEST_LINE))
    assert pdf_sentences[-1].text == wide[wide.index("Also"):]
    assert chunk_text(wide, "a.txt", ChunkerSettings())[0][-1].text.startswith("may be given")
    assert "wrap_width" not in ChunkerSettings().to_dict()  # the format sets it: no index is rebuilt for it
    # a PDF's lines are read with TeX's ligature codes made letters
    from indexer.formats.pdf import ot1_ligatures

    assert ot1_ligatures("Con\x0cguring the \x0cle, \x0d \x0c") == "Configuring the file, \x0d \x0c"
    # a document in one type: a plain-text file's headings; with larger types: theirs, ranked by size
    text = "1. Cats\n\nCats nap.\n\nKittens\n\nKittens play."
    one = [[Line("1. Cats", 700, 10), Line("Cats nap.", 680, 10), Line("Kittens", 660, 10),
            Line("Kittens play.", 640, 10)]]
    assert [h.title for h in pdf_headings(text, one)] == ["1. Cats"]
    sized = [[Line("1. Cats", 700, 16), Line("Cats nap.", 680, 10), Line("Kittens", 660, 13),
              Line("Kittens play.", 640, 10)]]
    assert [(h.title, h.level) for h in pdf_headings(text, sized)] == [("1. Cats", 11), ("Kittens", 21)]
    # in one heading type, a numbered heading is a level deeper for each part of its number
    text = "1. Cats\n\nCats nap.\n\n1.1. Kittens\n\nKittens play.\n\n2. Dogs\n\nDogs bark."
    numbered = [[Line("1. Cats", 700, 13), Line("Cats nap.", 680, 10), Line("1.1. Kittens", 660, 13),
                 Line("Kittens play.", 640, 10), Line("2. Dogs", 620, 13), Line("Dogs bark.", 600, 10)]]
    assert [(h.title, h.level) for h in pdf_headings(text, numbered)] == [
        ("1. Cats", 11), ("1.1. Kittens", 12), ("2. Dogs", 11)]
    # the same words in two types on two pages ("Index": a command's subsection, then the book's index): each
    # line is read in its own page's type
    from indexer.formats.layout import page_regions

    text, regions = page_regions(["Commands\n\nIndex\n\nSelect a data set.", "Index\n\nzoom, 172"], "\n\f\n")
    pages = [[Line("Commands", 700, 16), Line("Index", 680, 13), Line("Select a data set.", 660, 10)],
             [Line("Index", 700, 16), Line("zoom, 172", 680, 10)]]
    assert [(h.title, h.level) for h in pdf_headings(text, pages, regions)] == [
        ("Commands", 11), ("Index", 21), ("Index", 11)]
    assert [(h.title, h.level) for h in pdf_headings(text, pages)] == [  # every "Index" in its largest type
        ("Commands", 11), ("Index", 11), ("Index", 11)]
    # a title hyphenated at a line's end reads otherwise once the word is whole: its lines are still its type
    body = "To use this tool, ask for it on the command line; it then simulates the caches."
    text = "5. Cachegrind: a cache and branch-prediction\nprofiler\n\n" + body
    pages = [[Line("5. Cachegrind: a cache and branch-", 700, 24), Line("prediction profiler", 680, 24),
              Line(body, 650, 10)]]
    assert [(h.title, h.level) for h in pdf_headings(text, pages)] == [
        ("5. Cachegrind: a cache and branch-prediction profiler", 11)]


def test_html_definition_descriptions_are_indented_under_their_terms():
    # as a browser shows a <dl> (and a manual page's option list reads), so an answer from a description
    # can be shown with its term (retriever.answer.entry_term); <pre> keeps its own spacing
    page = ("<p>Options:</p><dl><dt>--quiet</dt><dd>Print nothing but errors.</dd><dt>--depth N</dt>"
            "<dd><p>Set the depth.</p><p>The default is 3.</p><dl><dt>--deeper</dt><dd>More.</dd></dl>"
            "<pre>depth = 3\n  more</pre></dd></dl><p>After the list.</p>")
    ex = extract("opts.html", page.encode())
    assert ex.text == ("Options:\n--quiet\n    Print nothing but errors.\n--depth N\n    Set the depth.\n"
                       "    The default is 3.\n    --deeper\n        More.\ndepth = 3\n  more\nAfter the list.")


def test_html_heading_inside_a_description_starts_at_its_text():
    from indexer.formats.html import visible_text

    text, heads = visible_text("<dl><dt>Term</dt><dd><h3>Usage</h3><p>Use it.</p></dd></dl>")
    assert text == "Term\n    Usage\n    Use it."
    assert [(h.start, h.end, h.title) for h in heads] == [(9, 14, "Usage")]
