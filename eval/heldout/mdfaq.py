"""Make the held-out `mdfaq` check from three Markdown FAQs that Debian 12 installs: each question
heading (an ATX heading, ``### Why ...?``) is taken out of the text and becomes a gold question whose
answer is the character range of its answer body (as eval.heldout.faq2 does for plain-text FAQs).

    python -m eval.heldout.mdfaq --work DIR     # writes DIR/docs/*.md and DIR/gold.jsonl
    python -m eval.heldout.mdfaq --work DIR --keep-headings   # the same, each question heading left in
    python -m eval --gold DIR/gold.jsonl --corpus DIR/docs --split test --config hybrid+span+rerank

It is no benchmark corpus: nothing is fitted, tuned or written from it (nor is the answer model
trained on these FAQs: none of them is in eval.qamodel.mine or eval.qamodel.mine_more).

Sources: JavaCC's FAQ (javacc-doc), etcd's FAQ (etcd-server), termshark's FAQ (termshark), downloaded
with `apt-get download PKG=VERSION` into DIR/debs and unpacked with `dpkg-deb -x` into DIR/root.
Licences (each package's debian/copyright, `Files: *`): javacc-doc BSD-3-clause (the FAQ itself says
"copyright (c) Theodore S. Norvell"), etcd-server Apache-2.0, termshark Expat; the texts are not
copied into this repository.

Per file: ATX headings are found outside fenced code blocks. A table of contents (a heading "Contents"
or "Table of Contents" and the text up to the next heading, which repeats every question) is dropped.
Every heading whose text, with its Markdown and HTML markup stripped (and a leading "Q." or "Q:"),
ends in "?" is removed, the whole line; every other heading stays in the text as it is. The body of a
removed heading is the text from its end to the next heading of any level (or the file's end), stripped
of whitespace and of thematic breaks ("---") and "<br>" lines at its two ends. A gold row is written
for each whose question has at least 8 characters and whose body at least 20, not only code (fenced
or indented). The blocks between headings are joined with one blank line.

With ``--keep-headings`` each question heading stays in the text, before its body (the FAQ as a user
has it: the heading is then the sentence closest to its question, and must not be the answer); the
gold ranges are the same bodies. All rows are split "test": this corpus is for evaluation only, never for tuning.
"""

from __future__ import annotations

import re
from pathlib import Path

from eval.heldout import Gold, Sources, cli, texts
from indexer.text import HTML_TAG

# name -> (package=version, path under usr/share of the unpacked packages, sha256 of the decompressed text)
SOURCES: Sources = {
    "javacc.md": ("javacc-doc=7.0.12-1", "doc/javacc/faq.md.gz",
                  "caed8b890b9e94244cc8c120a6ecb133ef69e42312065894a73ab331c5381242"),
    "etcd.md": ("etcd-server=3.4.23-4+b4", "doc/etcd-server/faq.md.gz",
                "26f9d281edb6b8f744a90c465ecabeb8a70b9dadc615d8819d44d0cace364afb"),
    "termshark.md": ("termshark=2.4.0-1+b6", "doc/termshark/FAQ.md.gz",
                     "06fdfb333025592898b1caf51ee077a19df8512d4be61795a33edb84b93a8965"),
}

ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+.*)?$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
TOC = re.compile(r"(?:table of )?contents", re.I)
EDGE = re.compile(r"^[ \t]*(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|<br[ \t]*/?>)[ \t]*$")


def headings(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ATX heading line outside fenced code blocks (end: before its newline)."""
    found, fence, pos = [], None, 0
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = None
        elif m:
            fence = m.group(1)
        elif ATX.match(line):
            found.append((pos, pos + len(line)))
        pos += len(line) + 1
    return found


def plain(heading: str) -> str:
    """A heading line's text without its markup: #'s, HTML tags, links, emphasis, backticks, "Q."."""
    t = re.sub(r"^ {0,3}#{1,6}", "", heading)
    t = re.sub(r"[ \t]+#+[ \t]*$", "", t)
    t = HTML_TAG.sub("", t)  # not "listen-<client,peer>-urls"
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", t)
    t = re.sub(r"!?\[([^\]]*)\]\[[^\]]*\]", r"\1", t)
    t = re.sub(r"\*\*|__|`", "", t)
    t = re.sub(r"(?<!\w)[*_](?=\S)(.*?)(?<=\S)[*_](?!\w)", r"\1", t)
    t = re.sub(r"^\s*Q[.:]\s+", "", t)
    return re.sub(r"\s+", " ", t).strip()


def body_span(block: str) -> tuple[int, int]:
    """The body's (start, end) in ``block``: whitespace, thematic breaks and <br> lines off both ends."""
    a, b = 0, len(block)
    while True:
        while a < b and block[a].isspace():
            a += 1
        while b > a and block[b - 1].isspace():
            b -= 1
        nl = block.find("\n", a, b)
        first = block[a:nl if nl >= 0 else b]
        last = block[block.rfind("\n", a, b) + 1:b]
        if a < b and EDGE.match(first):
            a += len(first)
        elif a < b and EDGE.match(last):
            b -= len(last)
        else:
            return a, b


def only_code(body: str) -> bool:
    prose = re.sub(r"(?ms)^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$", "", body)
    prose = re.sub(r"(?m)^(?: {4}|\t).*$", "", prose)
    return not prose.strip()


def build(text: str, keep_headings: bool = False):
    """The written text and the (question, start, end) of every question heading's body; with
    ``keep_headings`` the question headings stay in the text (the FAQ as a user has it)."""
    marks = headings(text)
    parts, entries, pos = [], [], 0
    for i, (a, b) in enumerate([(0, 0), *marks]):
        nxt = marks[i][0] if i < len(marks) else len(text)
        q = plain(text[a:b])
        if i and TOC.fullmatch(q):
            continue  # the table of contents: heading and list
        if i and q.endswith("?"):
            body = text[b:nxt].strip("\n")
            s, e = body_span(body)
            block = text[a:nxt].strip("\n") if keep_headings else body
            lead = block.find(body) if keep_headings else 0
            entries.append((q, pos + lead + s, pos + lead + e))
        else:
            block = text[a:nxt].strip("\n")  # a kept heading and its text (or the text before the first)
        if block:
            parts.append(block + "\n\n")
            pos += len(block) + 2
    return "".join(parts).rstrip("\n") + "\n", entries


def main(work: Path, keep_headings: bool = False) -> None:
    out = work / "docs"
    out.mkdir(parents=True, exist_ok=True)
    gold = Gold("mdfaq")
    for name, text in texts(work, SOURCES):
        written, entries = build(text, keep_headings)
        (out / name).write_text(written, encoding="utf-8")
        for q, a, b in entries:
            body = written[a:b]
            assert body.strip() == body
            if b - a < 20 or len(q) < 8:
                gold.counts[name, "too short"] += 1
            elif only_code(body):
                gold.counts[name, "only code"] += 1
            else:
                if q in written and not keep_headings:
                    gold.counts[name, "also in the text (kept)"] += 1
                gold.add(name, q, a, b)
    gold.write(work / "gold.jsonl")


if __name__ == "__main__":
    cli("python -m eval.heldout.mdfaq", __doc__, main)
