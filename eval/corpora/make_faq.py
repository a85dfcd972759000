"""Make the `faq` corpus from two FAQs that Debian installs: each question heading is taken out of
the text and becomes a gold question whose answer is the character range of its answer body.

    python3 eval/corpora/make_faq.py    # writes eval/corpora/faq/*.txt and eval/gold/faq.jsonl

Sources (see eval/corpora/faq.md): zlib1g-dev's FAQ and xz-utils' faq.txt.
On-topic questions the FAQs do not answer, and off-topic ones, are written by hand in HAND below.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "faq"
GOLD = HERE.parent / "gold" / "faq.jsonl"
SOURCES = {
    "zlib.txt": "/usr/share/doc/zlib1g-dev/FAQ.gz",
    "xz.txt": "/usr/share/doc/xz-utils/faq.txt.gz",
}
# written by hand, before quarry was run on the corpus: on the FAQs' topics but not answered there,
# and questions about something else entirely
HAND = [
    ("unanswerable", "What is the maximum compression level that xz supports on Windows ARM64?"),
    ("unanswerable", "How much faster is zlib-ng than zlib?"),
    ("unanswerable", "Who founded the company that sells zlib support contracts?"),
    ("unanswerable", "Does xz run natively on Windows 11 without Cygwin?"),
    ("unanswerable", "What is the price of a commercial zlib licence for embedded devices?"),
    ("unanswerable", "Which version of xz fixed the 2024 backdoor?"),
    ("unanswerable", "How do I compress a folder with xz in the macOS Finder?"),
    ("unanswerable", "What compression ratio does zlib reach on JPEG photos?"),
    ("unanswerable", "Can zlib compress data on a GPU?"),
    ("unanswerable", "How many people maintain zlib today?"),
    ("unanswerable", "Is there an official Rust port of liblzma?"),
    ("unanswerable", "How much memory does xz -9 use when decompressing on 32-bit ARM?"),
    ("unanswerable", "Which Linux distribution first shipped xz as its default package compression?"),
    ("unanswerable", "What is the zlib dictionary size used by PNG encoders in browsers?"),
    ("off-topic", "How long should I boil an egg for a soft yolk?"),
    ("off-topic", "Who won the football World Cup in 1998?"),
    ("off-topic", "What is the capital of Australia?"),
    ("off-topic", "How do I repot an orchid?"),
    ("off-topic", "What are the symptoms of the common cold?"),
    ("off-topic", "Which planet has the most moons?"),
    ("off-topic", "How do I change a flat bicycle tyre?"),
    ("off-topic", "asdkjh qwpoeiru zxcmvn"),
    ("off-topic", "What about bananas?"),
    ("off-topic", "Recommend a good science fiction novel."),
    ("off-topic", "How tall is the Eiffel Tower?"),
    ("off-topic", "lorem ipsum dolor sit amet"),
    ("off-topic", "What is the best time of year to visit Japan?"),
    ("off-topic", "How many calories are in an apple?"),
]


def entries_zlib(text: str):
    """(heading, body) pairs: ' N. heading' lines (continued until a blank line), the body after."""
    return split(text, re.compile(r"^ ?\d{1,2}\. \S.*(?:\n {4}\S.*)*$", re.M))


def entries_xz(text: str):
    return split(text, re.compile(r"^Q:  .*(?:\n {4}\S.*)*$", re.M), strip=r"^A:  ")


def split(text: str, heading: re.Pattern, strip: str | None = None):
    """The text before the first heading, then (heading, body) for each heading."""
    marks = list(heading.finditer(text))
    head = text[:marks[0].start()] if marks else text
    out = []
    for i, m in enumerate(marks):
        body = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        if strip:
            body = re.sub(strip, "    ", body, flags=re.M)
        out.append((m.group(0), body))
    return head, out


PARSERS = {"zlib.txt": entries_zlib, "xz.txt": entries_xz}


def question_of(heading: str) -> str:
    q = re.sub(r"^(?:Q:|\d+(?:\.\d+)?\.)\s*", "", heading.strip())
    return re.sub(r"\s+", " ", q).strip()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    n = 0
    for name, src in SOURCES.items():
        text = gzip.open(src, "rt", encoding="utf-8").read()
        head, entries = PARSERS[name](text)
        parts, ranges = [head.rstrip() + "\n\n"], []
        pos = len(parts[0])
        for heading, body in entries:
            core = body.strip("\n")
            sep = re.search(r"^-{10,}", core, re.M)  # a rule of dashes closes an entry
            stripped = (core[:sep.start()] if sep else core).strip()
            lead = core.find(stripped[:1]) if stripped else 0
            start = pos + lead
            ranges.append((question_of(heading), start, start + len(stripped)))
            parts.append(core + "\n\n")
            pos += len(core) + 2
        written = "".join(parts)
        (OUT / name).write_text(written, encoding="utf-8")
        for q, a, b in ranges:
            if b - a < 20 or len(q) < 8:
                continue  # an empty or pointer-only entry, or a heading that says nothing
            n += 1
            assert written[a:b].strip() == written[a:b]
            rows.append({"id": f"faq{n:03d}", "question": q, "answers": [], "ranges": [[a, b]], "source": name,
                         "kind": "factual", "split": "dev" if n % 2 else "test"})
    for kind, q in HAND:
        n += 1
        rows.append({"id": f"faq{n:03d}", "question": q, "answers": [], "source": None, "kind": kind,
                     "split": "dev" if n % 2 else "test"})
    GOLD.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} questions ({sum(r['source'] is not None for r in rows)} answerable) -> {GOLD}")


if __name__ == "__main__":
    main()
