"""Make the held-out `htmlfaq` check from an HTML FAQ as Sphinx writes it: Django's FAQ pages (Debian 12's
python-django-doc), each question heading (``<h2>``/``<h3>`` ending in "?") asked as it stands, its answer
the character range of the section under it in the extracted text (what the index stores and cites).

    python -m eval.heldout.htmlfaq --work DIR     # writes DIR/docs/*.html and DIR/gold.jsonl
    python -m eval --gold DIR/gold.jsonl --corpus DIR/docs --split test --config hybrid+span+rerank

It is no benchmark corpus: nothing is fitted, tuned or written from it. The shipped answer model was not
trained on it (Django's FAQ is among eval.qamodel.mine_more's pairs, which were tried and not shipped).

Source: python-django-doc 3:3.2.25-0+deb12u7 (BSD-3-clause, debian/copyright `Files: *`), downloaded with
`apt-get download` into DIR/debs and unpacked with `dpkg-deb -x` into DIR/root; the eight FAQ pages
(not index.html) are copied unchanged, so a user's folder of them is what is asked; the texts are not
copied into this repository.

The questions are the headings as the page has them (the FAQ as a user has it: the heading is the
sentence closest to its question and must not be the answer). The gold ranges index the text quarry
extracts from each page (indexer.formats.html): for each section (``Region``) whose own title ends in "?",
the text from the line after its heading's line to the section's end, trailing white space cut; a body under 20
characters is left out. The ranges follow the extractor of the tree that makes them: remake the check
after a change to it. All rows are split "test".
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from eval.heldout import APT_HINT, Gold

PACKAGE = "python-django-doc=3:3.2.25-0+deb12u7"
FAQ = "doc/python-django-doc/html/faq"
# page -> sha256 of the file as the package installs it
PAGES = {
    "admin.html": "7e3888ba6d77f95c4dde28c0f436069f9f4d1fc8b2f4ad5e1bd7dabc56b00011",
    "contributing.html": "58a3e29fe9f8c6ada61ffe44cbf8c8e824d2ebf559329b1760398e74532e5fa3",
    "general.html": "32a745ff99215210b8f1d13fce655325731e25903ee9788638150d78433069aa",
    "help.html": "722ee48a48262bae48c56e2ea2e60ead58fb5f45ec019c15dba69f7cdbd65f23",
    "install.html": "aa027e995eb6c68a8f34c2b6def382f5c622501f6cea0a033780c53e38bb8f42",
    "models.html": "dbdca9bac82d106f7e82d862952901ceeaf365cc93287a976b06563bd3c8af32",
    "troubleshooting.html": "fe55dab113a4f201be7235103c9505a0ec8c6fa68d0a917134a05c4cb4f43ecb",
    "usage.html": "b2166c1f3662a9127a65f1a08c8e380b299de1d882954ac425b08b21124c81d1",
}


def entries(name: str, data: bytes) -> list[tuple[str, int, int]]:
    """(question, start, end) of every question heading's section body in the page's extracted text."""
    from indexer.formats.html import extract

    ex = extract(name, data)
    out = []
    for r in ex.regions:
        title = (r.section or "").rsplit(" > ", 1)[-1].strip()
        at = ex.text.find(title, r.start, r.end)  # the heading's line (a region may open with its parent's)
        line_end = ex.text.find("\n", at, r.end) if at >= 0 else -1
        if not title.endswith("?") or line_end < 0:
            continue
        start, end = line_end + 1, r.end
        while end > start and ex.text[end - 1].isspace():
            end -= 1
        out.append((title, start, end))
    return out


def main(work: Path) -> None:
    from eval.qamodel.mine import unpack

    try:
        share = unpack(work, [PACKAGE])
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"error: could not download or unpack {PACKAGE} into {work}: {e}{APT_HINT}")
    out = work / "docs"
    out.mkdir(parents=True, exist_ok=True)
    gold = Gold("htmlfaq")
    for name, sha in PAGES.items():
        path = share / FAQ / name
        try:
            data = path.read_bytes()
        except OSError as e:
            sys.exit(f"error: could not read {path} ({PACKAGE}): {e}")
        if hashlib.sha256(data).hexdigest() != sha:
            sys.exit(f"error: {path} is not the page of {PACKAGE} (sha256 {hashlib.sha256(data).hexdigest()})")
        shutil.copyfile(path, out / name)
        for q, a, b in entries(name, data):
            if b - a < 20:
                gold.counts[name, "too short"] += 1
            else:
                gold.add(name, q, a, b)
    gold.write(work / "gold.jsonl")


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m eval.heldout.htmlfaq", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="where the package, pages and gold file go")
    main(p.parse_args().work)
