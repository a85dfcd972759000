"""How fast `ask` starts: cold `ask "question"` wall time and question-embedding latency, ONNX vs torch.

    python -m eval.bench.ask [--index-dir DIR] [--runs 5]

Without --index-dir, the seeds are indexed into a temporary folder first (with the ONNX export).
Each cold run is a new process (`python -m retriever --no-server --index-dir DIR QUESTION`), as a
person typing `ask` gets; one untimed run per path first fills the OS page cache and quarry's
checksum cache. Prints medians (and min/max) and the machine's load, so figures taken on a busy
machine can be marked as such.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "How much did Amazon invest in Anthropic?"
QUESTIONS = [
    "How much are big technology companies expected to spend on AI data centers this year?",
    "Who is the CEO of Anthropic?",
    "What is a moat?",
    "How much did Amazon invest in Anthropic?",
    "What is the market structure of the AI industry?",
    "Who are OpenAI's major rivals?",
    "What has the competitive moat moved to?",
    "How many users interact with OpenAI's models each week?",
]


def cold_ask(index_dir: Path, encoder: str, runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh `ask` processes on ``encoder`` (onnx or torch)."""
    env = dict(os.environ, QUARRY_ENCODER=encoder)
    cmd = [sys.executable, "-m", "retriever", "--no-server", "--index-dir", str(index_dir), QUESTION]
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if out.returncode != 0 or "Answer" not in out.stdout:
            raise SystemExit(f"ask failed on {encoder}:\n{out.stdout}\n{out.stderr}")
        if i:  # the first run only warms caches
            times.append(elapsed)
    return times


def embed_latency(index_dir: Path, encoder: str, reps: int = 3) -> dict[str, float]:
    """Load time and per-question embedding latency (one question per call), in a fresh process."""
    code = f"""
import json, statistics, sys, time
t0 = time.perf_counter()
from retriever.index import Index
from retriever.query_encoder import open_query_encoder
index = Index({str(index_dir)!r})
t1 = time.perf_counter()
enc = open_query_encoder(index, prefer={encoder!r})
enc.encode(["warm up"])
t2 = time.perf_counter()
qs = {QUESTIONS!r}
lat = []
for _ in range({reps}):
    for q in qs:
        t = time.perf_counter(); enc.encode([q]); lat.append(time.perf_counter() - t)
print(json.dumps({{"load_s": t2 - t1, "embed_ms": 1000 * statistics.median(lat),
                  "embed_p90_ms": 1000 * sorted(lat)[int(0.9 * len(lat))], "type": type(enc).__name__}}))
"""
    import json

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"embedding benchmark failed on {encoder}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.ask", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=None, help="an index with its ONNX export (default: seeds)")
    p.add_argument("--runs", type=int, default=5, help="timed cold runs per path (default 5)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="quarry-ask-bench-") as tmp:
        index_dir = args.index_dir
        if index_dir is None:
            from indexer.build import build_index
            from indexer.paths import default_seeds_dir

            index_dir = Path(tmp) / "index"
            t = time.perf_counter()
            build_index(default_seeds_dir(), index_dir, progress=False)
            print(f"indexed seeds/ (with the ONNX export) in {time.perf_counter() - t:.1f} s")
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        rows = []
        for encoder in ("onnx", "torch"):
            times = cold_ask(index_dir, encoder, args.runs)
            emb = embed_latency(index_dir, encoder)
            rows.append((encoder, times, emb))
            print(f"{encoder:5s} cold ask: {summary(times)}  runs: {' '.join(f'{t:.2f}' for t in times)}")
            print(f"{encoder:5s} encoder ({emb['type']}): load {emb['load_s']:.2f} s, one question "
                  f"{emb['embed_ms']:.1f} ms median, {emb['embed_p90_ms']:.1f} ms p90")
        print()
        print(f"| path | cold `ask` (median of {args.runs}) | encoder load | embed one question (median) |")
        print("|---|---|---|---|")
        for encoder, times, emb in rows:
            print(f"| {encoder} | {statistics.median(times):.2f} s | {emb['load_s']:.2f} s "
                  f"| {emb['embed_ms']:.1f} ms |")
        load = os.getloadavg()
        print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
              + ("  (busy machine: figures are provisional)" if load[0] > 0.5 * (os.cpu_count() or 1) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
