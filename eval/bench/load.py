"""Load benchmark for ``python -m server``: requests/s and p50/p95/p99 latency at several concurrencies.

Starts the server on the seeds index itself (building that index once, into the cache, if needed)
or measures a running one given with ``--url``. Each of C clients sends questions back to back on
its own keep-alive connection for ``--duration`` seconds; latency is per request, throughput is
completed requests over wall time. Figures depend on the machine and on what else runs on it: print them, never assert.

    python -m eval.bench.load                      # seeds index, concurrency 1, 8, 32, one worker a CPU
    python -m eval.bench.load --workers 1          # one server process
    python -m eval.bench.load --url http://127.0.0.1:8000 --concurrency 1 32 --duration 0 --requests 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

QUESTIONS = [
    "How much will big tech spend on AI data centers this year?",
    "Who is the CEO of Anthropic?",
    "How much did Amazon invest in Anthropic?",
    "Who are OpenAI's major rivals?",
    "Why are AI models becoming a commodity?",
    "What does the power grid have to do with AI?",
    "Which cloud providers partner with AI labs?",
    "What is a moat?",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server closes the connection, of one HTTP/1.1 response with a
    Content-Length (what uvicorn sends for JSON)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
        elif name == "transfer-encoding":
            raise ConnectionError(f"unexpected transfer-encoding {value.strip()}")
    return int(status_line.split()[1]), await reader.readexactly(length), close


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for POST /ask (cheap on the CPU, which
    matters when the client shares the machine with the server; ``--client httpx`` uses httpx instead)."""

    def __init__(self, base: str, headers: dict):
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader = self.writer = None

    async def post(self, path: str, payload: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{self.extra}\r\n")
        self.writer.write(head.encode() + body)
        status, data, close = await read_response(self.reader)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class HttpxConnection:
    def __init__(self, client):
        self.client = client

    async def post(self, path: str, payload: dict) -> tuple[int, bytes]:
        r = await self.client.post(path, json=payload)
        return r.status_code, r.content

    async def close(self) -> None:
        pass


async def _client(conn, n: int, latencies: list[float], errors: list[str], offset: int, k: int,
                  until: float | None = None):
    """``n`` requests back to back, or (``until``, a perf_counter time) as many as fit before then."""
    i = 0
    while (i < n) if until is None else (time.perf_counter() < until):
        q = QUESTIONS[(offset + i) % len(QUESTIONS)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, data = await conn.post("/ask", {"question": q, "k": k})
            ok = status == 200 and b'"passages"' in data
            why = str(status)
        except Exception as e:  # a failed request is counted, not fatal
            ok, why = False, repr(e)
            await conn.close()
        latencies.append(time.perf_counter() - t0)
        if not ok:
            errors.append(why)


async def run_level(base: str, concurrency: int, requests: int, k: int, headers: dict, client: str = "raw",
                    duration: float | None = None) -> dict:
    """``requests`` questions spread over ``concurrency`` clients, each on its own connection; or, with
    ``duration`` (seconds), every client asking until that time is up (steady state: no client idles
    at the end waiting for slower ones, which a fixed count per client would measure too)."""
    per = max(1, requests // concurrency)
    shared = None
    if client == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        shared = httpx.AsyncClient(base_url=base, limits=limits, timeout=60, headers=headers)
        conns = [HttpxConnection(shared) for _ in range(concurrency)]
    else:
        conns = [Connection(base, headers) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(_client(c, 2, [], [], i, k) for i, c in enumerate(conns)))  # warm up
        latencies: list[float] = []
        errors: list[str] = []
        t0 = time.perf_counter()
        until = t0 + duration if duration else None
        await asyncio.gather(*(_client(c, per, latencies, errors, i * 3, k, until) for i, c in enumerate(conns)))
        wall = time.perf_counter() - t0
    finally:
        for c in conns:
            await c.close()
        if shared is not None:
            await shared.aclose()
    if errors:
        print(f"concurrency {concurrency}: {len(errors)} errors, e.g. {errors[0]}", file=sys.stderr)
    return {"concurrency": concurrency, "requests": len(latencies), "errors": len(errors),
            "rps": len(latencies) / wall, "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * percentile(latencies, 95), "p99_ms": 1000 * percentile(latencies, 99)}


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (the parent pid is [1])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (a server and its workers), Linux /proc; [pid] where it cannot tell."""
    children: dict[int, list[int]] = {}
    try:
        entries = [int(e.name) for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return [pid]
    for p in entries:
        try:
            children.setdefault(int(_stat(p)[1]), []).append(p)
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its descendants (a server's workers), Linux; None where
    /proc cannot tell."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = _stat(p)
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            if p == pid:
                return None
    return total / os.sysconf("SC_CLK_TCK")


def seeds_index() -> Path:
    """The seeds index used for benchmarks, built once into the cache."""
    from indexer.paths import cache_dir, default_seeds_dir

    index_dir = cache_dir() / "bench-seeds-index"
    if not (index_dir / "manifest.json").exists():
        from indexer.build import build_index

        print(f"building the seeds index into {index_dir} (once) ...", file=sys.stderr)
        build_index(default_seeds_dir(), index_dir, progress=False)
    return index_dir


def start_server(index_dir: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    """``python -m server`` on a free loopback port; its URL, read from the discovery file."""
    from indexer.paths import server_file

    log = tempfile.NamedTemporaryFile(prefix="quarry-bench-server-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "server", "--index-dir", str(index_dir), "--port", "0",
                             "--no-access-log", *extra], stdout=log, stderr=subprocess.STDOUT)
    path = server_file(index_dir)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log.name}")
        try:
            info = json.loads(path.read_text())
            if info.get("pid") == proc.pid:
                return proc, info["url"]
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"the server did not start in 300 s; see {log.name}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server (default: start one on the seeds index)")
    p.add_argument("--index-dir", help="index to serve when starting the server (default: the seeds)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--duration", type=float, default=10.0, metavar="SECONDS",
                   help="how long each concurrency level runs (default 10; 0: a fixed --requests count)")
    p.add_argument("--requests", type=int, default=320,
                   help="requests per concurrency level when --duration is 0 (default 320)")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="server processes when starting the server (default: the CPU count, %(default)s here)")
    p.add_argument("--server-arg", action="append", default=[], help="extra argument for python -m server")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw",
                   help="raw: a minimal asyncio HTTP/1.1 client (default, least CPU); httpx: httpx.AsyncClient")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)

    proc = None
    base = args.url
    if base is None:
        proc, base = start_server(Path(args.index_dir) if args.index_dir else seeds_index(),
                                  [f"--workers={args.workers}", *args.server_arg])
    headers = {"X-API-Key": os.environ["QUARRY_API_KEY"]} if os.environ.get("QUARRY_API_KEY") else {}
    rows = []
    try:
        for c in args.concurrency:
            before, mine = cpu_seconds(proc.pid) if proc else None, time.process_time()
            row = asyncio.run(run_level(base.rstrip("/"), c, args.requests, args.k, headers, args.client,
                                        args.duration or None))
            after = cpu_seconds(proc.pid) if proc else None
            row["client_cpu_ms"] = 1000 * (time.process_time() - mine) / (row["requests"] + 2 * c)
            # CPU the server spent per request (warm-up included): unlike latency, barely moved by other load
            if before is not None and after is not None:
                row["server_cpu_ms"] = 1000 * (after - before) / (row["requests"] + 2 * c)
            rows.append(row)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    workers = f", {args.workers} workers" if proc else ""
    print(f"server: {base}  ({os.cpu_count()} CPUs{workers}, load average {os.getloadavg()[0]:.2f})")
    print(f"{'concurrency':>11} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'server CPU ms/req':>17} {'client CPU ms/req':>17}")
    for r in rows:
        cpu = f"{r['server_cpu_ms']:>17.2f}" if "server_cpu_ms" in r else f"{'-':>17}"
        print(f"{r['concurrency']:>11} {r['requests']:>8} {r['errors']:>6} {r['rps']:>8.1f} "
              f"{r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {cpu} {r['client_cpu_ms']:>17.2f}")
    one = next((r for r in rows if r["concurrency"] == 1), None)
    if one:
        for r in rows:
            if r["concurrency"] > 1:
                print(f"throughput at concurrency {r['concurrency']}: {r['rps'] / one['rps']:.2f}x concurrency 1")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
