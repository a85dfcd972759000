"""The vector search layer alone: exact vs HNSW vs IVF on synthetic (or real) unit vectors.

    python -m eval.bench.vector --sizes 10000,100000,1000000
    python -m eval.bench.vector --real bench-out/corpus-index/sentence_vectors.npy --sizes 100000

For each size and index kind: build time and memory, file size, open time and resident memory
with and without memory-mapping, single-query latency (p50/p95) and recall@10 against exact
search, over a sweep of efSearch (HNSW) and nprobe (IVF). The indexes are built and read with
quarry's own code (:mod:`indexer.indexdir.vectors`), so the figures are those of the product.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.measure import MemorySampler, rss_mb
from indexer.indexdir.vectors import MAX_DEAD_SHARE

log = logging.getLogger(__name__)


def synthetic(n: int, dim: int = 384, seed: int = 0, clusters: int = 1024, sub: int = 32,
              spread: float = 0.8, noise: float = 1.0, shared: float = 1.0, block: int = 100_000) -> np.ndarray:
    """``n`` unit vectors shaped like sentence embeddings rather than uniform noise.

    Topics are ``clusters`` centres in a random ``sub``-dimensional subspace (embeddings have a
    low intrinsic dimension); a vector is its topic's centre plus Gaussian spread in that
    subspace, plus isotropic noise in all ``dim`` dimensions, plus a direction all vectors share,
    normalised. The defaults were fitted to MiniLM sentence vectors of the Python documentation
    (25,000 of them): mean top-1/top-10 similarity 0.74/0.64 here vs 0.78/0.61 there, HNSW
    recall@10 at efSearch 16/32/64 0.96/0.98/1.00 vs 0.95/0.98/0.99, IVF at nprobe 4/8/16
    0.81/0.86/0.91 vs 0.81/0.86/0.91 (docs/scaling.md). The same ``seed`` always gives the same
    vectors, and the first ``n`` rows of a larger set are the set of size ``n``.
    """
    shape_rng = np.random.default_rng(12345)
    basis = shape_rng.standard_normal((sub, dim)).astype(np.float32) / np.sqrt(sub)
    centres = shape_rng.standard_normal((clusters, sub)).astype(np.float32)
    common = shape_rng.standard_normal(dim).astype(np.float32)
    common *= np.float32(shared * np.sqrt(sub) / np.linalg.norm(common))  # a direction every vector leans to
    out = np.empty((n, dim), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        m = min(block, n - start)
        z = centres[rng.integers(0, clusters, m)] + spread * rng.standard_normal((m, sub), dtype=np.float32)
        x = z @ basis + noise * rng.standard_normal((m, dim), dtype=np.float32) * np.float32(np.sqrt(sub / dim))
        x += common
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def rss() -> float:
    """Anonymous resident memory of this process in MB (what an index read into RAM adds; a mapped file
    shows in RssFile instead)."""
    return rss_mb("RssAnon")


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean fraction of the true top-k found in the top-k (ids below 0 count as misses)."""
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth))


def _latency(index, queries: np.ndarray, k: int, params) -> tuple[np.ndarray, dict[str, float]]:
    """Search one query at a time, as the server does; ids and latency percentiles in ms."""
    ids = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        _, found = index.search(q.reshape(1, -1), k, params=params)
        times.append(time.perf_counter() - t)
        ids[i] = found[0]
    ms = np.array(times) * 1000
    return ids, {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3),
                 "mean_ms": round(float(ms.mean()), 3)}


def bench_size(base: np.ndarray, queries: np.ndarray, kinds: list[str], ef_values: list[int],
               nprobe_values: list[int], workdir: Path, k: int = 10, search_threads: int = 1) -> list[dict[str, Any]]:
    import faiss

    from indexer.indexdir.vectors import VectorSettings, build_faiss, read_faiss, search_params

    n = len(base)
    build_threads = faiss.omp_get_max_threads()
    t = time.perf_counter()
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    _, truth = exact.search(queries, k)
    truth_s = time.perf_counter() - t
    del exact
    rows = []
    for kind in kinds:
        path = workdir / f"{kind}-{n}.faiss"
        gc.collect()
        before = rss()
        t = time.perf_counter()
        with MemorySampler() as sampler:
            info = build_faiss(base, path, VectorSettings(kind=kind))
        build_s = time.perf_counter() - t
        build_mb = sampler.peak()[0] - before  # anonymous memory the build added at its peak
        for mmap in (True, False):
            gc.collect()
            before = rss()
            t = time.perf_counter()
            index = read_faiss(path, mmap=mmap)
            open_ms = (time.perf_counter() - t) * 1000
            opened_mb = rss() - before
            sweep = ef_values if kind == "hnsw" else nprobe_values if kind == "ivf" else [None]
            for value in sweep:
                params = search_params(index, info, ef_search=value if kind == "hnsw" else None,
                                       nprobe=value if kind == "ivf" else None)
                faiss.omp_set_num_threads(search_threads)
                found, lat = _latency(index, queries, k, params)
                faiss.omp_set_num_threads(build_threads)
                row = {"n": n, "kind": kind, "mmap": mmap, "param": value,
                       "recall@10": round(recall_at(found, truth, k), 4),
                       **lat, "build_s": round(build_s, 1), "file_mb": round(path.stat().st_size / 1e6, 1),
                       "open_ms": round(open_ms, 1), "anon_rss_after_open_mb": round(opened_mb, 1),
                       "anon_rss_after_search_mb": round(rss() - before, 1), "truth_s": round(truth_s, 1),
                       "build_peak_anon_mb": round(build_mb, 1)}
                rows.append(row)
                name = {"hnsw": "efSearch", "ivf": "nprobe"}.get(kind, "")
                print(f"n={n:>8} {kind:5s} {'mmap' if mmap else 'ram ':4s} {name}={value if value else '-':<4} "
                      f"recall@10={row['recall@10']:.4f} p50={lat['p50_ms']:.3f} ms p95={lat['p95_ms']:.3f} ms "
                      f"build={row['build_s']} s (+{row['build_peak_anon_mb']:.0f} MB) file={row['file_mb']} MB "
                      f"open={row['open_ms']} ms "
                      f"anon RSS +{row['anon_rss_after_open_mb']:.0f} MB "
                      f"(after search +{row['anon_rss_after_search_mb']:.0f})",
                      flush=True)
            del index
        path.unlink()
    return rows


def bench_update(base: np.ndarray, queries: np.ndarray, kind: str, share: float, workdir: Path, k: int = 10,
                 search_threads: int = 1) -> dict[str, Any]:
    """An incremental update of an HNSW or IVF index as ``build_index`` does it: ``share`` of the chunks
    (one per document) changed, so their old vectors become tombstones and their new ones are added
    after the kept ones. Times the full build and the in-place update; recall@10 of the updated index."""
    import faiss

    from indexer.indexdir.vectors import (
        FAISS_IDS,
        PositionMap,
        PreviousFaiss,
        VectorSettings,
        build_faiss,
        read_faiss,
        search_params,
    )

    n, dim = base.shape
    settings = VectorSettings(kind=kind)
    (workdir / "old").mkdir(exist_ok=True)
    (workdir / "new").mkdir(exist_ok=True)
    old_path, new_path = workdir / "old" / "v.faiss", workdir / "new" / "v.faiss"
    t = time.perf_counter()
    info = build_faiss(base, old_path, settings)
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(7)
    changed = np.zeros(n, dtype=bool)
    changed[rng.choice(n, int(share * n), replace=False)] = True
    kept = np.flatnonzero(~changed)
    fresh = synthetic(int(changed.sum()), dim, seed=2)  # the changed chunks' new vectors
    new = np.concatenate([base[kept], fresh])
    # runs of kept rows: (old first id, count, new first id), as IndexWriter.copy records them
    starts = np.flatnonzero(np.diff(np.concatenate([[-2], kept])) != 1)
    ends = np.concatenate([starts[1:], [len(kept)]])
    moved = [(int(kept[a]), int(b - a), int(a)) for a, b in zip(starts, ends)]
    t = time.perf_counter()
    new_info = build_faiss(new, new_path, settings, previous=PreviousFaiss(old_path, info, n, moved))
    update_s = time.perf_counter() - t
    exact = faiss.IndexFlatIP(dim)
    exact.add(new)
    _, truth = exact.search(queries, k)
    del exact
    index = read_faiss(new_path)
    positions = PositionMap.read(new_path.parent / FAISS_IDS)
    faiss.omp_set_num_threads(search_threads)
    found, lat = _latency(index, queries, k, search_params(index, new_info, selector=positions.selector))
    row = {"n": n, "kind": kind, "changed": int(changed.sum()), "build_s": round(build_s, 1),
           "update_s": round(update_s, 2),
           "updated_in_place": bool(new_info.get("updated_in_place")), "removed": new_info.get("removed"),
           "recall@10": round(recall_at(positions.chunk_ids(found), truth, k), 4), **lat}
    print(f"n={n:>8} {kind:4s} update of {row['changed']} chunks: full build {row['build_s']} s, "
          f"in place {row['update_s']} s "
          f"({row['removed']} tombstones), recall@10 after {row['recall@10']:.4f}, p50 {lat['p50_ms']:.3f} ms",
          flush=True)
    return row


def neighbour_stats(base: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """How the data looks to a nearest-neighbour search: top-1/top-10 similarity, random pairs."""
    import faiss

    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    sims, _ = index.search(queries, 10)
    rng = np.random.default_rng(1)
    a, b = base[rng.integers(0, len(base), 2000)], base[rng.integers(0, len(base), 2000)]
    return {"top1_sim": round(float(sims[:, 0].mean()), 3), "top10_sim": round(float(sims[:, 9].mean()), 3),
            "random_pair_sim": round(float((a * b).sum(1).mean()), 3)}


def markdown(results: dict[str, Any]) -> str:
    """The figures of a run as a Markdown table (one row per size, kind and parameter)."""
    out = ["| n | index | efSearch / nprobe | recall@10 | p50 mmap | p50 in RAM | build | file | open mmap / in RAM |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = results["rows"]
    for r in rows:
        if not r["mmap"]:
            continue
        key = (r["n"], r["kind"], r["param"], False)
        ram = next(x for x in rows if (x["n"], x["kind"], x["param"], x["mmap"]) == key)
        out.append(f"| {r['n']:,} | {r['kind']} | {r['param'] or '-'} | {r['recall@10']:.4f} | {r['p50_ms']:.2f} ms "
                   f"| {ram['p50_ms']:.2f} ms | {r['build_s']:.0f} s | {r['file_mb']:,.0f} MB "
                   f"| {r['open_ms']:.0f} / {ram['open_ms']:.0f} ms |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.vector", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--kinds", default="flat,hnsw,ivf")
    p.add_argument("--ef", default="32,64,128,256", help="efSearch values tried (HNSW)")
    p.add_argument("--nprobe", default="16,32,64,128", help="nprobe values tried (IVF)")
    p.add_argument("--real", type=Path, default=None,
                   help="a .npy of real unit vectors: --queries distinct rows drawn at random are the queries, "
                        "the others the base")
    p.add_argument("--stats-only", action="store_true", help="print the neighbour statistics and stop")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--threads", type=int, default=1,
                   help="FAISS threads while searching (default 1: one search per request thread, as a server "
                        "does; more threads on a busy machine make single queries slower)")
    p.add_argument("--update", type=float, default=None, metavar="SHARE",
                   help="instead: time an incremental update of the HNSW and IVF indexes (--kinds) with this "
                        "share of the chunks changed (e.g. 0.01) against a full build, and the recall after it")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--table", type=Path, default=None, metavar="JSON", help="print a saved run as Markdown and stop")
    args = p.parse_args(argv)
    if args.update is not None and not 0 < args.update <= MAX_DEAD_SHARE:
        p.error(f"--update must be above 0 and at most {MAX_DEAD_SHARE} (more is rebuilt, not updated)")
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sizes = [int(x) for x in args.sizes.split(",") if x]
    if args.real:
        data = np.load(args.real, allow_pickle=False).astype(np.float32)
        # repeated texts (a corpus has many) make ties that recall by id would count as misses
        _, first = np.unique(np.round(data, 4), axis=0, return_index=True)
        data = data[np.sort(first)]
        order = np.random.default_rng(0).permutation(len(data))  # queries from all over the corpus
        queries = np.ascontiguousarray(data[order[:args.queries]])
        pool = data[np.sort(order[args.queries:])]
        sizes = [min(s, len(pool)) for s in sizes]
        base_all = np.ascontiguousarray(pool[:max(sizes)])
        source = f"real vectors from {args.real} ({len(data)} distinct)"
    else:
        t = time.perf_counter()
        base_all = synthetic(max(sizes), args.dim, seed=0)
        queries = synthetic(args.queries, args.dim, seed=1)
        source = f"synthetic ({time.perf_counter() - t:.0f} s to generate {max(sizes)} x {args.dim})"
    import faiss

    build_threads = faiss.omp_get_max_threads()
    print(f"{source}; {os.cpu_count()} cores; FAISS builds with {build_threads} threads, searches with {args.threads}")
    results: dict[str, Any] = {"source": source, "cores": os.cpu_count(), "search_threads": args.threads,
                               "stats": {}, "rows": []}
    for n in sizes:
        stats = neighbour_stats(base_all[:n], queries)
        results["stats"][n] = stats
        print(f"n={n}: {stats}", flush=True)
    if args.update is not None:
        results["updates"] = []
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)  # a folder not made yet is made
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            for n in sizes:
                for kind in [k for k in args.kinds.split(",") if k in ("hnsw", "ivf")]:
                    results["updates"].append(bench_update(np.ascontiguousarray(base_all[:n]), queries, kind,
                                                           args.update, Path(tmp), search_threads=args.threads))
    elif not args.stats_only:
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)  # a folder not made yet is made
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            for n in sizes:
                results["rows"] += bench_size(np.ascontiguousarray(base_all[:n]), queries, args.kinds.split(","),
                                              [int(x) for x in args.ef.split(",")],
                                              [int(x) for x in args.nprobe.split(",")], Path(tmp),
                                              search_threads=args.threads)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    if results["rows"]:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
