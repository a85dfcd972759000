"""Held-out checks: corpora made here that nothing is fitted or tuned on (docs/corpora.md).

Each check (``faq2``, ``mdfaq``, ``htmlfaq``) takes FAQs from pinned Debian packages, writes them to ``WORK/docs`` and
its gold questions to ``WORK/gold.jsonl``; what they share is here.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

# name -> (package=version, path under usr/share of the unpacked packages, sha256 of the decompressed text)
Sources = Mapping[str, tuple[str, str, str]]


APT_HINT = " (a pinned version apt does not know yet may need `apt-get update` first)"


def texts(work: Path, sources: Sources) -> Iterator[tuple[str, str]]:
    """(name, text) of every source, downloaded and unpacked under ``work`` once and checked against its
    pinned hash (the rules that cut a text were written for that text); any failure is a one-line exit."""
    from eval.qamodel.mine import unpack

    try:  # eval.qamodel.mine's: apt-get download into work/debs (once), dpkg-deb -x into work/root
        share = unpack(work, [spec for spec, _, _ in sources.values()])
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"error: could not download or unpack the FAQs' packages into {work}: {e}{APT_HINT}")
    for name, (spec, rel, sha) in sources.items():
        try:
            text = gzip.open(share / rel, "rt", encoding="utf-8").read()
        except OSError as e:
            sys.exit(f"error: could not read {share / rel} ({spec}): {e}")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest != sha:
            sys.exit(f"error: {share / rel} is not the text of {spec} (sha256 {digest}, expected {sha})")
        print(f"{name}: {spec} {rel} sha256 {digest}")
        yield name, text


class Gold:
    """The gold rows of a check (each answer a character range of its written file) and what was left out."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.rows: list[dict] = []
        self.counts: collections.Counter = collections.Counter()

    def add(self, name: str, question: str, start: int, end: int) -> None:
        self.counts[name, "gold"] += 1
        self.rows.append({"id": f"{self.prefix}_{len(self.rows) + 1:03d}", "question": question, "answers": [],
                          "ranges": [[start, end]], "source": name, "kind": "factual", "split": "test"})

    def write(self, path: Path) -> None:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows), encoding="utf-8")
        for (name, what), n in sorted(self.counts.items()):
            print(f"  {name}: {n} {what}")
        print(f"{len(self.rows)} questions -> {path}")


def cli(prog: str, doc: str | None, main: Callable[[Path, bool], None]) -> None:
    """``python -m PROG --work DIR [--keep-headings]``."""
    p = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="where the packages, texts and gold file go")
    p.add_argument("--keep-headings", action="store_true",
                   help="leave each question heading in the text, before its answer (the FAQ as a user has it)")
    args = p.parse_args()
    main(args.work, args.keep_headings)
