"""``python -m eval --corpora --peers``: passage retrieval on every corpus, quarry beside the peer libraries.

Each peer (:mod:`eval.peers`) ranks the chunks of the same quarry index as the corpus's own run, so
this costs one pass over the questions per peer and corpus, no indexing. Only passage figures are
compared (hit@1, hit@5, MRR@10, latency): a peer picks no answer span.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eval.harness import CONFIGS, DEFAULT_CONFIG, PEER_CONFIGS, evaluate
from eval.loco import macro
from eval.metrics import summarize

PASSAGE_COLUMNS = (("hit@1", "hit@1", "{:.3f}"), ("hit@5", "hit@5", "{:.3f}"), ("mrr@10", "MRR@10", "{:.3f}"),
                   ("p50_ms", "p50 ms", "{:.1f}"), ("p95_ms", "p95 ms", "{:.1f}"))
RANKING = ("hit@1", "hit@5", "mrr@10")  # what "ahead" compares
SHIPPED = f"{DEFAULT_CONFIG} (default)"
LOCO = f"{DEFAULT_CONFIG} (default, LOCO)"
HYBRID = "hybrid"

LEGEND = f"""\
{SHIPPED}: quarry as `ask` ships, the figures of the table of each corpus above
{LOCO}: the same with the answer scorer fitted on the other corpora (its re-rank orders the passages by
  their best sentence's score, which is fitted; latency left out: questions embedded beforehand)
{HYBRID}: quarry's BM25 + dense fusion alone (no answer scorer, no re-rank)
peers (eval/peers.py): other libraries ranking the very chunks of the same index, with their own settings
Passage retrieval fits nothing per corpus, so the peer and hybrid rows need no leave-one-corpus-out; the
  default's re-rank does use the fitted scorer (shipped: fitted on the dev questions of the six shipped
  corpora), hence its LOCO row. (RRF and re-rank weights were set on the seeds' dev split once.)
hit@1, hit@5, MRR@10 over answerable questions; p50/p95 ms: one call, questions embedded by the torch
  model where the system embeds them (the BM25 peers do not); macro average: each corpus counts the same"""


def peer_configs():
    """The peers over the default sentence chunks (the fixed-500 bm25s row would need another index)."""
    default = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG)
    return [c for c in PEER_CONFIGS if c.chunker == default.chunker]


def passage_only(metrics: dict, latency: bool = True) -> dict:
    """The passage columns of ``metrics`` (latency None where ``latency`` is False)."""
    return {key: (metrics.get(key) if latency or not key.endswith("_ms") else None) for key, _, _ in PASSAGE_COLUMNS}


def run_others(parts: Sequence, k: int, say: Callable[[str], None]) -> list[dict[str, dict]]:
    """For each part: quarry's hybrid and every peer over its index and questions, by name -> metrics.
    Raises PeerMissing (a QuarryError) when a peer library is not installed."""
    from eval.peers import open_peer

    hybrid = next(c for c in CONFIGS if c.name == HYBRID)
    out = []
    for p in parts:
        found = {}
        for name, peer in ((HYBRID, None), *((c.name, c.peer) for c in peer_configs())):
            say(f"{p.corpus.name}: passages by {name} ...")
            if peer is None:
                answerer = p.retriever.with_config(**hybrid.changes)
            else:
                answerer = open_peer(peer, p.retriever.index, p.retriever.encoder)
            records = evaluate(answerer, p.questions, k=k, progress=f"{p.corpus.name}: {name}")
            found[name] = passage_only(summarize([r.outcome for r in records]))
        out.append(found)
    return out


def systems(names: Sequence[str], shipped: Sequence[dict], loco: Sequence[dict],
            others: Sequence[dict[str, dict]]) -> list[tuple[str, dict[str, dict]]]:
    """(corpus name, system -> passage metrics) for each corpus, quarry's rows first."""
    return [(name, {SHIPPED: passage_only(s), LOCO: passage_only(lo, latency=False), **o})
            for name, s, lo, o in zip(names, shipped, loco, others)]


def macros(by_corpus: Sequence[tuple[str, dict[str, dict]]]) -> dict[str, dict]:
    """Each system's macro average over the corpora."""
    names = list(by_corpus[0][1]) if by_corpus else []
    return {s: macro([rows[s] for _, rows in by_corpus]) for s in names}


def cells(metrics: dict) -> list[str]:
    return ["–" if metrics.get(key) is None else fmt.format(metrics[key]) for key, _, fmt in PASSAGE_COLUMNS]


def long_table(by_corpus: Sequence[tuple[str, dict[str, dict]]]) -> str:
    """A row per corpus and system, then a macro-average row per system."""
    lines = ["| corpus | system | " + " | ".join(t for _, t, _ in PASSAGE_COLUMNS) + " |",
             "|---|---|" + "---:|" * len(PASSAGE_COLUMNS)]
    for corpus, rows in by_corpus:
        lines += [f"| {corpus} | {s} | " + " | ".join(cells(m)) + " |" for s, m in rows.items()]
    lines += [f"| **macro average** | {s} | " + " | ".join(cells(m)) + " |" for s, m in macros(by_corpus).items()]
    return "\n".join(lines)


def wide_table(by_corpus: Sequence[tuple[str, dict[str, dict]]]) -> str:
    """A row per system, a column per corpus and the macro average: hit@1 / hit@5 / MRR@10."""
    def cell(m):
        return " / ".join("–" if m.get(k) is None else f"{m[k]:.3f}" for k in RANKING)

    av = macros(by_corpus)
    lines = ["| system | " + " | ".join(c for c, _ in by_corpus) + " | macro |",
             "|---|" + "---:|" * (len(by_corpus) + 1)]
    for s in av:
        lines.append(f"| {s} | " + " | ".join(cell(rows[s]) for _, rows in by_corpus) + f" | {cell(av[s])} |")
    return "\n".join(lines)


def ahead(by_corpus: Sequence[tuple[str, dict[str, dict]]], base: str) -> list[str]:
    """Where a peer scores above ``base``: a line per corpus (and the macro average) and metric."""
    lines = []
    for corpus, rows in [*by_corpus, ("macro average", macros(by_corpus))]:
        for key in RANKING:
            mine = rows[base].get(key)
            if mine is None:
                continue
            better = [(s, m[key]) for s, m in rows.items()
                      if s not in (SHIPPED, LOCO, HYBRID) and m.get(key) is not None and m[key] > mine]
            if better:
                shown = ", ".join(f"{s} {v:.3f}" for s, v in sorted(better, key=lambda x: -x[1]))
                lines.append(f"  {corpus}, {key} (default {mine:.3f}): {shown}")
    return lines


def report(by_corpus: Sequence[tuple[str, dict[str, dict]]]) -> str:
    """The section ``--corpora --peers`` prints after the leave-one-corpus-out table."""
    out = ["Passage retrieval beside the peers, each corpus (the same chunks, the same judge):\n",
           long_table(by_corpus), "", "hit@1 / hit@5 / MRR@10 by corpus:\n", wide_table(by_corpus), ""]
    for base in (SHIPPED, LOCO):
        lines = ahead(by_corpus, base)
        out.append(f"Peers ahead of {base}:" + ("" if lines else " none"))
        out += lines
    out += ["", LEGEND]
    return "\n".join(out)
