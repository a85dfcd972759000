"""Indexing speed: quarry against txtai's hybrid index, an incremental update, 1 vs 2 threads.

    python -m eval.bench.index                      # everything, median of 3
    python -m eval.bench.index compare --runs 3     # quarry vs txtai on the same ~250 KB folder
    python -m eval.bench.index update               # one changed file in a 1,000-file folder
    python -m eval.bench.index threads              # quarry with 1 and 2 embedding threads

Every tool runs as a whole process (``python -m indexer`` for quarry; for txtai a process that
chunks the files with quarry's chunker, so both embed the same text, and builds
``Embeddings(path=<the packaged all-MiniLM-L6-v2>, hybrid=True, content=True)``, then saves it).
Wall time, CPU time (user + system) and peak RSS come from ``os.wait4`` of each child; runs of the
tools alternate, so the ratio is taken under the same load. quarry is measured twice: with a cold
ONNX export cache (each run exports the model once, as a first index of a model does) and with a
warm one (every later index of that model). The compare folder is text from ``/usr/share/doc/git``
(release notes; nothing from debian-faq, python3-doc or common-licenses) unless ``--folder``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC_SOURCE = Path("/usr/share/doc/git/RelNotes")

_TXTAI = r"""
import sys
from pathlib import Path
from indexer.chunker import chunk_text
from indexer.encoder import default_model_path
from txtai import Embeddings
folder, out = Path(sys.argv[1]), sys.argv[2]
rows = []
for p in sorted(folder.rglob("*")):
    if p.is_file():
        _, chunks = chunk_text(p.read_text(encoding="utf-8", errors="replace"), str(p))
        rows += [(f"{p.name}:{c.id}", c.text, None) for c in chunks]
emb = Embeddings(path=str(default_model_path()), hybrid=True, content=True)
emb.index(rows)
emb.save(out)
print(len(rows), "chunks")
"""


def make_compare_folder(dest: Path, target_bytes: int = 250_000, source: Path = DOC_SOURCE) -> Path:
    """About ``target_bytes`` of technical text files, copied in name order from ``source``."""
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    for p in sorted(source.glob("*.txt")):
        if total >= target_bytes:
            break
        data = p.read_bytes()
        (dest / p.name).write_bytes(data)
        total += len(data)
    if total == 0:
        raise SystemExit(f"no text files in {source}: pass --folder")
    return dest


def make_many_files(dest: Path, n: int = 1000) -> Path:
    """``n`` small text files made mechanically from the paragraphs of seeds/ and eval/corpora/."""
    paragraphs = []
    for p in sorted((ROOT / "seeds").rglob("*")) + sorted((ROOT / "eval" / "corpora").rglob("*")):
        if p.is_file() and p.suffix in (".txt", ".md"):
            paragraphs += [b.strip() for b in p.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = "\n\n".join(paragraphs[(i * 3 + j) % len(paragraphs)] for j in range(3))
        (dest / f"note-{i:04d}.txt").write_text(f"Note {i}.\n\n{body}\n", encoding="utf-8")
    return dest


def _popen_wait4(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` as a child: wall s, and CPU s (user + system) and peak RSS MB from ``os.wait4``."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({proc.returncode}): {err[-800:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024,
            "out": out.strip().splitlines()[-1:] if out.strip() else []}


def quarry_cmd(folder: Path, index_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "indexer", str(folder), "--index-dir", str(index_dir), "-q", *extra]


def _env(cache: Path) -> dict:
    return {**os.environ, "QUARRY_ONNX_CACHE": str(cache)}


def _median(rows: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rows) for k in ("wall_s", "cpu_s", "peak_rss_mb")}


def _table(results: dict[str, dict], base: str) -> None:
    print(f"| tool | wall s | CPU s | peak RSS MB | wall / {base} |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = r["wall_s"] / results[base]["wall_s"]
        print(f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {ratio:.2f} |")


def compare(work: Path, folder: Path | None, runs: int) -> dict:
    folder = folder or make_compare_folder(work / "docs")
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    n_files = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"compare: {folder} ({n_files} files, {size / 1000:.0f} KB), {runs} run(s) each, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    warm_cache = work / "warm-cache"
    _popen_wait4(quarry_cmd(folder, work / "warmup"), _env(warm_cache))  # fills the warm cache
    rows: dict[str, list[dict]] = {"txtai hybrid": [], "quarry (cold ONNX cache)": [], "quarry (warm cache)": []}
    for i in range(runs):
        out = work / f"run{i}"
        rows["txtai hybrid"].append(_popen_wait4([sys.executable, "-c", _TXTAI, str(folder), str(out / "txtai")]))
        rows["quarry (cold ONNX cache)"].append(
            _popen_wait4(quarry_cmd(folder, out / "cold"), _env(out / "cold-cache")))
        rows["quarry (warm cache)"].append(_popen_wait4(quarry_cmd(folder, out / "warm"), _env(warm_cache)))
        print(f"  run {i + 1}: " + ", ".join(f"{k} {v[-1]['wall_s']:.1f} s" for k, v in rows.items()), flush=True)
    results = {k: _median(v) for k, v in rows.items()}
    _table(results, "txtai hybrid")
    return results


def update(work: Path, n_files: int, runs: int) -> dict:
    folder = make_many_files(work / "many", n_files)
    cache, index_dir = work / "update-cache", work / "many-index"
    first = _popen_wait4(quarry_cmd(folder, index_dir), _env(cache))
    print(f"update: {n_files} files indexed in {first['wall_s']:.1f} s wall ({first['cpu_s']:.1f} s CPU)", flush=True)
    times = []
    for i in range(runs):
        target = folder / f"note-{(i * 37) % n_files:04d}.txt"
        target.write_text(target.read_text(encoding="utf-8") + f"\nEdited {i}: a new closing sentence.\n",
                          encoding="utf-8")
        r = _popen_wait4(quarry_cmd(folder, index_dir), _env(cache))
        times.append(r)
        print(f"  one file changed: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
              f"{r['peak_rss_mb']:.0f} MB peak; {' '.join(r['out'])[:160]}", flush=True)
    med = _median(times)
    print(f"update of one changed file in {n_files} files (whole `python -m indexer` process, median of {runs}): "
          f"{med['wall_s']:.2f} s wall, {med['cpu_s']:.2f} s CPU (goal < 5 s)")
    return med


def threads(work: Path, folder: Path | None, runs: int) -> dict:
    folder = folder or make_compare_folder(work / "docs")
    cache = work / "threads-cache"
    _popen_wait4(quarry_cmd(folder, work / "threads-warmup"), _env(cache))
    rows: dict[str, list[dict]] = {"1 thread": [], "2 threads": []}
    for i in range(runs):
        for n in (1, 2):
            rows[f"{n} thread{'s' if n > 1 else ''}"].append(
                _popen_wait4(quarry_cmd(folder, work / f"t{n}-{i}", "--threads", str(n)), _env(cache)))
    results = {k: _median(v) for k, v in rows.items()}
    print(f"threads ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}):")
    _table(results, "1 thread")
    speedup = results["1 thread"]["wall_s"] / results["2 threads"]["wall_s"]
    print(f"2 threads: {speedup:.2f}x the speed of 1")
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.index", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", choices=("all", "compare", "update", "threads"), default="all")
    p.add_argument("--runs", type=int, default=3, help="runs per tool; the median is printed (default 3)")
    p.add_argument("--folder", type=Path, default=None, help="folder to index for compare and threads")
    p.add_argument("--files", type=int, default=1000, help="files in the update folder (default 1000)")
    p.add_argument("--keep", metavar="DIR", type=Path, default=None, help="work in DIR and keep it")
    args = p.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="quarry-index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.what in ("all", "compare"):
            compare(work, args.folder, args.runs)
        if args.what in ("all", "update"):
            update(work, args.files, args.runs)
        if args.what in ("all", "threads"):
            threads(work, args.folder, args.runs)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
