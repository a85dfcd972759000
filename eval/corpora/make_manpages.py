"""Writes the ``manpages`` corpus: ten GNU man pages from Debian packages rendered to plain text.

    python3 eval/corpora/make_manpages.py [EXTRACTED_ROOT]

EXTRACTED_ROOT is a folder where the packages were unpacked (``apt-get download coreutils grep
gzip findutils`` then ``dpkg-deb -x PKG.deb EXTRACTED_ROOT`` for each); without it the script
downloads and unpacks them into a temporary folder itself. Each page is rendered by man-db with
``MANWIDTH=80 man --nh --nj -l -Tutf8 PAGE.1.gz | col -bx`` (no hyphenation, ragged right, so
words are never split across lines) and written to ``eval/corpora/manpages/PAGE.txt``.
Provenance and licences: ``eval/corpora/manpages.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ("coreutils", "grep", "gzip", "findutils")
PAGES = ("grep", "xargs", "gzip", "sort", "ls", "cp", "chmod", "date", "dd", "timeout")
OUT = Path(__file__).resolve().parent / "manpages"


def unpack(root: Path) -> None:
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=root, check=True)
    for deb in sorted(root.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root / "x")], check=True)


def render(page: Path) -> str:
    env = {**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"}
    troff = subprocess.run(["man", "--nh", "--nj", "-l", "-Tutf8", str(page)], env=env, check=True,
                           capture_output=True).stdout
    text = subprocess.run(["col", "-bx"], input=troff, env=env, check=True, capture_output=True).stdout
    return text.decode("utf-8")


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if argv:
            man1 = Path(argv[0]) / "usr/share/man/man1"
        else:
            unpack(Path(tmp))
            man1 = Path(tmp) / "x/usr/share/man/man1"
        OUT.mkdir(exist_ok=True)
        for name in PAGES:
            src = man1 / f"{name}.1.gz"
            if not src.is_file():
                print(f"no man page {src}", file=sys.stderr)
                return 1
            (OUT / f"{name}.txt").write_text(render(src), encoding="utf-8")
            print(f"{name}.txt", (OUT / f"{name}.txt").stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
