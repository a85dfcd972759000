"""Server discovery: the file a running server writes for ``ask`` (its path, content, lifetime)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from indexer.paths import server_file
from server import discovery


def test_server_file_is_the_agreed_path(tmp_path):
    index_dir = tmp_path / "some" / ".." / "idx"
    key = hashlib.sha256(str((tmp_path / "idx").resolve()).encode()).hexdigest()[:16]
    assert server_file(index_dir) == tmp_path / "cache" / "quarry" / "servers" / f"{key}.json"  # XDG_CACHE_HOME


def test_advertise_read_withdraw(tmp_path):
    idx = tmp_path / "idx"
    path = discovery.advertise(idx, "http://127.0.0.1:5555", api_key=True)
    assert path == server_file(idx)
    assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:5555", "pid": os.getpid(),
                                            "index_dir": str(idx.resolve()), "api_key": True}
    assert discovery.read(idx)["url"] == "http://127.0.0.1:5555"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    discovery.withdraw(idx)
    assert not path.exists() and discovery.read(idx) is None


def test_a_dead_server_is_not_read_and_another_servers_file_is_not_removed(tmp_path):
    idx = tmp_path / "idx"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = server_file(idx)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": int(dead.stdout), "index_dir": str(idx),
                                "api_key": False}))
    assert discovery.read(idx) is None
    discovery.withdraw(idx)  # not ours: left alone
    assert path.exists()


def test_url_for():
    assert discovery.url_for("127.0.0.1", 80) == "http://127.0.0.1:80"
    assert discovery.url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert discovery.url_for("::1", 8000) == "http://[::1]:8000"
