"""The benchmark's corpora: folders of different kinds, each with its gold questions.

A corpus is a folder of documents and a gold file: the seeds (``seeds/``, ``eval/gold/seeds.jsonl``)
and every ``eval/corpora/NAME/`` that has an ``eval/gold/NAME.jsonl`` (provenance and licence in
``eval/corpora/NAME.md``; how each question set was made in ``docs/corpora.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eval.gold import DEFAULT_GOLD

CORPORA_DIR = Path(__file__).resolve().parent / "corpora"
GOLD_DIR = DEFAULT_GOLD.parent
SEEDS_GOLD = DEFAULT_GOLD
FAST_BYTES = 120_000  # a corpus this small indexes in well under a minute here: CI runs these


@dataclass(frozen=True)
class Corpus:
    """A named folder of documents and the gold questions about it."""

    name: str
    documents: Path
    gold: Path

    @property
    def size(self) -> int:
        """Bytes of documents (what indexing time goes with)."""
        return sum(p.stat().st_size for p in self.documents.rglob("*") if p.is_file())

    @property
    def fast(self) -> bool:
        return self.size <= FAST_BYTES


def corpora(root: str | os.PathLike | None = None, gold_dir: str | os.PathLike | None = None) -> list[Corpus]:
    """The seeds first, then every folder under ``root`` (default ``eval/corpora``) with a gold file of
    its name in ``gold_dir`` (default ``eval/gold``), by name."""
    from indexer.paths import default_seeds_dir

    found = [Corpus("seeds", default_seeds_dir(), SEEDS_GOLD)]
    root = Path(root or CORPORA_DIR)
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            gold = Path(gold_dir or GOLD_DIR) / f"{folder.name}.jsonl"
            if gold.is_file() and folder.name != "seeds":
                found.append(Corpus(folder.name, folder, gold))
    return found


def index_root(given: str | os.PathLike | None = None) -> Path:
    """Where the corpora's evaluation indexes are kept: ``given``, else ``~/.cache/quarry/eval-corpora``."""
    from indexer.paths import cache_dir

    return Path(given) if given else cache_dir() / "eval-corpora"


def select(names: list[str] | None, available: list[Corpus]) -> list[Corpus]:
    """The corpora named (``fast``: those small enough for CI; none: all), in the order available.
    Raises KeyError naming an unknown one."""
    if not names or names == ["all"]:
        return list(available)
    by_name = {c.name: c for c in available}
    chosen: set[str] = set()
    for n in names:
        if n == "fast":
            chosen.update(c.name for c in available if c.fast)
        elif n in by_name:
            chosen.add(n)
        else:
            raise KeyError(f"no corpus {n!r}; known: {', '.join(by_name)} (or fast, all)")
    return [c for c in available if c.name in chosen]
