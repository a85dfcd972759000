"""Make the held-out `faq2` check from three plain-text FAQs that Debian 12 installs: each question
heading is taken out of the text and becomes a gold question whose answer is the character range of
its answer body (as eval/corpora/make_faq.py does for the `faq` corpus).

    python -m eval.heldout.faq2 --work DIR     # writes DIR/docs/*.txt and DIR/gold.jsonl
    python -m eval.heldout.faq2 --work DIR --keep-headings   # the same, each question heading left in
    python -m eval --gold DIR/gold.jsonl --corpus DIR/docs --split test --config hybrid+span+rerank

It is no benchmark corpus: nothing is fitted, tuned or written from it (nor is the answer model
trained on these FAQs: eval.qamodel.mine_more mines them, and that was not shipped).

Sources: chrony's FAQ, libcurl4-doc's FAQ (curl's), slrn's FAQ, downloaded with
`apt-get download PKG=VERSION` into DIR/debs and unpacked with `dpkg-deb -x` into DIR/root. Licences:
chrony's FAQ GPL-2, curl's the curl licence (MIT-style), slrn's GPL-2 or later (each package's
debian/copyright); the texts are not copied into this repository.

Per file: the table of contents (which repeats every question) is dropped, section headings ("3. Usage")
are kept as text, and every numbered entry heading ("3.2 How do I ...?", wrapped lines included) is
removed. A gold row is written for each entry whose heading ends in "?" (a real question), whose
question has at least 8 characters and whose body at least 20; the body is the text from the end of
the heading to the next heading of either kind (or the file's end marker), stripped of whitespace.
With ``--keep-headings`` each question heading stays in the text, before its body (the FAQ as a user
has it: the heading is then the sentence closest to its question, and must not be the answer); the
gold ranges are the same bodies. All rows are split "test": this corpus is for evaluation only, never for tuning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from eval.heldout import Gold, Sources, cli, texts

# name -> (package=version, path under usr/share of the unpacked packages, sha256 of the decompressed text)
SOURCES: Sources = {
    "chrony.txt": ("chrony=4.3-2+deb12u3", "doc/chrony/FAQ.gz",
                   "908b7d9c65fb463bf690410407897dfb35d7e6c7e2b8393b6d0b3079b8d2294d"),
    "curl.txt": ("libcurl4-doc=7.88.1-10+deb12u15", "doc/libcurl4/FAQ.gz",
                 "ea04285124d63c0afab900816c5f84fedbde027d3d6b24b5a50807e64b90343d"),
    "slrn.txt": ("slrn=1.0.3+dfsg-6+b1", "doc/slrn/FAQ.gz",
                 "6ba51db7fc6cee944f1a793c96cefc18d4f16421ba157714e0d13a2ec1a77e63"),
}

# per file: where the kept head ends (the table of contents starts), a section heading, an entry
# heading (its first line; the lines up to the next blank line continue it), and an optional end marker
# (text from there on is kept but belongs to no body)
FORMATS = {
    "chrony.txt": dict(toc=r"^Table of Contents$",
                       section=r"^\d+\. \S.*$",
                       entry=r"^\d+\.\d+\. \S.*$",
                       end=r"^Last updated \d{4}-\d\d-\d\d.*$"),
    "curl.txt": dict(toc=r"^ 1\. Philosophy$",
                     section=r"^\d+\. \S.*$",
                     entry=r"^ {1,2}\d+\.\d+ \S.*$",
                     end=None),
    "slrn.txt": dict(toc=r"^  Table of Contents$",
                     section=r"^  \d+\.  \S.*$",
                     entry=r"^  \d+(?:\.\d+)+\.  \S.*$",
                     end=None),
}


def marks(text: str, fmt: dict, start: int):
    """(kind, start, end) of the section headings, entry headings and end marker at or after ``start``,
    in order; an entry heading runs on to the line before the next blank line."""
    found = []
    for kind in ("section", "entry", "end"):
        if not fmt[kind]:
            continue
        for m in re.finditer(fmt[kind], text, re.M):
            if m.start() < start or (m.start() > 0 and text[m.start() - 1:m.start()] != "\n"):
                continue
            if m.start() >= 2 and text[m.start() - 2] != "\n":
                continue  # a heading follows a blank line (else: a wrapped line that starts with a number)
            end = m.end()
            if kind == "entry":
                while True:
                    nxt = text.find("\n", end + 1)
                    line = text[end + 1:nxt if nxt >= 0 else len(text)]
                    if not line.strip() or end >= len(text):
                        break
                    end = nxt if nxt >= 0 else len(text)
            found.append((kind, m.start(), end))
    found.sort(key=lambda t: t[1])
    return found


def question_of(heading: str) -> str:
    q = re.sub(r"(?<=[a-z])-\n\s*(?=[a-z])", "", heading)  # a word hyphenated across lines (slrn)
    q = re.sub(r"^\s*\d+(?:\.\d+)*\.?\s+", "", q)
    return re.sub(r"\s+", " ", q).strip()


def build(name: str, text: str, keep_headings: bool = False, formats: dict | None = None):
    """The written text and the (question, start, end) of every entry; with ``keep_headings`` the entry
    headings stay in the text (the FAQ as a user has it), each before its body. ``formats``: the files'
    formats (default :data:`FORMATS`); where one has ``content``, the entries start at its first match
    after the table of contents, else at the first section heading after a blank line."""
    fmt = (formats or FORMATS)[name]
    toc = re.search(fmt["toc"], text, re.M)
    head = text[:toc.start()].rstrip()
    if fmt.get("content"):
        content = re.compile(fmt["content"], re.M).search(text, toc.end()).start()
    else:
        first_section = re.compile(fmt["section"], re.M)
        content = next(m for m in first_section.finditer(text, toc.end()) if text[m.start() - 2] == "\n").start()
    ms = marks(text, fmt, content)
    parts, entries = [head.strip("\n") + "\n\n"], []
    pos = len(parts[0])
    for i, (kind, a, b) in enumerate(ms):
        nxt = ms[i + 1][1] if i + 1 < len(ms) else len(text)
        if kind == "entry":
            chunk = text[a if keep_headings else b:nxt].strip("\n")
            body = text[b:nxt].strip()
            lead = chunk.find(body[:1], b - a if keep_headings else 0) if body else 0
            entries.append((question_of(text[a:b]), pos + lead, pos + lead + len(body)))
        else:
            chunk = text[a:nxt].strip("\n")  # a section heading and its intro, or the end marker
        if chunk:
            parts.append(chunk + "\n\n")
            pos += len(chunk) + 2
    assert not text[content:ms[0][1]].strip()
    return "".join(parts).rstrip("\n") + "\n", entries


def write(work: Path, prefix: str, sources: Sources, formats: dict, keep_headings: bool,
          asks: Callable[[str], bool]) -> None:
    """The FAQs of ``sources`` written to ``work/docs`` and their gold rows (``prefix``) to ``work/gold.jsonl``:
    an entry whose heading ``asks``, whose question has at least 8 characters and whose body at least 20."""
    out = work / "docs"
    out.mkdir(parents=True, exist_ok=True)
    gold = Gold(prefix)
    for name, text in texts(work, sources):
        written, entries = build(name, text, keep_headings, formats)
        (out / name).write_text(written, encoding="utf-8")
        for q, a, b in entries:
            assert written[a:b].strip() == written[a:b]
            assert keep_headings or q not in written  # the heading is gone from the text
            if not asks(q):
                gold.counts[name, "not a question"] += 1
            elif b - a < 20 or len(q) < 8:
                gold.counts[name, "too short"] += 1
            else:
                gold.add(name, q, a, b)
    gold.write(work / "gold.jsonl")


def main(work: Path, keep_headings: bool = False) -> None:
    write(work, "faq2", SOURCES, FORMATS, keep_headings, lambda q: q.endswith("?"))


if __name__ == "__main__":
    cli("python -m eval.heldout.faq2", __doc__, main)
