"""Make the held-out `faq3` check from the Vim FAQ as Debian 12 installs it (vim-doc), 372 questions, some of
whose headings are more than one sentence ("2.9. I have a patch for implementing a Vim feature. Where do I
send the patch?"): each question heading is taken out of the text and becomes a gold question whose answer is
the character range of its answer body (as eval.heldout.faq2 does).

    python -m eval.heldout.faq3 --work DIR     # writes DIR/docs/*.txt and DIR/gold.jsonl
    python -m eval.heldout.faq3 --work DIR --keep-headings   # the same, each question heading left in
    python -m eval --gold DIR/gold.jsonl --corpus DIR/docs --split test --config hybrid+span+rerank

It is no benchmark corpus: nothing is fitted, tuned or written from it (nor is the answer model trained on
this FAQ: it is in neither eval.qamodel.mine nor eval.qamodel.mine_more).

Source: vim-doc's FAQ, downloaded with `apt-get download PKG=VERSION` into DIR/debs and unpacked with
`dpkg-deb -x` into DIR/root. Licence (debian/copyright): the Vim licence; the text is not copied into this
repository.

The index (which repeats every question) is dropped; the section headings ("SECTION 2 - RESOURCES" under a
rule of "=") are kept as text, and every numbered entry heading ("2.5. I have ...", wrapped lines included)
is removed. A gold row is written for each entry whose heading holds a "?", whose question has at least 8
characters and whose body at least 20. With ``--keep-headings`` each heading stays in the text, before its
body; the gold ranges are the same bodies. All rows are split "test".
"""

from __future__ import annotations

from pathlib import Path

from eval.heldout import Sources, cli
from eval.heldout.faq2 import write

SOURCES: Sources = {
    "vim.txt": ("vim-doc=2:9.0.1378-2+deb12u2", "doc/vim/FAQ.gz",
                "3984cb50c71c383665087ae2b84ea07397ce6b9eca339919a318658062dc4ff3"),
}

# per file: where the kept head ends (the index starts), where the entries start, a section heading, an
# entry heading (its first line; the lines up to the next blank line continue it)
FORMATS = {
    "vim.txt": dict(toc=r"^INDEX$", content=r"^={20,}$", section=r"^={20,}$", entry=r"^\d+\.\d+\. \S.*$", end=None),
}


def main(work: Path, keep_headings: bool = False) -> None:
    write(work, "faq3", SOURCES, FORMATS, keep_headings, lambda q: "?" in q)


if __name__ == "__main__":
    cli("python -m eval.heldout.faq3", __doc__, main)
