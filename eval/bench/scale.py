"""Scale benchmarks: a real corpus with the packaged model, one huge file's memory, the vector search layer.

    python -m eval.bench.scale corpus /usr/share/doc/python3.11/html/_sources/library
    python -m eval.bench.scale bigfile --sizes 5,10,25,50
    python -m eval.bench.scale search --sizes 10000,100000,1000000

Every figure is printed (and written as JSON with ``--json PATH``); timings depend on the machine
and its load, so rerun this rather than trusting old numbers. ``search`` lives in
:mod:`eval.bench.vector`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.measure import MemorySampler, peak_rss_mb, rss_mb

log = logging.getLogger(__name__)


class HashEncoder:
    """A fast stand-in for the model (no torch): a fixed pseudo-random unit vector per text.

    Used to measure the pipeline's own memory and speed; vectors carry no meaning.
    """

    name = "hash-encoder"

    def __init__(self, dim: int = 384):
        self.dim = dim

    @property
    def fingerprint(self) -> str:
        return f"hash-encoder-{self.dim}"

    def encode(self, texts, batch_size: int = 64):
        import numpy as np

        seeds = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts]
        out = np.stack([np.random.default_rng(s).standard_normal(self.dim, dtype=np.float32) for s in seeds]) \
            if seeds else np.zeros((0, self.dim), np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
        return out


# -- one huge file -------------------------------------------------------------------------------

_WORDS = ("index memory stream chunk vector model search answer document sentence question server "
          "cluster embedding batch window offset line source citation passage recall latency data "
          "power grid cloud spending company market energy capacity growth").split()


def write_text_file(path: Path, mb: float, seed: int = 0) -> int:
    """A deterministic English-like text file of about ``mb`` megabytes: sentences, lines, paragraphs."""
    rng = random.Random(seed)
    target = int(mb * 1_000_000)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        while written < target:
            para = []
            for _ in range(rng.randint(2, 8)):
                words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 24))]
                para.append(" ".join(words).capitalize() + rng.choice(".!?"))
            block = " ".join(para) + ("\n\n" if rng.random() < 0.3 else "\n")
            fh.write(block)
            written += len(block)
    return path.stat().st_size


def _bigfile_child(path: str, index_dir: str, encoder: str) -> dict[str, Any]:
    """Index one file in this (fresh) process and report its memory, while streaming and overall."""
    from indexer.build import build_index

    enc = HashEncoder() if encoder == "hash" else None
    if enc is None:
        from indexer.encoder import SentenceTransformerEncoder

        enc = SentenceTransformerEncoder()
        enc.encode(["warm up"])
    src = Path(path).parent
    base_anon, base = rss_mb("RssAnon"), rss_mb()
    last_update = [0.0]
    kwargs: dict[str, Any] = {}
    try:  # a baseline checkout may have no progress callback
        import inspect

        if "on_progress" in inspect.signature(build_index).parameters:
            kwargs["on_progress"] = lambda info: last_update.__setitem__(0, time.perf_counter())
    except (TypeError, ValueError):
        pass
    t0 = time.perf_counter()
    with MemorySampler() as sampler:
        report = build_index(src, index_dir, encoder=enc, progress=False, **kwargs)
    seconds = time.perf_counter() - t0
    stream_anon, stream_total = sampler.peak(until=last_update[0] or None)
    anon, total = sampler.peak()
    return {"file_mb": round(Path(path).stat().st_size / 1e6, 1), "rss_before_mb": round(base, 1),
            "anon_before_mb": round(base_anon, 1),
            "streaming_peak_anon_mb": round(stream_anon, 1) if last_update[0] else None,
            "peak_anon_mb": round(anon, 1), "peak_rss_sampled_mb": round(total, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "seconds": round(seconds, 1), "chunks": report.chunks, "sentences": report.sentences,
            "chunks_per_s": round(report.chunks / seconds, 1)}


def bench_bigfile(sizes: list[float], encoder: str, workdir: Path, pythonpath: str | None) -> list[dict[str, Any]]:
    """Index one generated file of each size in a fresh process; peak RSS should not grow with the size."""
    rows = []
    for mb in sizes:
        src = workdir / f"src-{mb:g}"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        write_text_file(src / "big.txt", mb)
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        # this file is loaded by path, so that --pythonpath decides where ``indexer`` comes from
        code = ("import importlib.util, json, sys; "
                f"spec = importlib.util.spec_from_file_location('scale', {str(Path(__file__).resolve())!r}); "
                "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
                "print(json.dumps(m._bigfile_child(*sys.argv[1:])))")
        out = subprocess.run([sys.executable, "-c", code, str(src / "big.txt"), str(workdir / f"idx-{mb:g}"), encoder],
                             env=env, cwd=workdir, check=True, capture_output=True, text=True)  # cwd: not this checkout
        row = json.loads(out.stdout.strip().splitlines()[-1])
        streaming = row["streaming_peak_anon_mb"]
        print(f"bigfile {row['file_mb']:6.1f} MB: anonymous memory {row['anon_before_mb']:.0f} MB before, peak "
              f"{'?' if streaming is None else streaming} MB while streaming, {row['peak_anon_mb']} MB overall "
              f"(FAISS build included); peak RSS {row['peak_rss_mb']} MB (with file pages); "
              f"{row['chunks']} chunks, {row['sentences']} sentences in {row['seconds']} s "
              f"({row['chunks_per_s']} chunks/s)", flush=True)
        rows.append(row)
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(workdir / f"idx-{mb:g}", ignore_errors=True)
    return rows


# -- a real corpus with the real model -----------------------------------------------------------

def bench_corpus(source: Path, index_dir: Path, batch_size: int) -> dict[str, Any]:
    """Index ``source`` from scratch with the packaged model, then re-run (no-op, one file changed)."""
    from indexer.build import build_index
    from indexer.encoder import SentenceTransformerEncoder

    shutil.rmtree(index_dir, ignore_errors=True)
    enc = SentenceTransformerEncoder()
    t = time.perf_counter()
    enc.encode(["warm up"])
    load_s = time.perf_counter() - t
    trace: list[tuple[float, float, float | None, int]] = []

    def on_progress(info) -> None:
        trace.append((info.elapsed_s, info.fraction, info.eta_s, info.chunks))

    base = rss_mb()
    t0 = time.perf_counter()
    report = build_index(source, index_dir, encoder=enc, progress=None, batch_size=batch_size,
                         on_progress=on_progress)
    total = time.perf_counter() - t0
    end_of_work = trace[-1][0] if trace else total
    eta_rows = []
    for mark in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9):
        hit = next((p for p in trace if p[1] >= mark and p[2] is not None), None)
        if hit:
            predicted = hit[0] + hit[2]
            eta_rows.append({"at": mark, "elapsed_s": round(hit[0], 1), "eta_s": round(hit[2], 1),
                             "predicted_end_s": round(predicted, 1), "actual_end_s": round(end_of_work, 1),
                             "error_pct": round(100 * (predicted - end_of_work) / end_of_work, 1)})
    result = {
        "source": str(source), "documents": report.documents, "chunks": report.chunks,
        "sentences": report.sentences, "texts_embedded": report.embedded, "model_load_s": round(load_s, 1),
        "seconds": round(total, 1), "chunks_per_s": round(report.chunks / total, 1),
        "texts_per_s": round(report.embedded / total, 1), "rss_before_mb": round(base, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1), "index_type": report.index_type,
        "index_mb": round(sum(p.stat().st_size for p in index_dir.iterdir()) / 1e6, 1), "eta": eta_rows,
    }
    t = time.perf_counter()
    again = build_index(source, index_dir, encoder=enc, progress=False)
    result["noop_update_s"] = round(time.perf_counter() - t, 2)
    assert not again.written and again.embedded == 0
    first = min(source.rglob("*.txt"))
    backup = first.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:  # change one file in a copy, never the installed docs
        copy = Path(tmp) / "src"
        shutil.copytree(source, copy)
        shutil.copytree(index_dir, Path(tmp) / "idx")
        (copy / first.relative_to(source)).write_bytes(backup + b"\nOne more line to re-index.\n")
        t = time.perf_counter()
        upd = build_index(copy, Path(tmp) / "idx", encoder=enc, progress=False, batch_size=batch_size)
        result["one_file_update_s"] = round(time.perf_counter() - t, 2)
        result["one_file_update_embedded"] = upd.embedded
    print(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus", help="index a real folder with the packaged model")
    c.add_argument("source", type=Path)
    c.add_argument("--index-dir", type=Path, default=Path("bench-out/corpus-index"))
    c.add_argument("--batch-size", type=int, default=64)
    b = sub.add_parser("bigfile", help="peak memory while indexing one generated file of each size")
    b.add_argument("--sizes", default="5,10,25,50", help="file sizes in MB (default 5,10,25,50)")
    b.add_argument("--encoder", choices=("hash", "model"), default="hash",
                   help="hash: a fast stand-in, measures the pipeline alone (default); model: the real model")
    b.add_argument("--workdir", type=Path, default=None)
    b.add_argument("--pythonpath", default=None, help="run the indexer of another checkout (a baseline)")
    s = sub.add_parser("search", help="the vector search layer on synthetic vectors (see eval.bench.vector)")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    for sp in (c, b):
        sp.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.cmd == "search":
        from eval.bench.vector import main as vector_main

        return vector_main(args.rest)
    if args.cmd == "corpus":
        out: Any = bench_corpus(args.source, args.index_dir, args.batch_size)
    else:
        sizes = [float(x) for x in args.sizes.split(",") if x]
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)  # a folder not made yet is made
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            out = bench_bigfile(sizes, args.encoder, Path(tmp), args.pythonpath)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
