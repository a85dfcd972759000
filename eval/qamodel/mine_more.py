"""690 more (question, answer sentences) pairs from the FAQs of 20 more Debian packages (tried 2026-12-06,
not shipped: docs/corpora.md, "Tried: calibration, more candidates, more answer-model data").

    python -m eval.qamodel.mine_more --work DIR     # writes DIR/pairs-more.json

Then train on both files: ``eval.qamodel.train.train([DIR/pairs.json, DIR/pairs-more.json], OUT)``.
The text is read as :mod:`eval.qamodel.mine` reads it, with two changes for these files: HTML whose
extracted text has no blank line between blocks (Sphinx, DocBook) gets one after every line, with the
Sphinx heading mark removed; reStructuredText headings lose their underlines. None of these is a
benchmark corpus or a reserved text.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from eval.qamodel.mine import faq_pairs, unpack, write_pairs

PACKAGES = ("borgbackup-doc", "cvs", "lftp", "chrony", "python-sqlalchemy-doc", "gettext-doc", "python-django-doc",
            "gpm", "restic", "zsh-doc", "r-doc-html", "screen", "procmail", "mplayer-doc", "libcurl4-doc",
            "valgrind", "fish-common", "sphinx-doc", "slrn", "jed-common")
FAQS = ("doc/borgbackup/html/_sources/faq.rst.txt", "doc/cvs/FAQ.gz", "doc/lftp/FAQ", "doc/chrony/FAQ.gz",
        *(f"doc/python-sqlalchemy-doc/rst/faq/{n}.rst" for n in
          "connections installation metadata_schema ormconfiguration performance sessions sqlexpressions "
          "thirdparty".split()),
        "doc/gettext/FAQ.html",
        *(f"doc/python-django-doc/html/faq/{n}.html" for n in
          "admin contributing general help install models troubleshooting usage".split()),
        "doc/gpm/FAQ.gz", "doc/restic/html/_sources/faq.rst.txt",
        *(f"doc/zsh-common/html/FAQ0{i}.html" for i in range(1, 7)),
        "doc/r-doc-html/manual/R-FAQ.html", "doc/screen/FAQ.gz", "doc/procmail/FAQ",
        "doc/mplayer/HTML/en/faq.html", "doc/libcurl4/FAQ.gz", "doc/valgrind/FAQ.txt.gz",
        "doc/fish/faq.html", "doc/sphinx-doc/html/_sources/faq.rst.txt", "doc/slrn/FAQ.gz",
        "jed/doc/txt/jed_faq.txt")
_RST_UNDERLINE = re.compile(r"(?m)^[=\-~^\"'`#*+]{3,}\s*$")


def blocks(rel: str, text: str) -> str:
    """The text of the FAQ file ``rel`` made ready for :func:`eval.qamodel.mine.qa_pairs`: a blank line
    after every line of HTML (no heading mark), reStructuredText without its heading underlines."""
    if rel.endswith(".html"):
        return "\n\n".join(line.replace("\u00b6", "").strip() for line in text.split("\n"))
    if rel.endswith((".rst", ".rst.txt")):
        return _RST_UNDERLINE.sub("", text)
    return text


def mine_more(work: Path) -> Path:
    """Mine the pairs into ``work/pairs-more.json`` and return its path."""
    return write_pairs(faq_pairs(unpack(work, PACKAGES, "-more"), FAQS, blocks), work / "pairs-more.json")


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m eval.qamodel.mine_more", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True)
    mine_more(p.parse_args().work)
