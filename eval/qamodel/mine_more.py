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
import json
import random
import re
import subprocess
import sys
from pathlib import Path

from eval.qamodel.mine import MAX_PER_FILE, prose, qa_pairs, text_of
from indexer.sentences import split_sentences

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
    if rel.endswith(".html"):
        return "\n\n".join(line.replace("\u00b6", "").strip() for line in text.split("\n"))
    if rel.endswith((".rst", ".rst.txt")):
        return _RST_UNDERLINE.sub("", text)
    return text


def mine_more(work: Path) -> Path:
    debs, root = work / "debs-more", work / "root-more"
    debs.mkdir(parents=True, exist_ok=True)
    if not any(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    share = root / "usr" / "share"
    pairs: list[dict] = []
    for rel in FAQS:
        n0, seen = len(pairs), set()
        for q, body in qa_pairs(blocks(rel, text_of(share / rel))):
            sents = [" ".join(body[a:b].split()) for a, b in split_sentences(body, join_wrapped=True)]
            good = [s for s in sents if prose(s)]
            if len(" ".join(good)) < 40 or q in seen:
                continue
            seen.add(q)
            pairs.append({"source": rel, "question": q, "sentences": good[:12]})
        if len(pairs) - n0 > MAX_PER_FILE:
            sub = pairs[n0:]
            random.Random(0).shuffle(sub)
            pairs[n0:] = sub[:MAX_PER_FILE]
        print(f"{rel}: {len(pairs) - n0} pairs", file=sys.stderr)
    out = work / "pairs-more.json"
    out.write_text(json.dumps(pairs, indent=0, ensure_ascii=False), encoding="utf-8")
    print(f"{len(pairs)} pairs in {out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m eval.qamodel.mine_more", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True)
    mine_more(p.parse_args().work)
