"""Fusing ranked lists: reciprocal rank fusion, min-max normalised score fusion and interleaving."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

Ranking = Sequence[tuple[int, float]]  # (id, score), best first
T = TypeVar("T")


def rrf(
    rankings: Sequence[Ranking], k: float = 60.0, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for w, ranking in zip(weights, rankings):
        for rank, (doc, _) in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


def minmax(ranking: Ranking) -> dict[int, float]:
    """Scores rescaled to [0, 1] within the list (all 1.0 if they are equal)."""
    if not ranking:
        return {}
    scores = [s for _, s in ranking]
    lo, hi = min(scores), max(scores)
    if hi == lo:
        return {d: 1.0 for d, _ in ranking}
    return {d: (s - lo) / (hi - lo) for d, s in ranking}


def score_fusion(rankings: Sequence[Ranking], weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores; a list that misses a document adds 0 for it."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for w, ranking in zip(weights, rankings):
        for doc, s in minmax(ranking).items():
            fused[doc] = fused.get(doc, 0.0) + w * s
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


def interleave(first: Sequence[T], second: Sequence[T], key: Callable[[T], Hashable]) -> list[T]:
    """Both lists, taken in turns from ``first`` (its best first), each item once (by ``key``): the
    first, second, first, ... unseen item, then what is left of either."""
    out: list[T] = []
    seen: set[Hashable] = set()
    heads = [iter(first), iter(second)]
    turn, dry = 0, 0
    while dry < 2:
        for item in heads[turn % 2]:
            if key(item) not in seen:
                seen.add(key(item))
                out.append(item)
                dry = 0
                break
        else:
            dry += 1
        turn += 1
    return out
