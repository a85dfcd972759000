"""Two availability attacks on a running quarry server, measured (issue 20).

    python -m eval.bench.attack [--repo DIR] [--flood-mb 256] [--flood-requests 4] [--idle 2000]

It builds a tiny index (the fake encoder: this measures HTTP, not retrieval), starts the server from
``--repo`` (default: this checkout; pass an older checkout to measure it the same way) as
``python -m tests.fake_cli server`` -- the same ``serve()`` as ``python -m server`` -- and runs:

1. **header flood**: ``--flood-requests`` connections at once, each sending one header of
   ``--flood-mb`` MB (1 MB at a time, until the server closes the connection). Printed: what each
   got back, how many MB the server let each send, the server's resident memory before and at its
   peak (VmHWM), and whether ``/health`` answers afterwards.
2. **connection exhaustion**: ``--idle`` connections opened and held, half of them idle and half
   trickling one header byte a second (slow headers). ``/health`` is asked on a new connection
   while they are held (status, latency), and again after ``--wait`` seconds; printed too: how many
   of the held connections the server has closed by then.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rss(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of ``pid``, MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _health(port: int, timeout: float = 5.0) -> tuple[str, float]:
    t0 = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = s.recv(64)
        status = data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else f"no answer ({data[:20]!r})"
    except OSError as e:
        status = f"failed ({e.__class__.__name__})"
    return status, (time.perf_counter() - t0) * 1000


def _flood(port: int, mb: int, out: list) -> None:
    sent = 0
    status = "closed, no answer"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: ")
            block = b"a" * (1 << 20)
            try:
                for _ in range(mb):
                    s.sendall(block)
                    sent += 1
                s.sendall(b"\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                data = s.recv(64)
                if data.startswith(b"HTTP/"):
                    status = data.split(b" ")[1].decode()
            except OSError:
                pass
    except OSError as e:
        status = f"failed ({e.__class__.__name__})"
    out.append((status, sent))


def start_server(repo: Path, index_dir: Path, env: dict, nofile: int | None = None) -> tuple[subprocess.Popen, int]:
    def limit() -> None:
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_cli", "server", "--index-dir", str(index_dir),
                             "--port", "0", "--no-access-log", "--watch", "0", "--log-level", "error"],
                            cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=limit)
    from indexer.paths import server_file

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            info = json.loads(server_file(index_dir).read_text())
            if info["pid"] == proc.pid:
                return proc, int(info["url"].rsplit(":", 1)[1])
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start in 120 s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.attack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", type=Path, default=ROOT, help="checkout whose server is attacked (default: this one)")
    p.add_argument("--flood-mb", type=int, default=256, help="MB of header per flooding request (default 256)")
    p.add_argument("--flood-requests", type=int, default=4, help="flooding requests at once (default 4)")
    p.add_argument("--idle", type=int, default=2000, help="connections held open (default 2000)")
    p.add_argument("--server-nofile", type=int, default=None, metavar="N",
                   help="start the server under `ulimit -n N` (e.g. 1024, a common default)")
    p.add_argument("--wait", type=float, default=15.0, help="seconds before /health is asked again (default 15)")
    args = p.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + 256)), hard))

    with tempfile.TemporaryDirectory(prefix="quarry-attack-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"), "PYTHONPATH": str(args.repo)}
        os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
        src = tmp / "src"
        src.mkdir()
        (src / "a.txt").write_text("Cats sleep sixteen hours a day. Dogs wag their tails.\n")
        subprocess.run([sys.executable, "-m", "tests.fake_cli", "index", str(src), "--index-dir", str(tmp / "idx")],
                       cwd=args.repo, env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"server from {args.repo}" + (f", ulimit -n {args.server_nofile}" if args.server_nofile else ""))

        proc, port = start_server(args.repo, tmp / "idx", env, args.server_nofile)
        try:
            time.sleep(1)
            before = _rss(proc.pid)
            results: list = []
            t0 = time.perf_counter()
            threads = [threading.Thread(target=_flood, args=(port, args.flood_mb, results))
                       for _ in range(args.flood_requests)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took = time.perf_counter() - t0
            after = _rss(proc.pid)
            status, ms = _health(port)
            print(f"header flood: {args.flood_requests} requests x {args.flood_mb} MB of header in {took:.1f} s: "
                  f"answers {sorted(r[0] for r in results)}, MB each could send {sorted(r[1] for r in results)}")
            print(f"  server memory: {before[0]:.0f} MB before, peak {after[1]:.0f} MB, {after[0]:.0f} MB after; "
                  f"/health then: {status} in {ms:.0f} ms")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)

        proc, port = start_server(args.repo, tmp / "idx", env, args.server_nofile)
        held: list[socket.socket] = []
        try:
            failed_open = 0
            for i in range(args.idle):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.setblocking(False)
                    if i % 2:
                        s.send(b"GET /health HTTP/1.1\r\n")
                    held.append(s)
                except OSError:
                    failed_open += 1
            time.sleep(1)
            status, ms = _health(port)
            print(f"connection exhaustion: {len(held)} connections held ({failed_open} could not open), "
                  f"half idle, half slow headers (1 byte/s)")
            print(f"  /health while held: {status} in {ms:.0f} ms")
            t_end = time.monotonic() + args.wait
            while time.monotonic() < t_end:  # the slow half trickles a byte a second
                for s in held[1::2]:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
                time.sleep(1)
            closed = [0, 0]  # idle, slow
            for i, s in enumerate(held):
                try:
                    while chunk := s.recv(65536):  # an answer (408), then the end
                        pass
                    closed[i % 2] += chunk == b""
                except BlockingIOError:
                    pass
                except OSError:
                    closed[i % 2] += 1
            status, ms = _health(port)
            print(f"  after {args.wait:.0f} s: closed by the server: {closed[0]} of the {len(held[0::2])} idle, "
                  f"{closed[1]} of the {len(held[1::2])} slow; "
                  f"/health: {status} in {ms:.0f} ms; server memory {_rss(proc.pid)[0]:.0f} MB")
        finally:
            for s in held:
                s.close()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
