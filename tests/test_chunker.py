"""Sentence splitting and chunking: exact examples and property tests of the offset invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chunker import ChunkerSettings, chunk_regions, chunk_text
from indexer.formats.layout import Region
from indexer.sentences import split_sentences
from indexer.text import LineIndex
from tests.conftest import assert_visible_text_covered


def test_sentences_exact_offsets():
    text = "First one. Second one!\n| a | b |\r\nThird?  \n\n  Last"
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["First one.", "Second one!", "| a | b |", "Third?", "Last"]
    assert spans[0] == (0, 10)
    assert spans[-1] == (len(text) - 4, len(text))


def test_long_sentence_is_cut_at_word_boundaries():
    text = "word " * 50
    spans = split_sentences(text, max_chars=32)
    assert all(b - a <= 32 for a, b in spans)
    assert " ".join(text[a:b] for a, b in spans) == text.strip()


def test_chunks_pack_sentences_with_overlap():
    text = "The cat sat. The dog ran. Bob is here. It is nice. We all left."
    sentences, chunks = chunk_text(text, "x.txt", ChunkerSettings(max_chars=26, overlap_sentences=1))
    assert [s.text for s in sentences] == ["The cat sat.", "The dog ran.", "Bob is here.", "It is nice.",
                                           "We all left."]
    assert [c.text for c in chunks] == ["The cat sat. The dog ran.", "The dog ran. Bob is here.",
                                        "Bob is here. It is nice.", "It is nice. We all left."]
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert [c.id for c in chunks] == [0, 1, 2, 3]


def test_line_numbers_with_crlf_and_cr():
    text = "one\r\ntwo\rthree\nfour"
    lines = LineIndex(text)
    assert [lines.line_of(text.index(w)) for w in ("one", "two", "three", "four")] == [1, 2, 3, 4]
    sentences, chunks = chunk_text(text, "x.txt", ChunkerSettings(max_chars=100, join_wrapped=False))
    assert [(s.text, s.start_line, s.end_line) for s in sentences] == [
        ("one", 1, 1), ("two", 2, 2), ("three", 3, 3), ("four", 4, 4)]
    assert (chunks[0].start_line, chunks[0].end_line) == (1, 4)


def test_empty_and_blank_documents_have_no_chunks():
    assert chunk_text("", "e.txt") == ([], [])
    assert chunk_text(" \n\r\n\t \ufeff", "e.txt") == ([], [])


_alphabet = st.sampled_from(
    list("abcdefghij ABC.,!?;:'\"()-$%0123456789") + ["\n", "\r\n", "\r", "\t", "  ", "é", "’", "—", "😀",
                                                       "\u00a0", "\ufeff", ". ", "? ", "| ", "Mr. ", "U.S. "]
)
texts = st.lists(_alphabet, max_size=400).map("".join)
chunker_settings = st.builds(
    lambda m, o, s: ChunkerSettings(max_chars=m, overlap_sentences=o, max_sentence_chars=min(s, m)),
    st.integers(20, 300), st.integers(0, 3), st.integers(1, 300))


@settings(max_examples=300, deadline=None)
@given(text=texts, cfg=chunker_settings)
def test_chunk_invariants(text, cfg):
    sentences, chunks = chunk_text(text, "doc.txt", cfg)
    lines = LineIndex(text)
    # verbatim: every span is exactly the slice its offsets name, with the right lines
    for span in (*sentences, *chunks):
        assert 0 <= span.start_char < span.end_char <= len(text)
        assert text[span.start_char:span.end_char] == span.text
        assert span.start_line == lines.line_of(span.start_char)
        assert span.end_line == lines.line_of(span.end_char - 1)
        assert span.text == span.text.strip() or not span.text[0].isspace()
    # sentences are in order, do not overlap, fit their limit
    for a, b in zip(sentences, sentences[1:]):
        assert a.end_char <= b.start_char
    assert all(len(s.text) <= cfg.max_sentence_chars for s in sentences)
    # full coverage: every visible character is in some sentence and some chunk
    for c in chunks:
        assert len(c.text) <= cfg.max_chars
        assert c.text == text[sentences[c.first_sentence].start_char:sentences[c.last_sentence].end_char]
    assert_visible_text_covered(text, chunks)
    # chunks advance and overlap by at most the configured number of sentences
    for a, b in zip(chunks, chunks[1:]):
        assert a.first_sentence < b.first_sentence
        assert b.first_sentence <= a.last_sentence + 1
        assert a.last_sentence - b.first_sentence + 1 <= cfg.overlap_sentences


# Regions (pages, sections): random cut points over the same random texts.
regioned = st.tuples(texts, st.lists(st.integers(0, 400), max_size=6), chunker_settings)


@settings(max_examples=300, deadline=None)
@given(case=regioned)
def test_region_chunk_invariants(case):
    text, cuts, cfg = case
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    regions = [Region(a, b, page=i + 1, section=f"s{i}" if i % 2 else None)
               for i, (a, b) in enumerate(zip(bounds, bounds[1:]))] or [Region(0, 0, 1)]
    sentences, chunks = chunk_regions(text, "doc.pdf", regions, cfg)
    lines = LineIndex(text)
    where = {r.page: r for r in regions}
    for span in (*sentences, *chunks):
        assert text[span.start_char:span.end_char] == span.text
        assert (span.start_line, span.end_line) == (lines.line_of(span.start_char), lines.line_of(span.end_char - 1))
        r = where[span.page]  # each span lies inside the region whose page and section it carries
        assert r.start <= span.start_char < span.end_char <= r.end
        assert span.section == r.section
    assert [s.id for s in sentences] == list(range(len(sentences)))
    assert [c.id for c in chunks] == list(range(len(chunks)))
    for a, b in zip(sentences, sentences[1:]):
        assert a.end_char <= b.start_char
    for c in chunks:
        assert len(c.text) <= cfg.max_chars
        first, last = sentences[c.first_sentence], sentences[c.last_sentence]
        assert c.text == text[first.start_char:last.end_char]
        assert first.page == last.page == c.page  # a chunk never spans two regions
    assert_visible_text_covered(text, chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert a.first_sentence < b.first_sentence <= a.last_sentence + 1
        if a.page != b.page:
            assert b.first_sentence == a.last_sentence + 1  # no overlap across a boundary


def test_regions_cut_sentences_and_chunks_at_boundaries():
    text = "# Cats\nCats nap. Cats purr.\n# Dogs\nDogs bark."
    regions = [Region(0, 28, section="Cats"), Region(28, len(text), section="Dogs")]
    sentences, chunks = chunk_regions(text, "a.md", regions, ChunkerSettings(max_chars=100))
    assert [(c.text, c.section, c.start_char, c.end_char, c.start_line, c.end_line) for c in chunks] == [
        ("# Cats\nCats nap. Cats purr.", "Cats", 0, 27, 1, 2),
        ("# Dogs\nDogs bark.", "Dogs", 28, 45, 3, 4)]
    assert [(s.text, s.section, s.id) for s in sentences] == [
        ("# Cats", "Cats", 0), ("Cats nap.", "Cats", 1), ("Cats purr.", "Cats", 2),
        ("# Dogs", "Dogs", 3), ("Dogs bark.", "Dogs", 4)]
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 2), (3, 4)]
    # no regions: exactly chunk_text, with no page or section
    assert chunk_regions(text, "a.txt", []) == chunk_text(text, "a.txt")
    assert all(c.page is None and c.section is None for c in chunk_text(text, "a.txt")[1])


def test_fixed_windows_exact():
    text = "Alpha beta. Gamma delta epsilon.\nZeta eta theta iota."
    sentences, chunks = chunk_text(text, "x.txt", ChunkerSettings(max_chars=20, strategy="fixed", overlap_chars=5))
    # windows start every 20 - 5 = 15 characters; the last one stops at the end of the text
    assert [(c.start_char, c.end_char) for c in chunks] == [(0, 20), (15, 35), (30, 50), (45, 53)]
    assert [c.text for c in chunks] == ["Alpha beta. Gamma de", "ma delta epsilon.\nZe", "n.\nZeta eta theta io",
                                        "ta iota."]
    # the sentences wholly inside each window: "Alpha beta." in the first, none in the others
    assert [s.text for s in sentences] == ["Alpha beta.", "Gamma delta epsilon.", "Zeta eta theta iota."]
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 0), (2, 1), (2, 1), (3, 2)]
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 1), (1, 2), (1, 2), (2, 2)]


def test_fixed_settings_are_validated():
    import pytest

    with pytest.raises(ValueError, match="strategy"):
        ChunkerSettings(strategy="paragraphs")
    with pytest.raises(ValueError, match="overlap_chars"):
        ChunkerSettings(max_chars=100, strategy="fixed", overlap_chars=80)
    assert ChunkerSettings().to_dict()["strategy"] == "sentences"


@settings(max_examples=200, deadline=None)
@given(text=texts, size=st.integers(20, 200), overlap=st.integers(0, 10))
def test_fixed_chunk_invariants(text, size, overlap):
    cfg = ChunkerSettings(max_chars=size, strategy="fixed", overlap_chars=overlap)
    sentences, chunks = chunk_text(text, "doc.txt", cfg)
    lines = LineIndex(text)
    for c in chunks:
        assert 0 < len(c.text) <= size and text[c.start_char:c.end_char] == c.text
        assert (c.start_line, c.end_line) == (lines.line_of(c.start_char), lines.line_of(c.end_char - 1))
        for s in sentences[c.first_sentence:c.last_sentence + 1]:
            assert c.start_char <= s.start_char and s.end_char <= c.end_char
    assert_visible_text_covered(text, chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert a.start_char < b.start_char


def joined_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as read with hard-wrapped lines joined."""
    return [text[a:b] for a, b in split_sentences(text, join_wrapped=True)]


def test_lines_a_format_keeps_whole_run_into_nothing():
    # an Org headline looks like a list item whose body hangs at its text's column, a drawer line like prose
    from indexer.formats.org import OWN_LINES

    text = ("* DONE Planning meeting, 12 March   :planning:\n  :PROPERTIES:\n  :LOCATION: Room 4\n  :END:\n"
            "  The budget for the new storage cluster was approved at 40,000 euros and the\n"
            "  disks are ordered.\n")
    whole = [text[a:b] for a, b in split_sentences(text, join_wrapped=True, own_lines=OWN_LINES)]
    assert whole == ["* DONE Planning meeting, 12 March   :planning:", ":PROPERTIES:", ":LOCATION: Room 4", ":END:",
                     "The budget for the new storage cluster was approved at 40,000 euros and the\n"
                     "  disks are ordered."]
    assert len(joined_sentences(text)) == 1  # without them: one "sentence" from the headline on
    assert "own_lines" not in ChunkerSettings(own_lines=OWN_LINES).to_dict()  # the format's, not stored


def test_a_hard_wrapped_paragraph_is_read_as_sentences_not_lines():
    text = ("    Before the call, make sure that avail_in and avail_out are not zero. A Z_BUF_ERROR\n"
            "    may in fact be unavoidable depending on how the functions are used, so see\n"
            "    the manual.\n\n    Install it with the usual steps, which are the following ones:\n"
            "        make install\n# Title of a section that is long enough to be wrapped\nNext line.\n"
            "Short line one\nShort line two\n| a |\n| b |\n"
            + "A paragraph written on one line, as long as a paragraph is, well past any wrap column width"
            + " and ending.\nThe next paragraph.\n")
    assert joined_sentences(text) == [
        "Before the call, make sure that avail_in and avail_out are not zero.",
        "A Z_BUF_ERROR\n    may in fact be unavoidable depending on how the functions are used, so see"
        "\n    the manual.",
        "Install it with the usual steps, which are the following ones:", "make install",
        "# Title of a section that is long enough to be wrapped", "Next line.", "Short line one", "Short line two",
        "| a |", "| b |", text.splitlines()[-2], "The next paragraph."]
    by_line = [text[a:b] for a, b in split_sentences(text)]  # without join_wrapped: a line ends a sentence
    assert by_line[1:3] == ["A Z_BUF_ERROR",
                            "may in fact be unavoidable depending on how the functions are used, so see"]
    sentences, _ = chunk_text(text, "x.txt", ChunkerSettings(max_chars=300))
    assert (sentences[1].start_line, sentences[1].end_line) == (1, 3)


def test_a_rule_runs_on_into_no_line():
    # bash's CHANGES: a rule of dashes straight over a paragraph was the answer's first 78 characters
    rule = "-" * 78
    text = (f"4. New Features in Readline\n\n{rule}\nThis document details the changes between this version, "
            "bash-5.2-beta, and\nthe previous version, bash-5.2-alpha.\n\n* * *\nThe end.\n")
    assert joined_sentences(text)[2:] == [
        rule, "This document details the changes between this version, bash-5.2-beta, and\nthe previous version, "
        "bash-5.2-alpha.", "* * *", "The end."]


def test_a_paragraph_whose_first_line_is_indented_is_one_paragraph():
    # GNU Info manuals and plain-text licences indent a paragraph's first line only
    text = ("   The GDB debugger sources, the generic GNU include files, the BFD\n"
            "library and other libraries all have directories of their own\n"
            "underneath the gdb-VERSION directory.\n\n"
            "  Conveying under any other circumstances is permitted solely under\n"
            "the conditions stated below.  Sublicensing is not allowed; section 10\n"
            "makes it unnecessary.\n"
            "Next line of the same text, long enough to be a wrapped line, really.\n"
            "   but an indented line mid-paragraph opens something else, a quotation\n"
            "or a code block.\n\n"
            "              A man page's option text, indented far deeper than this\n"
            "NAME\n")
    assert joined_sentences(text) == [
        "The GDB debugger sources, the generic GNU include files, the BFD\n"
        "library and other libraries all have directories of their own\nunderneath the gdb-VERSION directory.",
        "Conveying under any other circumstances is permitted solely under\nthe conditions stated below.",
        "Sublicensing is not allowed; section 10\nmakes it unnecessary.",
        "Next line of the same text, long enough to be a wrapped line, really.",
        "but an indented line mid-paragraph opens something else, a quotation", "or a code block.",
        "A man page's option text, indented far deeper than this", "NAME"]


def test_a_list_item_runs_on_into_its_hanging_indented_lines_whatever_their_length():
    text = ("Ranges:\n\n"
            "2. 61184…65519 → UIDs for dynamic users are allocated from this range (see the\n"
            "   `DynamicUser=` documentation in\n"
            "   [`systemd.exec(5)`](https://example.org/systemd.exec.html)). This\n"
            "   range is below the 16bit boundary.\n"
            "3. The next item.\n"
            "       indented code, not the item's text\n"
            "- A bullet that is short\n"
            "  and goes on.\n\n"
            "   an indented line after a blank one\n")
    assert joined_sentences(text) == [
        "Ranges:",
        "2. 61184…65519 → UIDs for dynamic users are allocated from this range (see the\n"
        "   `DynamicUser=` documentation in\n"
        "   [`systemd.exec(5)`](https://example.org/systemd.exec.html)).",
        "This\n   range is below the 16bit boundary.",
        "3.", "The next item.",  # Bling Fire's cut (a gold range of the item's sentence leaves its number out)
        "indented code, not the item's text",
        "- A bullet that is short\n  and goes on.",
        "an indented line after a blank one"]
    # without join_wrapped a line still ends a sentence
    assert [text[a:b] for a, b in split_sentences(text)][2] == "`DynamicUser=` documentation in"


def test_an_item_numbered_in_levels_runs_on_into_its_hanging_indented_lines():
    # the Vim FAQ's question headings: "5.3. " hangs its wrapped lines at the text's column
    text = ("5.3. How do I save the current file in another name (save as) and edit a\n"
            "     new file?\n\n"
            "You can use the \":saveas\" command.\n")
    assert joined_sentences(text) == [
        "5.3.", "How do I save the current file in another name (save as) and edit a\n     new file?",
        "You can use the \":saveas\" command."]


def test_a_parenthesised_item_runs_on_into_its_hanging_indented_lines():
    # footnotes and clauses of a plain-text licence: "(2) ", "a) " hang their lines at the text's column
    text = ("(2) According to Richard Stallman, 1.6.1 is not GPL-compatible,\n"
            "    because its license has a choice of law clause.  According to\n"
            "    CNRI, however, it is not incompatible.\n\n"
            "a) in the case of the initial Contributor, the initial content\n"
            "   Distributed under this Agreement, and\n")
    assert joined_sentences(text) == [
        "(2) According to Richard Stallman, 1.6.1 is not GPL-compatible,\n"
        "    because its license has a choice of law clause.",
        "According to\n    CNRI, however, it is not incompatible.",
        "a) in the case of the initial Contributor, the initial content\n   Distributed under this Agreement, and"]
    # "(a)", "(b)" inside a wrapped sentence do not cut it
    assert joined_sentences("Hackers are likely to either (a) be apolitical, as most people who read this are, or\n"
                            "(b) entertain peculiar or idiosyncratic political ideas and try to live by them.\n") == [
        "Hackers are likely to either (a) be apolitical, as most people who read this are, or\n"
        "(b) entertain peculiar or idiosyncratic political ideas and try to live by them."]


def test_a_lettered_or_roman_item_runs_on_into_its_hanging_indented_lines():
    # a licence's or a contract's clauses: "g. ", "ii. ", "(iv) " hang their lines at the text's column
    text = ("  g. License Elements means the license attributes listed in the name\n"
            "     of a Creative Commons Public License.\n\n"
            "       ii. a copyright notice and a notice that refers to\n"
            "           this Public License;\n\n"
            "(iv) the rights of publicity, privacy and other\n"
            "     similar rights.\n")
    assert joined_sentences(text) == [
        "g.", "License Elements means the license attributes listed in the name\n"
        "     of a Creative Commons Public License.",
        "ii. a copyright notice and a notice that refers to\n           this Public License;",
        "(iv) the rights of publicity, privacy and other\n     similar rights."]


def test_a_line_that_stops_mid_clause_runs_on_whatever_its_length():
    # Markdown wrapped short before a code span; not inside a fenced code block
    text = ("To run the linter without running tests, use\n"
            "`make lint`/`vcbuild lint`. It will lint JavaScript.\n\n"
            "```sh\n"
            "pip install --upgrade pip wheel\n"
            "pip install quarry\n"
            "```\n\n"
            "The settings, one a line\n"
            "index-url = https://example.org/simple\n"
            "A title in plain text\n"
            "method: compression method\n"
            "Doing so can\nsignificantly slow it down.\n")
    assert joined_sentences(text) == [
        "To run the linter without running tests, use\n`make lint`/`vcbuild lint`.", "It will lint JavaScript.",
        "```sh", "pip install --upgrade pip wheel", "pip install quarry", "```",
        "The settings, one a line",  # "index-url = ..." opens no clause
        "index-url = https://example.org/simple", "A title in plain text",  # ends in a capital: a title
        "method: compression method",  # a label's value
        "Doing so can", "significantly slow it down."]  # shorter than a clause is read as one (20 characters)

    # a PDF's long line stopping on a comma runs on into a quotation that goes on with it (segmentation 7)
    question = ('With Memcheck\'s memory leak detector, what\'s the difference between "definitely lost", "indirectly'
                ' lost",\n"possibly lost", "still reachable", and "suppressed"?')
    assert joined_sentences(f"{question}\nThe details are in the manual.\n") == [question,
                                                                            "The details are in the manual."]
    fix = ('of a binary tree is "definitely lost", all the children will be "indirectly lost".) If you fix the'
           ' "definitely lost"\nleaks, the "indirectly lost" leaks should go away.')
    assert joined_sentences(fix + "\n")[-1] == fix[fix.index("If you"):]  # a word in quotes stops mid-clause too
    # ... in a line longer than a wrapped one only: settings one a line stay apart
    assert joined_sentences('set username "username"\nset hostname "your.host.name"\n') == [
        'set username "username"', 'set hostname "your.host.name"']


def test_a_bare_reply_is_one_sentence_with_the_one_after_it():
    # a FAQ answers "Yes." and goes on; shown alone, the next sentence leaves the answer out
    text = ("    Yes.  However any library routines that zlib uses must be thread-safe too.\n\n"
            "    No, sorry.  You have to spawn an uncompress or gunzip subprocess.\n\n"
            "No. 5 is the house. It is red. Is it? No. It is not.\n\nYes.\n")
    assert joined_sentences(text) == [
        "Yes.  However any library routines that zlib uses must be thread-safe too.",
        "No, sorry.  You have to spawn an uncompress or gunzip subprocess.",
        "No. 5 is the house.", "It is red.", "Is it?", "No. It is not.", "Yes."]


def test_a_title_that_stops_short_of_its_paragraph_is_a_sentence_of_its_own():
    # a numbered item's title, its text hanging under it; a title line over a paragraph written one a line
    text = ("    5. Works that do not meet our free software standards\n"
            "       We acknowledge that some of our users require the use of works that\n"
            "       do not conform to the Debian Free Software Guidelines. We have\n"
            "       created areas in our archive for these works.\n\n"
            "AI Models Are Becoming Commodities, Infrastructure Is Not\n"
            "The premise that AI models are becoming commodities while infrastructure is not rests on a reading "
            "of the market that few investors share, and it is argued at length below.\n")
    assert joined_sentences(text) == [
        "5.", "Works that do not meet our free software standards",
        "We acknowledge that some of our users require the use of works that\n"
        "       do not conform to the Debian Free Software Guidelines.",
        "We have\n       created areas in our archive for these works.",
        "AI Models Are Becoming Commodities, Infrastructure Is Not",
        "The premise that AI models are becoming commodities while infrastructure is not rests on a reading "
        "of the market that few investors share, and it is argued at length below."]
    # a wrapped line is not cut where the next word would not have fitted, nor where it leads on ("the"), nor
    # before a word in capitals (a licence's shouted clause), nor where a first line stops a few columns short
    # before a name (wrapped by hand: "Debian" / "Developers"), nor mid-paragraph ("Apache Software" / "Foundation")
    kept = ("  curl can be built to use one of the following SSL alternatives: OpenSSL,\n"
            "  libressl, BoringSSL, GnuTLS, wolfSSL, NSS, mbedTLS, Secure\n"
            "  Transport (native iOS/OS X), Schannel (native Windows), GSKit (native IBM\n"
            "  i), BearSSL, or Rustls.\n\n"
            "  Packages built for this release were signed by Debian\n"
            "  Developers using keys that the debian-keyring package lists as valid.\n\n"
            "  This program may be copied and changed by anyone under the same\n"
            "  conditions as the code of the Apache Software\n"
            "  Foundation's server, version two, reproduced below in full, unchanged.\n\n"
            "  The sections of this licence that apply to the\n"
            "  Software you received from the Licensor are listed below in the order of\n"
            "  their numbers.\n\n"
            "PSF MAKES NO AND DISCLAIMS ANY REPRESENTATION OR WARRANTY\n"
            "FITNESS FOR ANY PARTICULAR PURPOSE WHATSOEVER OR OF ANY OTHER KIND AT ALL.\n")
    assert joined_sentences(kept) == [
        "curl can be built to use one of the following SSL alternatives: OpenSSL,\n"
        "  libressl, BoringSSL, GnuTLS, wolfSSL, NSS, mbedTLS, Secure\n"
        "  Transport (native iOS/OS X), Schannel (native Windows), GSKit (native IBM\n"
        "  i), BearSSL, or Rustls.",
        "Packages built for this release were signed by Debian\n"
        "  Developers using keys that the debian-keyring package lists as valid.",
        "This program may be copied and changed by anyone under the same\n"
        "  conditions as the code of the Apache Software\n"
        "  Foundation's server, version two, reproduced below in full, unchanged.",
        "The sections of this licence that apply to the\n"
        "  Software you received from the Licensor are listed below in the order of\n"
        "  their numbers.",
        "PSF MAKES NO AND DISCLAIMS ANY REPRESENTATION OR WARRANTY\n"
        "FITNESS FOR ANY PARTICULAR PURPOSE WHATSOEVER OR OF ANY OTHER KIND AT ALL."]


def test_a_block_runs_to_the_blank_lines_around_it_whatever_its_lines_end_with():
    from indexer.sentences import block, paragraph

    text = "Intro.\n\n20.11. Special characters are not recognized.\n       How can I fix it?\n \nCheck it.\n"
    start = text.index("Special")
    end = text.index(" recognized.") + len(" recognized.")
    assert text[slice(*paragraph(text, start, end))] == "20.11. Special characters are not recognized."
    assert text[slice(*block(text, start, end))] == (
        "20.11. Special characters are not recognized.\n       How can I fix it?")
    assert text[slice(*block(text, 0, 3))] == "Intro."
    assert text[slice(*block(text, len(text) - 4, len(text) - 2))] == "Check it."



def test_a_sentence_runs_on_over_a_pdf_page_break():
    from indexer.formats.layout import page_regions
    from indexer.formats.pdf import PAGE_BREAK

    wrapped = "The survey of the northern coast went on through the spring and for the rest of the"
    pages = ["Preface.\n\n" + wrapped, "summer of that year. Its maps were printed\nin the autumn.",
             "A new chapter opens on this page.", "And this one too."]
    text, regions = page_regions(pages, PAGE_BREAK)
    sentences, chunks = chunk_regions(text, "a.pdf", regions, ChunkerSettings(max_chars=120))
    assert [(s.text.replace("\n\f\n", " / "), s.page) for s in sentences] == [
        ("Preface.", 1),
        (wrapped + " / summer of that year.", 1),  # one sentence over the break, cited by the page it starts on
        ("Its maps were printed\nin the autumn.", 2),
        ("A new chapter opens on this page.", 3),  # a page ending its paragraph ends its chunk, as before
        ("And this one too.", 4)]
    assert [(c.page, c.start_line, c.end_line) for c in chunks] == [
        (1, 1, 5), (1, 3, 5), (2, 5, 6), (3, 8, 8), (4, 10, 10)]
    for c in chunks:
        assert c.text == text[c.start_char:c.end_char]


def test_a_wrapped_line_may_open_with_a_word_in_emphasis():
    # Org's =verbatim= and *bold*, a "+FORMAT" wrapped from the line before go on with their paragraph; a list
    # item, an Org headline, a rule and a table's border open a block
    text = ("   This will prevent which-key from showing automatically, and allow you to use\n"
            "   =C-h= in the middle of a key sequence to show the buffer.\n\n"
            "The time style is given by the environment variable TIME_STYLE if it is set to\n"
            "+FORMAT in the usual way, as the other styles are.\n\n"
            "A paragraph of prose that is long enough to have been wrapped by its editor here\n"
            "* an item\n\n"
            "A paragraph of prose that is long enough to have been wrapped by its editor here\n"
            "+----------+\n")
    assert joined_sentences(text) == [
        "This will prevent which-key from showing automatically, and allow you to use\n"
        "   =C-h= in the middle of a key sequence to show the buffer.",
        "The time style is given by the environment variable TIME_STYLE if it is set to\n"
        "+FORMAT in the usual way, as the other styles are.",
        "A paragraph of prose that is long enough to have been wrapped by its editor here", "* an item",
        "A paragraph of prose that is long enough to have been wrapped by its editor here", "+----------+"]
