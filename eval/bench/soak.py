"""Soak test for ``python -m server``: mixed valid and invalid requests for a while, counting 5xx and memory.

C clients (default 16), each on its own keep-alive connection, send a mix of requests back to back
for S seconds (default 60; also bounded by --max-requests): questions, health, documents, context,
the page, and malformed ones (blank, over-long, bad k, not JSON, oversized, unknown fields, wrong
method, unknown paths, traversal attempts). Every response must have the status its kind expects;
a 5xx, a dropped connection or an unexpected status is a failure (exit status 1). The server's
resident memory (RSS, from /proc) is sampled every second: start (after a warm-up minute, whose
requests are judged the same way), end, max.

    python -m eval.bench.soak                   # seeds index, real model, 60 s at concurrency 16
    python -m eval.bench.soak --seconds 10 --url http://127.0.0.1:8000 --pid 1234
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from eval.bench.load import percentile, process_tree, read_response, seeds_index, start_server

QUESTIONS = [
    "How much will big tech spend on AI data centers this year?", "Who is the CEO of Anthropic?",
    "How much did Amazon invest in Anthropic?", "Who are OpenAI's major rivals?", "What is a moat?",
    "Why are AI models becoming a commodity?", "Who painted the Mona Lisa?", "cats", "?", "électricité ⚡ 電力",
]


@dataclass(frozen=True)
class Kind:
    """One sort of request and the statuses it may get."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    expect: tuple[int, ...] = (200,)
    content_type: str = "application/json"
    weight: int = 1
    random_words: bool = False  # the question is new words each time (finds caches that grow without bound)


def _ask(payload) -> bytes:
    return json.dumps(payload).encode()


def kinds(source: str, doc_chars: int) -> list[Kind]:
    """The request mix; ``source`` is an indexed document with ``doc_chars`` characters (for /context)."""
    ctx = f"/context?source={quote(source, safe='')}"
    out = [Kind(f"ask:{i}", "POST", "/ask", _ask({"question": q, "k": 1 + i % 7}), weight=4)
           for i, q in enumerate(QUESTIONS)]
    out += [
        Kind("ask:random-words", "POST", "/ask", weight=4, random_words=True),
        Kind("health", "GET", "/health", weight=3),
        Kind("documents", "GET", "/documents"),
        Kind("context", "GET", f"{ctx}&start_char=0&end_char={min(40, doc_chars)}", weight=3),
        Kind("context-end", "GET", f"{ctx}&start_char={doc_chars}&end_char={doc_chars}&chars=5"),
        Kind("page", "GET", "/"),
        Kind("static", "GET", "/static/app.js"),
        Kind("reload-unchanged", "POST", "/admin/reload", b""),
        Kind("empty-question", "POST", "/ask", _ask({"question": ""}), (422,), weight=2),
        Kind("blank-question", "POST", "/ask", _ask({"question": " \n\t\u3000"}), (422,)),
        Kind("long-question", "POST", "/ask", _ask({"question": "x" * 1001}), (422,)),
        Kind("k-zero", "POST", "/ask", _ask({"question": "cats", "k": 0}), (422,)),
        Kind("k-string", "POST", "/ask", _ask({"question": "cats", "k": "5"}), (422,)),
        Kind("k-huge", "POST", "/ask", b'{"question": "cats", "k": 1e400}', (422,)),
        Kind("unknown-field", "POST", "/ask", _ask({"question": "cats", "x": 1}), (422,)),
        Kind("not-an-object", "POST", "/ask", _ask(["cats"]), (422,)),
        Kind("not-json", "POST", "/ask", b'{"question": "cats",', (400,), weight=2),
        Kind("bad-utf8", "POST", "/ask", b'{"question": "\xff\xfe"}', (400, 422)),
        Kind("no-body", "POST", "/ask", b"", (422,)),
        Kind("text-plain", "POST", "/ask", b"cats", (400, 422), content_type="text/plain"),
        Kind("oversized", "POST", "/ask", _ask({"question": "cats", "pad": "x" * 20_000}), (413,)),
        Kind("get-ask", "GET", "/ask", expect=(405,)),
        Kind("unknown-path", "GET", "/nope", expect=(404,)),
        Kind("context-unknown", "GET", "/context?source=nope.txt&start_char=0&end_char=1", expect=(404,)),
        Kind("context-traversal", "GET", "/context?source=..%2F..%2Fetc%2Fpasswd&start_char=0&end_char=1",
             expect=(404,)),
        Kind("static-traversal", "GET", "/static/..%2F..%2Fserver%2Fapp.py", expect=(404,)),
        Kind("context-range", "GET", f"{ctx}&start_char=5&end_char={doc_chars + 10}", expect=(422,)),
        Kind("context-negative", "GET", f"{ctx}&start_char=-1&end_char=3", expect=(422,)),
        Kind("context-not-int", "GET", f"{ctx}&start_char=a&end_char=3", expect=(422,)),
    ]
    return out


class Connection:
    """One keep-alive HTTP/1.1 connection: just enough HTTP for these requests (cheap on a shared CPU)."""

    def __init__(self, base: str, headers: dict):
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader = self.writer = None

    async def request(self, kind: Kind, body: bytes | None = None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        body = kind.body if body is None else body
        head = f"{kind.method} {kind.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.extra}"
        if body is not None:
            head += f"Content-Type: {kind.content_type}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        status, _, close = await read_response(self.reader)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def random_words(rng: random.Random) -> str:
    """A question of made-up words: every one is new to the index and to any cache."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choices(letters, k=rng.randint(3, 12))) for _ in range(rng.randint(1, 12))) + "?"


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its descendants (a server's workers) in MB (Linux), or None."""
    total = None
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = (total or 0) + int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return total


def _get_json(url: str, headers: dict) -> dict:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
        return json.loads(r.read())


def first_document(base: str, headers: dict) -> tuple[str, int]:
    """An indexed document's source and length, for the /context requests."""
    source = _get_json(f"{base}/documents", headers)["documents"][0]["source"]
    ctx = _get_json(f"{base}/context?source={quote(source, safe='')}&start_char=0&end_char=0&chars=0", headers)
    return source, ctx["document_chars"]


async def soak(base: str, seconds: float, concurrency: int = 16, max_requests: int = 1_000_000,
               headers: dict | None = None, pid: int | None = None, seed: int = 0) -> dict:
    """Run the mix; return counts (per kind and status), failures, latencies and RSS samples."""
    headers = headers or {}
    source, chars = await asyncio.to_thread(first_document, base, headers)
    mix = kinds(source, chars)
    weighted = [k for k in mix for _ in range(k.weight)]
    statuses: Counter = Counter()
    per_kind: Counter = Counter()
    failures: Counter = Counter()
    latencies: list[float] = []
    rss: list[tuple[float, float]] = []
    sent = 0
    t0 = time.monotonic()
    stop_at = t0 + seconds

    async def client(n: int) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + n)
        conn = Connection(base, headers)
        try:
            while time.monotonic() < stop_at and sent < max_requests:
                sent += 1
                kind = rng.choice(weighted)
                body = _ask({"question": random_words(rng)}) if kind.random_words else None
                start = time.perf_counter()
                try:
                    status = await conn.request(kind, body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                    failures[f"{kind.name}: {e.__class__.__name__}: {e}"[:160]] += 1
                    await conn.close()
                    continue
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
                per_kind[kind.name] += 1
                if status >= 500 or status not in kind.expect:
                    failures[f"{kind.name}: {status} (expected {'/'.join(map(str, kind.expect))})"] += 1
        finally:
            await conn.close()

    async def sampler() -> None:
        while pid is not None:
            value = rss_mb(pid)
            if value is not None:
                rss.append((time.monotonic() - t0, value))
            await asyncio.sleep(1.0)

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    sampling.cancel()
    wall = time.monotonic() - t0
    if pid is not None and (value := rss_mb(pid)) is not None:
        rss.append((wall, value))
    return {"seconds": round(wall, 1), "concurrency": concurrency, "requests": sum(statuses.values()),
            "rps": round(sum(statuses.values()) / wall, 1), "statuses": dict(sorted(statuses.items())),
            "server_errors": sum(n for s, n in statuses.items() if s >= 500),
            "failures": dict(failures), "kinds": len(mix), "per_kind": dict(sorted(per_kind.items())),
            "p50_ms": round(1000 * percentile(latencies, 50), 1) if latencies else None,
            "p99_ms": round(1000 * percentile(latencies, 99), 1) if latencies else None,
            "rss_mb": _rss_summary(rss)}


def _rss_summary(samples: list[tuple[float, float]]) -> dict | None:
    if not samples:
        return None
    values = [v for _, v in samples]
    quarter = max(1, len(values) // 4)
    every = max(1, len(samples) // 12)  # about a dozen points of the curve
    return {"samples": len(values), "start": round(values[0], 1), "end": round(values[-1], 1),
            "max": round(max(values), 1), "min": round(min(values), 1),
            "first_quarter_mean": round(sum(values[:quarter]) / quarter, 1),
            "last_quarter_mean": round(sum(values[-quarter:]) / quarter, 1),
            "curve": [(round(t), round(v, 1)) for t, v in samples[::every]]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server (default: start python -m server on the seeds index)")
    p.add_argument("--pid", type=int, help="with --url: the server's process id, to sample its memory")
    p.add_argument("--index-dir", help="index to serve when starting the server (default: the seeds)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests too")
    p.add_argument("--warm-up", type=float, default=60.0,
                   help="seconds of the same mix before the measured run (default 60: a new server's memory "
                        "grows in its first minute as threads, connections and the model runtime's arena "
                        "warm up; statuses count in both)")
    p.add_argument("--server-arg", action="append", default=[], help="extra argument for python -m server")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1:
        p.error("--seconds must be positive and --concurrency at least 1")
    headers = {"X-API-Key": os.environ["QUARRY_API_KEY"]} if os.environ.get("QUARRY_API_KEY") else {}
    proc, base, pid = None, args.url, args.pid
    if base is None:
        proc, base = start_server(Path(args.index_dir) if args.index_dir else seeds_index(), args.server_arg)
        pid = proc.pid
    try:
        warm = None
        if args.warm_up > 0:  # the same mix, counted too (a 5xx here fails the run), memory not judged
            warm = asyncio.run(soak(base.rstrip("/"), args.warm_up, args.concurrency, args.max_requests, headers,
                                    pid, 1))
        result = asyncio.run(soak(base.rstrip("/"), args.seconds, args.concurrency, args.max_requests, headers, pid))
        result["warm_up"] = warm
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    result["load_average"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"server: {base}  ({os.cpu_count()} CPUs, load average {result['load_average']})")
        if warm is not None:
            m = warm["rss_mb"] or {}
            print(f"warm-up: {warm['requests']} requests in {warm['seconds']} s, 5xx: {warm['server_errors']}, "
                  f"failures: {sum(warm['failures'].values())}; server RSS MB {m.get('start')} -> {m.get('end')}")
            for what, n in sorted(warm["failures"].items(), key=lambda x: -x[1])[:10]:
                print(f"  {n} x {what}")
        print(f"{result['requests']} requests in {result['seconds']} s at concurrency {result['concurrency']} "
              f"({result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms), "
              f"{result['kinds']} kinds of request")
        print("statuses: " + ", ".join(f"{s}: {n}" for s, n in result["statuses"].items()))
        print(f"5xx: {result['server_errors']}; failures: {sum(result['failures'].values())}")
        for what, n in sorted(result["failures"].items(), key=lambda x: -x[1])[:10]:
            print(f"  {n} x {what}")
        m = result["rss_mb"]
        if m:
            print(f"server RSS MB (all its processes): start {m['start']}, end {m['end']}, max {m['max']}, "
                  f"min {m['min']} ({m['samples']} samples; mean of first quarter {m['first_quarter_mean']}, "
                  f"last quarter {m['last_quarter_mean']})")
            print("  at s: " + ", ".join(f"{t}: {v}" for t, v in m["curve"]))
    bad = [r for r in (warm, result) if r is not None and (r["failures"] or r["server_errors"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
