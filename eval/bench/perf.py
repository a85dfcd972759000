"""Indexing and query benchmark: indexer throughput against bare encoding, query latency, memory.

``python -m eval.bench.perf`` prints:

* indexing: a full build of the corpus (``build_index(..., rebuild=True, onnx=False)``), timed, against
  ``SentenceTransformer.encode`` alone on exactly the texts the indexer embeds: every distinct
  sentence text (single pass: chunk vectors are pooled from their sentences', not embedded; with
  ``onnx=False`` torch embeds), read back from the index it built, in the same order and batch size. The ratio is
  bare time / indexer time (1.0: the indexer adds nothing to the encoding; goal >= 0.9); the ONNX
  export a default build adds (once per index, whatever the corpus size) is timed apart;
* warm query latency: ``Retriever.ask`` in process, p50/p95 over the gold questions (goal p50 <= 15 ms),
  with the question-embedding share shown apart, for the default query encoder (the index's ONNX
  export, as ``ask`` and the server use) and for the torch model;
* cold ``ask``: wall time of a fresh ``python -m retriever`` process answering one question;
* peak memory: the largest resident set of this process and of the cold ``ask`` process.

Figures taken on a busy machine are provisional.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.metrics import percentile


def _best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def embedded_texts(index_dir: Path) -> list[str]:
    """The distinct texts the indexer embedded, in its order (per document: its sentences)."""
    from indexer.indexdir import IndexStore

    store = IndexStore(index_dir)
    seen: dict[str, None] = {}
    for d in store.documents():
        rec = store.load_document(d["source"])
        for item in rec.sentences:
            seen.setdefault(item.text, None)
    store.close()
    return list(seen)


def bench_indexing(corpus: Path, work: Path, encoder, repeat: int, batch_size: int) -> dict:
    from indexer.build import build_index

    index_dir = work / "index"
    reports = []

    def build(onnx: bool):
        reports.append(build_index(corpus, index_dir, encoder=encoder, rebuild=True, progress=False,
                                   batch_size=batch_size, onnx=onnx))

    # the embedding pipeline alone (no ONNX export), then the full build a user runs (with the export,
    # a one-off cost per index that does not grow with the corpus), which leaves the index in place
    t_index = _best_of(repeat, lambda: build(False))
    t_full = _best_of(repeat, lambda: build(True))
    texts = embedded_texts(index_dir)
    model = encoder.model
    t_bare = _best_of(repeat, lambda: model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                                   convert_to_numpy=True, show_progress_bar=False))
    r = reports[-1]
    return {
        "documents": r.documents, "chunks": r.chunks, "sentences": r.sentences, "texts_embedded": len(texts),
        "index_s": t_index, "full_build_s": t_full, "onnx_export_s": max(0.0, t_full - t_index),
        "bare_encode_s": t_bare,
        "indexer_chunks_per_s": r.chunks / t_index, "indexer_texts_per_s": len(texts) / t_index,
        "bare_texts_per_s": len(texts) / t_bare, "ratio": t_bare / t_index, "index_dir": str(index_dir),
    }


def bench_queries(index_dir: Path, encoder, questions: list[str], rounds: int) -> dict:
    """Warm ``ask`` latency with ``encoder`` (None: the default, the index's ONNX export)."""
    from retriever.pipeline import Retriever
    from retriever.settings import RetrieverSettings

    retriever = Retriever.open(settings=RetrieverSettings(index_dir=index_dir), encoder=encoder)
    for q in questions[:5]:
        retriever.ask(q, k=5)  # warm-up: first calls pay for lazy set-up
    total, embed = [], []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            retriever.embed(q)
            t1 = time.perf_counter()
            retriever.ask(q, k=5)
            t2 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            total.append((t2 - t1) * 1000)
    return {"queries": len(total), "p50_ms": percentile(total, 50), "p95_ms": percentile(total, 95),
            "embed_p50_ms": percentile(embed, 50), "embed_p95_ms": percentile(embed, 95)}


_CHILD = """
import atexit, runpy, sys
def peak():
    try:
        with open("/proc/self/status") as fh:
            kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"PEAK_RSS_KB {kb}", file=sys.stderr)
atexit.register(peak)
sys.argv = ["ask"] + sys.argv[1:]
runpy.run_module("retriever", run_name="__main__")
"""


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM on Linux, else ru_maxrss), in MB."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_cold_ask(index_dir: Path, question: str) -> dict:
    """A new ``ask`` process answering one question: wall time and its own peak memory (measured
    inside it: a forked child would otherwise inherit the parent's high-water mark)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, "--index-dir", str(index_dir), "--json", question],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cold ask failed: {proc.stderr.strip()[:300]}")
    kb = next((int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KB")), 0)
    return {"cold_ask_s": wall, "cold_ask_peak_rss_mb": kb / 1024}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.perf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None, help="folder to index (default: seeds/)")
    p.add_argument("--gold", default=None, help="questions for the latency run (default: the seeds gold file)")
    p.add_argument("--repeat", type=int, default=3, help="timed builds / encodes (best of)")
    p.add_argument("--rounds", type=int, default=3, help="passes over the questions for latency")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", metavar="PATH", default=None)
    args = p.parse_args(argv)

    from eval.gold import DEFAULT_GOLD, load_gold
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.paths import default_seeds_dir

    corpus = Path(args.corpus) if args.corpus else default_seeds_dir()
    questions = [q.question for q in load_gold(args.gold or DEFAULT_GOLD)]
    t0 = time.perf_counter()
    encoder = SentenceTransformerEncoder()
    encoder.encode(["warm up"])
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        idx = bench_indexing(corpus, Path(tmp), encoder, args.repeat, args.batch_size)
        qry = bench_queries(Path(idx["index_dir"]), None, questions, args.rounds)
        torch_q = bench_queries(Path(idx["index_dir"]), encoder, questions, args.rounds)
        qry.update({f"torch_{k}": v for k, v in torch_q.items()})
        cold = bench_cold_ask(Path(idx["index_dir"]), questions[0])
    peak_mb = peak_rss_mb()
    out = {"corpus": str(corpus), "model_load_s": load_s, **idx, **qry, **cold, "peak_rss_mb": peak_mb,
           "cpus": os.cpu_count()}
    out.pop("index_dir")
    print(f"corpus {corpus}: {idx['documents']} documents, {idx['chunks']} chunks, {idx['sentences']} sentences, "
          f"{idx['texts_embedded']} distinct texts embedded (chunks and sentences)\n")
    print("| measure | value | goal |\n|---|---:|---|")
    rows = [
        ("indexer (read, chunk, embed, write), chunks/s", f"{out['indexer_chunks_per_s']:.1f}", ""),
        ("indexer, texts embedded/s", f"{out['indexer_texts_per_s']:.1f}", ""),
        ("bare SentenceTransformer.encode on the same texts, texts/s", f"{out['bare_texts_per_s']:.1f}", ""),
        ("indexer / bare throughput", f"{out['ratio']:.2f}", ">= 0.9"),
        ("ONNX export of the model (once per index), s", f"{out['onnx_export_s']:.1f}", ""),
        ("warm ask p50 / p95, ms (ONNX query encoder: `ask`, server)",
         f"{out['p50_ms']:.1f} / {out['p95_ms']:.1f}", "p50 <= 15"),
        ("  of which question embedding p50 / p95, ms", f"{out['embed_p50_ms']:.1f} / {out['embed_p95_ms']:.1f}",
         ""),
        ("warm ask p50 / p95, ms (torch query encoder)",
         f"{out['torch_p50_ms']:.1f} / {out['torch_p95_ms']:.1f}", ""),
        ("  of which question embedding p50 / p95, ms",
         f"{out['torch_embed_p50_ms']:.1f} / {out['torch_embed_p95_ms']:.1f}", ""),
        ("cold `ask` (new process, one question), s", f"{out['cold_ask_s']:.2f}", ""),
        ("model load in process, s", f"{load_s:.2f}", ""),
        ("peak RSS, this process (build + queries), MB", f"{peak_mb:.0f}", ""),
        ("peak RSS, cold `ask` process, MB", f"{out['cold_ask_peak_rss_mb']:.0f}", ""),
    ]
    for name, value, goal in rows:
        print(f"| {name} | {value} | {goal} |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
