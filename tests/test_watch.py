"""Watch mode: a change in the watched folder leads to an updated index; Ctrl-C (or SIGTERM) stops it cleanly."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.indexdir.fsutil import live_dir
from indexer.indexdir.store import read_manifest
from indexer.watch import index_paths_filter, watch_and_index
from tests.conftest import ROOT, TINY, FakeEncoder

pytest.importorskip("watchfiles")


def _sources(index_dir: Path) -> dict[str, str]:
    try:
        return {d["source"]: d["sha256"] for d in read_manifest(live_dir(index_dir))["documents"]}
    except Exception:
        return {}


def _until(condition, touch=None, seconds: float = 60.0) -> bool:
    """Poll ``condition``; every 2 s call ``touch`` again (a change made before the watcher was ready is missed)."""
    deadline, next_touch = time.monotonic() + seconds, 0.0
    while time.monotonic() < deadline:
        if touch is not None and time.monotonic() >= next_touch:
            touch()
            next_touch = time.monotonic() + 2.0
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_change_in_the_watched_folder_updates_the_index(tiny_corpus, tmp_path):
    idx = tmp_path / "idx"
    stop, out = threading.Event(), io.StringIO()
    status = []
    thread = threading.Thread(target=lambda: status.append(watch_and_index(
        tiny_corpus, idx, FakeEncoder(), debounce_ms=100, build_options={"progress": False}, stop_event=stop,
        out=out)), daemon=True)
    thread.start()
    try:
        assert _until(lambda: "watching" in out.getvalue()), out.getvalue()
        assert set(_sources(idx)) == set(TINY)  # the first build

        new = tiny_corpus / "birds.txt"
        assert _until(lambda: "birds.txt" in _sources(idx), touch=lambda: new.write_text("Penguins swim.\n"))
        before = _sources(idx)["space.txt"]
        n = [0]

        def edit():
            n[0] += 1
            (tiny_corpus / "space.txt").write_text(f"The Moon is far away (edit {n[0]}).\n")

        assert _until(lambda: _sources(idx).get("space.txt") not in (None, before), touch=edit)
        (tiny_corpus / "money.txt").unlink()
        assert _until(lambda: "money.txt" not in _sources(idx))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and status == [0]
    text = out.getvalue()
    assert "changed: birds.txt" in text and "1 added" in text and "1 removed" in text


def test_first_build_failing_watches_nothing(tmp_path, capsys):
    assert watch_and_index(tmp_path / "nope", tmp_path / "idx", FakeEncoder(), out=io.StringIO()) == 1
    assert capsys.readouterr().err.startswith("error: source folder not found")


def test_the_index_own_files_are_not_changes(tmp_path):
    from watchfiles import Change

    keep = index_paths_filter(tmp_path / "docs" / ".idx")
    assert keep(Change.modified, str(tmp_path / "docs" / "a.txt"))
    assert keep(Change.added, str(tmp_path / "docs" / "sub" / "b.md"))
    for own in (".idx/manifest.json", "..idx.tmp-123/chunks.sqlite", "..idx.old/manifest.json", "..idx.lock"):
        assert not keep(Change.modified, str(tmp_path / "docs" / own)), own
    assert not keep(Change.modified, str(tmp_path / "docs" / ".git" / "index"))  # watchfiles' default filter


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_watching_cleanly(sig, tiny_corpus, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_cli", "index", str(tiny_corpus), "--index-dir",
                             str(tmp_path / "idx"), "--watch"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("watching"):
                break
        assert lines and lines[0].startswith(f"index updated: {tmp_path / 'idx'}: {len(TINY)} added"), lines
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "stopped watching; the index holds the last completed update" in rest
    assert "Traceback" not in rest
    assert set(_sources(tmp_path / "idx")) == set(TINY)


def test_index_cli_watch_flag_runs_watch_mode(tiny_corpus, tmp_path, monkeypatch):
    """`python -m indexer DIR --watch` (and `quarry index DIR --watch`) hand the build's options to the watcher."""
    import indexer.watch
    from retriever.commands import main

    seen = {}

    def fake_watch(source_dir, index_dir, encoder, debounce_ms, build_options, first_options):
        seen.update(source=source_dir, index=index_dir, debounce=debounce_ms, options=build_options,
                    first=first_options)
        return 0

    monkeypatch.setattr(indexer.watch, "watch_and_index", fake_watch)
    idx = str(tmp_path / "idx")
    assert main(["index", str(tiny_corpus), "--index-dir", idx, "--watch", "--debounce", "250", "-q",
                 "--rebuild"]) == 0
    assert seen["source"] == str(tiny_corpus) and str(seen["index"]) == idx and seen["debounce"] == 250
    assert seen["options"]["progress"] is False and seen["first"] == {"rebuild": True}
    assert main(["index", str(tiny_corpus), "--index-dir", idx, "--watch", "--debounce", "0"]) == 2
