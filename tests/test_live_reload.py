"""Live rebuilds: the index is rebuilt while it is served; the server switches with no failed request."""

from __future__ import annotations

import asyncio
import shutil
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from indexer.build import build_index
from indexer.errors import IndexClosed
from retriever.batching import BatchingEncoder
from retriever.index import Index
from retriever.pipeline import Retriever
from server.settings import Settings
from tests.conftest import ROOT, TINY, FakeEncoder, write_corpus
from tests.serving import live_server, server_process, tiny_index

CATS_OLD = "Cats sleep for sixteen hours a day."
CATS_NEW = "Cats sleep for twenty hours on rainy days."
CATS_Q = "How long do cats sleep?"


def rebuild(corpus: Path, index_dir: Path, cats: str = CATS_NEW, **kw) -> None:
    (corpus / "animals/cats.txt").write_text(cats + "\nA cat purrs when it is content.\n")
    assert build_index(corpus, index_dir, encoder=kw.pop("encoder", FakeEncoder()), progress=False, **kw).written


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.parent.iterdir()
                  if p.name.startswith(f".{index_dir.name}.") and not p.name.endswith(".lock"))


def wait_for(predicate, seconds: float = 60.0, every: float = 0.05):
    """Poll ``predicate`` until it returns something true (bounded: fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {seconds} s")
        time.sleep(every)
    return value


def test_an_open_index_keeps_reading_its_own_files_after_a_rebuild(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    old = Retriever.open(index_dir, encoder=FakeEncoder())
    assert old.ask(CATS_Q).answer.text == CATS_OLD
    rebuild(tiny_corpus, index_dir)
    assert [n.split("-")[0] for n in leftovers(index_dir)] == [".idx.retired"]  # kept: `old` still reads it

    seen = {}

    def other_thread():  # a thread that never read the old index opens its own SQLite connection now
        seen["answer"] = old.ask(CATS_Q).answer.text
        seen["text"] = old.index.store.document_text("animals/cats.txt")

    t = threading.Thread(target=other_thread)
    t.start()
    t.join(60)
    assert seen == {"answer": CATS_OLD, "text": TINY["animals/cats.txt"]}  # the old index, not the new one
    new = Retriever.open(index_dir, encoder=FakeEncoder())
    assert new.ask(CATS_Q).answer.text == CATS_NEW

    old.index.close()
    with pytest.raises(IndexClosed):
        old.ask(CATS_Q)
    rebuild(tiny_corpus, index_dir, cats="Cats sleep all day.")  # the next run deletes what no reader holds
    assert [n.split("-")[0] for n in leftovers(index_dir)] == [".idx.retired"]  # `new` is still open
    new.index.close()
    rebuild(tiny_corpus, index_dir)
    assert leftovers(index_dir) == []


def test_server_watches_the_index_and_switches(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with live_server(Settings(index_dir=index_dir, watch_seconds=0.1)) as url, httpx.Client(base_url=url) as c:
        before = c.get("/health").json()
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_OLD
        rebuild(tiny_corpus, index_dir)
        after = wait_for(lambda: (h := c.get("/health").json())["version"] != before["version"] and h)
        assert after["reload_error"] is None and after["updated_at"] >= before["updated_at"]
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_NEW
        ctx = c.get("/context", params={"source": "animals/cats.txt", "start_char": 0, "end_char": 4}).json()
        assert ctx["after"].startswith(CATS_NEW[4:])
        # the server closed the old index (no request uses it): the next indexer run deletes it
        assert not build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False).written
        assert leftovers(index_dir) == []


def test_reload_endpoint_switches_on_demand_and_needs_the_key(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    settings = Settings(index_dir=index_dir, watch_seconds=0, api_key="k3y")
    key = {"X-API-Key": "k3y"}
    with live_server(settings) as url, httpx.Client(base_url=url, headers=key) as c:
        v1 = c.get("/health").json()["version"]
        assert c.post("/admin/reload").json() == {"reloaded": False, "version": v1, "previous": v1}
        rebuild(tiny_corpus, index_dir)
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_OLD  # no watch
        assert httpx.post(f"{url}/admin/reload").status_code == 401
        r = c.post("/admin/reload").json()
        assert r["reloaded"] is True and r["previous"] == v1 and r["version"] != v1
        assert c.get("/health").json()["version"] == r["version"]
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_NEW


@pytest.mark.parametrize("damage", ["another model", "truncated FAISS file", "deleted"])
def test_a_new_index_that_fails_to_open_leaves_the_old_one_serving(tiny_corpus, tmp_path, damage):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with live_server(Settings(index_dir=index_dir, watch_seconds=0.1)) as url, httpx.Client(base_url=url) as c:
        v1 = c.get("/health").json()["version"]
        if damage == "another model":  # what the server embeds questions with no longer fits
            rebuild(tiny_corpus, index_dir, encoder=FakeEncoder(dim=64), rebuild=True)
            says = "was built with the model"
        elif damage == "truncated FAISS file":
            rebuild(tiny_corpus, index_dir)
            with open(index_dir / "chunks.faiss", "r+b") as f:
                f.truncate(100)
            says = "truncated"
        else:
            shutil.rmtree(index_dir)
            says = "no index at"
        r = c.post("/admin/reload")
        assert r.status_code == 409
        detail = r.json()["detail"]
        assert says in detail and f"still serving version {v1}" in detail and "\n" not in detail
        health = wait_for(lambda: (h := c.get("/health").json())["reload_error"] and h) if damage != "deleted" \
            else c.get("/health").json()
        assert health["version"] == v1
        if damage != "deleted":  # deleted by hand, lease or not: threads without an open connection fail
            assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_OLD  # old one serves
        # fixed by the next build: the server switches to it and forgets the error
        rebuild(tiny_corpus, index_dir, cats=CATS_NEW, rebuild=True)
        health = wait_for(lambda: (h := c.get("/health").json())["version"] != v1 and h)
        assert health["reload_error"] is None
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_NEW


def test_a_request_in_flight_finishes_on_the_index_it_started_on(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    entered, go = threading.Event(), threading.Event()
    opened: list[Retriever] = []

    class Gated(Retriever):
        def ask(self, question, k=5, qvec=None):
            if question.startswith("wait:"):
                entered.set()
                go.wait(60)
            return super().ask(question.removeprefix("wait:"), k, qvec)

    def load(settings):
        opened.append(Gated(Index(settings.index_dir), BatchingEncoder(FakeEncoder())))
        return opened[-1]

    with live_server(Settings(index_dir=index_dir, watch_seconds=0), load=load) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        slow: dict = {}
        t = threading.Thread(target=lambda: slow.update(c.post("/ask", json={"question": "wait:" + CATS_Q}).json()))
        t.start()
        assert entered.wait(60)
        rebuild(tiny_corpus, index_dir)
        assert c.post("/admin/reload").json()["reloaded"] is True
        assert c.post("/ask", json={"question": CATS_Q}).json()["answer"]["text"] == CATS_NEW
        assert not opened[0].index.store._closed  # still in use by the request in flight
        go.set()
        t.join(60)
        assert slow["answer"]["text"] == CATS_OLD
        wait_for(lambda: opened[0].index.store._closed)  # closed once its last request is done
        assert not opened[1].index.store._closed


@pytest.mark.slow
def test_rebuild_under_a_server_process_fails_no_request(tmp_path):
    """A server process, clients asking without pause, and an indexer process rebuilding (fake encoder)."""
    corpus = write_corpus(tmp_path / "corpus", TINY)
    for i in range(150):  # enough for the rebuild to take a while, so requests overlap it
        (corpus / f"filler/{i:03}.txt").parent.mkdir(exist_ok=True)
        (corpus / f"filler/{i:03}.txt").write_text(f"Filler note {i} is about topic {i * 7 % 13}. " * 20)
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, encoder=FakeEncoder(), progress=False)
    (corpus / "animals/cats.txt").write_text(CATS_NEW + "\n")
    with server_process(index_dir, "--watch", "0.2", log=tmp_path / "server.log") as (_, url):
        stats = asyncio.run(_ask_during(url, [sys.executable, "-m", "tests.fake_cli", "index", str(corpus),
                                              "--index-dir", str(index_dir), "--rebuild"]))
    log = (tmp_path / "server.log").read_text()
    print(stats)
    assert stats["failed"] == [], log[-3000:]
    assert stats["rebuild_rc"] == 0
    assert stats["old"] > 0 and stats["new"] > 0 and stats["other"] == 0
    assert stats["new_then_old"] == 0  # once switched, never back
    assert "now serving" in log and "Traceback" not in log


@pytest.mark.model
def test_real_indexer_rebuilds_under_the_real_server(tmp_path, real_encoder):
    """`python -m server` (ONNX encoder) while `python -m indexer` (torch) updates its index."""
    corpus = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, encoder=real_encoder, progress=False)
    (corpus / "animals/cats.txt").write_text(CATS_NEW + "\n")
    with server_process(index_dir, "--watch", "0.5", fake=False, log=tmp_path / "server.log") as (_, url):
        stats = asyncio.run(_ask_during(url, [sys.executable, "-m", "indexer", str(corpus), "--index-dir",
                                              str(index_dir), "-q"]))
    log = (tmp_path / "server.log").read_text()
    print(stats)
    assert stats["failed"] == [] and stats["rebuild_rc"] == 0, log[-3000:]
    assert stats["old"] > 0 and stats["new"] > 0 and stats["other"] == 0 and stats["new_then_old"] == 0
    assert "now serving" in log and "Traceback" not in log


async def _ask_during(url: str, rebuild_command: list[str], clients: int = 4, max_requests: int = 20_000) -> dict:
    """Clients ask about cats without pause while ``rebuild_command`` runs, then until every client has
    seen the new text (bounded in count and time). A response is old or new by the cats sentence it cites."""
    stats = {"requests": 0, "failed": [], "old": 0, "new": 0, "other": 0, "new_then_old": 0}
    proc = await asyncio.create_subprocess_exec(*rebuild_command, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    deadline = time.monotonic() + 180

    async def client(http: httpx.AsyncClient) -> None:
        switched = False
        while stats["requests"] < max_requests and time.monotonic() < deadline:
            stats["requests"] += 1
            try:
                r = await http.post("/ask", json={"question": CATS_Q, "k": 3})
            except httpx.HTTPError as e:
                stats["failed"].append(repr(e))
                continue
            if r.status_code != 200:
                stats["failed"].append(f"{r.status_code} {r.text[:200]}")
            elif CATS_OLD in r.text and CATS_NEW not in r.text:
                stats["old"] += 1
                stats["new_then_old"] += switched
            elif CATS_NEW in r.text and CATS_OLD not in r.text:
                stats["new"] += 1
                switched = True
                if proc.returncode is not None:
                    return
            else:
                stats["other"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        waiter = asyncio.create_task(proc.wait())
        await asyncio.gather(*(client(http) for _ in range(clients)))
        await waiter
    stats["rebuild_rc"] = proc.returncode
    return stats


def test_a_switch_is_announced_once_and_only_a_switch(tiny_corpus, tmp_path):
    """LiveIndex.on_switch (how a worker tells the others, server/workers.py) follows each switch only."""
    from server.live import LiveIndex
    from tests.serving import fake_loader

    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    calls = []

    async def scenario():
        live = LiveIndex(Settings(index_dir=index_dir), fake_loader)
        await live.start()
        live.on_switch = lambda: calls.append(live.current.version)
        assert not (await live.reload()).reloaded and calls == []  # nothing new
        rebuild(tiny_corpus, index_dir)
        outcome = await live.reload()
        assert outcome.reloaded and calls == [outcome.version]
        assert not (await live.reload(force=True)).reloaded and len(calls) == 1
        live.on_switch = lambda: 1 / 0  # a failing notice does not undo the switch
        rebuild(tiny_corpus, index_dir, cats="Cats sleep all afternoon.")
        assert (await live.reload()).reloaded
        live.close()

    asyncio.run(scenario())
