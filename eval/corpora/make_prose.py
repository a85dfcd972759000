"""Write the `prose` corpus (eval/corpora/prose/) from two Debian packages, verbatim.

    python3 eval/corpora/make_prose.py [DEB_DIR]

DEB_DIR holds debian-history_2.28_all.deb and jargon-text_4.4.7-4.1_all.deb (fetched there with
``apt-get download debian-history jargon-text`` when missing). The files written are:

- debian-history.txt: "A Brief History of Debian" (docs/project-history.en.txt.gz), whole.
- jargon-culture.txt, jargon-folklore.txt, jargon-portrait.txt: the Jargon File 4.4.7's chapters 1-3
  (hacker culture, slang and jargon, revision history), appendix A (hacker folklore, with The Story
  of Mel) and appendix B (a portrait of J. Random Hacker), each cut between two of its own headings.

Provenance and licences: eval/corpora/prose.md.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "prose"
DEBS = {"debian-history": "debian-history_2.28_all.deb", "jargon-text": "jargon-text_4.4.7-4.1_all.deb"}
HISTORY = "usr/share/doc/debian-history/docs/project-history.en.txt.gz"
JARGON = "usr/share/doc/jargon-text/jargon.txt.gz"
# (file written, first heading kept, heading that ends it), headings as the text spells them at a line start
JARGON_PARTS = (
    ("jargon-culture.txt", r"Chapter\s1\.\sHacker Slang and Hacker Culture", r"Chapter\s4\.\sJargon Construction"),
    ("jargon-folklore.txt", r"Appendix\sA\.\sHacker Folklore", r"Appendix\sB\.\sA Portrait of J\. Random Hacker"),
    ("jargon-portrait.txt", r"Appendix\sB\.\sA Portrait of J\. Random Hacker",
     r"Appendix\sC\.\sHelping Hacker Culture Grow"),
)


def unpack(deb: Path, member: str, into: Path) -> str:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True)
    return gzip.decompress((into / member).read_bytes()).decode("utf-8")


def between(text: str, start: str, end: str) -> str:
    a = re.search(rf"^{start}\n", text, re.M)
    b = re.search(rf"^{end}\n", text, re.M)
    if not a or not b or b.start() <= a.start():
        sys.exit(f"heading not found: {start!r} .. {end!r}")
    return text[a.start():b.start()].rstrip() + "\n"


def main(argv: list[str]) -> int:
    debs = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="prose-debs-"))
    missing = [pkg for pkg, name in DEBS.items() if not (debs / name).is_file()]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        history = unpack(debs / DEBS["debian-history"], HISTORY, Path(tmp))
        jargon = unpack(debs / DEBS["jargon-text"], JARGON, Path(tmp))
    (OUT / "debian-history.txt").write_text(history, encoding="utf-8")
    for name, start, end in JARGON_PARTS:
        (OUT / name).write_text(between(jargon, start, end), encoding="utf-8")
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
