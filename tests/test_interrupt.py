"""Interrupted builds: SIGKILL the indexer at each stage; the previous index still opens and answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from indexer.build import build_index
from retriever.pipeline import Retriever
from tests.conftest import ROOT, TINY, FakeEncoder, write_corpus

QUESTIONS = ["How long do cats sleep?", "How many moons does Mars have?", "Where do penguins live?"]

# Runs build_index with a fake encoder, stopping (to be killed) when it reaches the named stage.
DRIVER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    import indexer.build as build
    import indexer.indexdir.fsutil as fsutil
    import indexer.indexdir.writer as store  # the writer swaps the folder in
    from tests.conftest import FakeEncoder

    source, index_dir, point = sys.argv[1:4]

    def stop(name):
        if name == point:
            print("AT " + name, flush=True)
            time.sleep(120)

    def wrap(owner, attr, before=None, after=None):
        original = getattr(owner, attr)
        def wrapped(*a, **kw):
            if before:
                stop(before)
            out = original(*a, **kw)
            if after:
                stop(after)
            return out
        setattr(owner, attr, wrapped)

    wrap(build, "find_files", after="scanned")
    wrap(FakeEncoder, "encode", before="embedding")
    wrap(build, "build_faiss", before="faiss")
    wrap(store, "replace_dir", before="swap", after="swapped")
    if point.startswith("fallback"):
        fsutil._exchange = lambda a, b: False  # no renameat2: the two-rename path
        renames = []
        real_rename = os.rename
        def rename(a, b):
            real_rename(a, b)
            renames.append(b)
            if len(renames) == 1:
                stop("fallback-between-renames")
        fsutil.os.rename = rename
    build.build_index(source, index_dir, encoder=FakeEncoder(), progress=False)
    print("DONE", flush=True)
""")


def _answers(index_dir: Path) -> list[dict]:
    retriever = Retriever.open(index_dir, encoder=FakeEncoder())
    try:
        return [retriever.ask(q, k=3).to_dict() for q in QUESTIONS]
    finally:
        retriever.index.close()


def _run_until(driver: Path, source: Path, index_dir: Path, point: str) -> None:
    proc = subprocess.Popen([sys.executable, str(driver), str(source), str(index_dir), point],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline().strip()
        assert line == f"AT {point}", f"driver did not reach {point}: {line!r} {proc.stderr.read()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def driver(tmp_path) -> Path:
    path = tmp_path / "driver.py"
    path.write_text(DRIVER.format(root=str(ROOT)))
    return path


@pytest.mark.parametrize("point", ["scanned", "embedding", "faiss", "swap", "fallback-between-renames"])
def test_killed_update_leaves_previous_index_answering_the_same(tmp_path, driver, point):
    source = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    build_index(source, index_dir, encoder=FakeEncoder(), progress=False)
    before = _answers(index_dir)
    # an update that would change answers: a new file, a changed file, a deleted file
    (source / "penguins.txt").write_text("Penguins live in Antarctica and eat krill.")
    (source / "animals/cats.txt").write_text("Cats hunt mice at night.")
    (source / "money.txt").unlink()

    _run_until(driver, source, index_dir, point)

    assert _answers(index_dir) == before  # opens (checksums verified) and answers as before
    # the next run cleans up and completes the update
    report = build_index(source, index_dir, encoder=FakeEncoder(), progress=False)
    assert report.written and report.added == ["penguins.txt"] and report.removed == ["money.txt"]
    assert _answers(index_dir)[2]["passages"][0]["source"] == "penguins.txt"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".idx") and p.name != ".idx.lock"]
    assert leftovers == []


def test_killed_right_after_swap_leaves_the_new_index_whole(tmp_path, driver):
    source = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    build_index(source, index_dir, encoder=FakeEncoder(), progress=False)
    (source / "penguins.txt").write_text("Penguins live in Antarctica and eat krill.")
    _run_until(driver, source, index_dir, "swapped")
    assert _answers(index_dir)[2]["passages"][0]["source"] == "penguins.txt"
    assert not build_index(source, index_dir, encoder=FakeEncoder(), progress=False).written


@pytest.mark.parametrize("point", ["embedding", "swap"])
def test_killed_first_build_leaves_no_half_index(tmp_path, driver, point):
    source = write_corpus(tmp_path / "corpus", TINY)
    index_dir = tmp_path / "idx"
    _run_until(driver, source, index_dir, point)
    assert not index_dir.exists()
    build_index(source, index_dir, encoder=FakeEncoder(), progress=False)
    assert len(_answers(index_dir)) == len(QUESTIONS)
