"""eval/bench/index.py's folders and child measurement (the timings themselves are not tested)."""

from __future__ import annotations

import sys

from eval.bench.index import _popen_wait4, make_compare_folder, make_many_files


def test_folders_are_made_mechanically(tmp_path):
    many = make_many_files(tmp_path / "many", 50)
    files = sorted(many.iterdir())
    assert len(files) == 50 and len({f.read_text() for f in files}) == 50
    src = tmp_path / "src"
    src.mkdir()
    for i in range(10):
        (src / f"{i}.txt").write_text("word " * 2000)  # 10 KB each
    out = make_compare_folder(tmp_path / "cmp", target_bytes=25_000, source=src)
    assert len(list(out.iterdir())) == 3


def test_a_child_is_measured(tmp_path):
    r = _popen_wait4([sys.executable, "-c", "x = bytearray(50_000_000); print('done')"])
    assert r["out"] == ["done"] and r["peak_rss_mb"] > 45 and r["wall_s"] > 0 and r["cpu_s"] >= 0
