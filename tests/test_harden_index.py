"""Issue 20, index side: an index names no file outside itself, a manifest of the wrong types and an
unreadable index file are clear one-line errors, and the lock and swap work on the resolved path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexLocked, ModelError
from indexer.hashcache import file_sha256
from indexer.indexdir.fsutil import writer_lock
from indexer.indexdir.store import FORMAT_VERSION, MANIFEST, IndexStore
from retriever.index import Index
from retriever.query_encoder import onnx_encoder
from tests.conftest import ROOT, TINY, FakeEncoder, write_corpus

PY = sys.executable


@pytest.fixture
def index_dir(tiny_corpus, tmp_path, fake_encoder) -> Path:
    out = tmp_path / "idx"
    build_index(tiny_corpus, out, encoder=fake_encoder, progress=False, onnx=False)
    return out


def _manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / MANIFEST).read_text())


def _write(index_dir: Path, manifest: dict) -> None:
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def _list(index_dir: Path, manifest: dict, name: str) -> None:
    """Cover ``name`` by the manifest's checksums, as a build that wrote it would."""
    path = index_dir / name
    manifest["files"][name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}


# -- 1. every file an index names stays inside it and is checksummed

@pytest.mark.parametrize("ids", ["/etc/passwd", "../outside.npy", "sub/../../outside.npy", "linked.npy",
                                 "unlisted.npy"])
def test_faiss_ids_must_be_a_checksummed_file_inside_the_index(index_dir, tmp_path, ids):
    import numpy as np

    outside = tmp_path / "outside.npy"
    np.save(outside, np.arange(4, dtype=np.int64))
    manifest = _manifest(index_dir)
    if ids == "linked.npy":  # a link in the folder to a file outside it, even with its checksum listed
        (index_dir / ids).symlink_to(outside)
        _list(index_dir, manifest, ids)
    if ids == "unlisted.npy":
        shutil.copy(outside, index_dir / ids)
    manifest["faiss"]["ids"] = ids
    _write(index_dir, manifest)
    opened = []
    real_load = np.load
    np.load = lambda p, *a, **k: opened.append(str(p)) or real_load(p, *a, **k)
    try:
        with pytest.raises(IndexCorrupt, match="outside the index|do not cover") as e:
            Index(index_dir)
    finally:
        np.load = real_load
    assert ("faiss.ids" in str(e.value) or "file list" in str(e.value)) and "\n" not in str(e.value)
    assert not any("outside" in p or p.endswith(ids) for p in opened if "vectors" not in p)


def _fake_export(index_dir: Path, settings: dict) -> dict:
    """An ONNX export folder named by the manifest, its files checksummed (nothing loadable)."""
    manifest = _manifest(index_dir)
    folder = index_dir / "encoder"
    folder.mkdir(exist_ok=True)
    base = {"format": "quarry-onnx-encoder", "version": 1, "pooling": "mean", "onnx": "model.onnx",
            "tokenizer": "tokenizer.json", "inputs": ["input_ids"], "output": "token_embeddings",
            "max_seq_length": 128, "pad_id": 0, "pad_token": "[PAD]",
            "model": manifest["model"]}
    (folder / "encoder.json").write_text(json.dumps({**base, **settings}))
    for name in ("model.onnx", "tokenizer.json"):
        if not (folder / name).exists() and not (folder / name).is_symlink():
            (folder / name).write_bytes(b"not a model")
    for p in sorted(folder.iterdir()):
        _list(index_dir, manifest, f"encoder/{p.name}")
    manifest["query_encoder"] = {"status": "ok", "format": "onnx", "path": "encoder", "version": 1,
                                 "model_fingerprint": manifest["model"]["fingerprint"]}
    _write(index_dir, manifest)
    return manifest


@pytest.mark.parametrize("key", ["onnx", "tokenizer"])
@pytest.mark.parametrize("name", ["/tmp/other-model.onnx", "../../other.onnx", "sub/model.onnx"])
def test_encoder_json_names_only_files_of_its_own_folder(index_dir, key, name):
    _fake_export(index_dir, {key: name})
    with pytest.raises(ModelError, match=f"{key} must name a file in .*a plain file name"):
        onnx_encoder(Index(index_dir))


def test_an_export_file_linking_out_of_the_index_is_refused(index_dir, tmp_path):
    other = tmp_path / "other.onnx"
    other.write_bytes(b"another model")
    (index_dir / "encoder").mkdir()
    (index_dir / "encoder" / "model.onnx").symlink_to(other)
    _fake_export(index_dir, {})
    # the manifest lists the link with the outside file's checksum: the data files still verify
    with pytest.raises(IndexCorrupt, match="names 'encoder/model.onnx', a link that leads outside the index"):
        Index(index_dir, verify=False)


def test_an_export_file_the_checksums_do_not_cover_is_refused(index_dir):
    _fake_export(index_dir, {"tokenizer": "other-tokenizer.json"})  # not in the folder, not listed
    with pytest.raises(IndexCorrupt, match="encoder.json's tokenizer names 'encoder/other-tokenizer.json', "
                                           "a file the manifest's checksums do not cover"):
        onnx_encoder(Index(index_dir))


def test_a_symlinked_export_folder_is_refused(index_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (index_dir / "encoder").symlink_to(elsewhere)
    _fake_export(index_dir, {})
    with pytest.raises(IndexCorrupt, match="link that leads outside the index"):
        Index(index_dir)  # its files are listed: verify_files resolves them first


# -- 3. manifest of valid JSON, wrong types: which field, said once, no traceback

@pytest.mark.parametrize("change, field", [
    (lambda m: m.update(files="chunks.sqlite"), "'files'"),
    (lambda m: m.update(dim="abc"), "'dim'"),
    (lambda m: m.update(documents={"a": 1}), "'documents'"),
    (lambda m: m["counts"].update(chunks=None), "'counts.chunks'"),
    (lambda m: m["files"]["chunks.faiss"].update(size="4218"), "'files.chunks.faiss.size'"),
    (lambda m: m["files"]["chunks.faiss"].update(sha256=7), "'files.chunks.faiss.sha256'"),
    (lambda m: m["model"].update(dim=True), "'model.dim'"),
    (lambda m: m.update(faiss=[]), "'faiss'"),
    (lambda m: m["documents"][0].pop("source"), "'documents.0.source'"),
    (lambda m: m.update(format_version="3"), "'format_version'"),
    (lambda m: m.update(format_version=3.0), "'format_version'"),
])
def test_a_manifest_of_wrong_types_names_the_field(index_dir, change, field):
    manifest = _manifest(index_dir)
    change(manifest)
    _write(index_dir, manifest)
    with pytest.raises(IndexCorrupt) as e:
        Index(index_dir)
    message = str(e.value)
    assert f"field {field} is wrong" in message, message
    assert "this quarry reads format 3" not in message  # a "3" is not format 3: no self-contradiction


def test_a_manifest_that_is_not_an_object(index_dir):
    for text in ("[]", "3", '"x"', "null", "{"):
        (index_dir / MANIFEST).write_text(text)
        with pytest.raises(IndexCorrupt, match="not a quarry manifest|not valid JSON"):
            Index(index_dir)


def test_other_format_still_says_which(index_dir):
    manifest = _manifest(index_dir)
    manifest["format_version"] = 999
    _write(index_dir, manifest)
    with pytest.raises(IndexIncompatible, match=f"format 999, this quarry reads format {FORMAT_VERSION}") as e:
        Index(index_dir)
    # the command to rebuild it names the folder it was built from
    assert f"python -m indexer {manifest['source_dir']} --index-dir" in e.value.hint


def _as_nobody() -> list[str]:
    """Run a child as an unprivileged user when we are root (root reads a chmod 000 file)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: a chmod 000 file stays readable")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def shared_dir():
    """A folder an unprivileged child can enter (pytest's tmp_path is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="quarry-harden-"))
    path.chmod(0o755)
    yield path
    for p in path.rglob("*"):
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path, ignore_errors=True)


def _child(shared_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(shared_dir / "cache"), "HOME": str(shared_dir),
           "PYTHONPATH": str(ROOT), "QUARRY_ENCODER": "torch"}
    return subprocess.run([*_as_nobody(), PY, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


FAKE_BUILD = ("import sys; sys.path.insert(0, {root!r}); from tests.conftest import FakeEncoder; "
              "from indexer.build import build_index; "
              "r = build_index({src!r}, {idx!r}, encoder=FakeEncoder(), progress=False, onnx=False)")


@pytest.mark.parametrize("name", ["manifest.json", "chunks.sqlite", "chunks.faiss", "chunk_vectors.npy",
                                  "sentence_vectors.npy"])
def test_an_unreadable_index_file_is_one_line_from_the_indexer_and_the_server(shared_dir, name):
    src = write_corpus(shared_dir / "src", TINY)
    idx = shared_dir / "idx"
    build_index(src, idx, encoder=FakeEncoder(), progress=False, onnx=False)
    for p in [shared_dir, *shared_dir.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o777 if p.is_dir() else 0o666)
    (idx / name).chmod(0)
    # the library, as the server and `ask` open it
    run = _child(shared_dir, "-c", f"from retriever.index import Index; Index({str(idx)!r})")
    assert run.returncode != 0 and "Traceback" in run.stderr  # the library raises: a typed error
    assert "IndexCorrupt" in run.stderr and f"cannot read {idx / name} (permission denied)" in run.stderr
    # the server refuses to start with one line
    run = _child(shared_dir, "-m", "server", "--index-dir", str(idx), "--port", "0")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and f"cannot read {idx / name} (permission denied)" in run.stderr
    assert "chmod" in run.stderr
    # the indexer: an index it cannot read is rebuilt, saying why, without a traceback
    run = _child(shared_dir, "-c", FAKE_BUILD.format(root=str(ROOT), src=str(src), idx=str(idx))
                 + "; print(r.summary())")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"full rebuild: the existing index cannot be reused: cannot read {idx / name} (permission denied)" \
        in run.stdout
    assert IndexStore(idx).manifest["counts"]["documents"] == len(TINY)


def test_ask_on_an_unreadable_index_file_is_one_line(shared_dir):
    src = write_corpus(shared_dir / "src", TINY)
    idx = shared_dir / "idx"
    build_index(src, idx, encoder=FakeEncoder(), progress=False, onnx=False)
    for p in [shared_dir, *shared_dir.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)
    (idx / "chunks.sqlite").chmod(0)
    run = _child(shared_dir, "-m", "retriever", "cats", "--index-dir", str(idx), "--no-server")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith(f"error: cannot read {idx / 'chunks.sqlite'} (permission denied)")


# -- 2. lock and swap on the resolved path

def test_the_same_index_through_a_symlink_takes_the_same_lock(tmp_path):
    real = tmp_path / "real" / "idx"
    real.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    with writer_lock(real), pytest.raises(IndexLocked):
        with writer_lock(link):
            pass
    with writer_lock(link), pytest.raises(IndexLocked):
        with writer_lock(tmp_path / "real" / ".." / "real" / "idx"):
            pass


def test_a_symlinked_index_is_updated_behind_its_link(tmp_path, fake_encoder):
    src = write_corpus(tmp_path / "src", TINY)
    real = tmp_path / "store" / "idx"
    build_index(src, real, encoder=fake_encoder, progress=False, onnx=False)
    link = tmp_path / "idx-link"
    link.symlink_to(real)
    (src / "new.txt").write_text("Owls hunt at night and sleep by day.\n")
    report = build_index(src, link, encoder=fake_encoder, progress=False, onnx=False)
    assert report.written and report.added == ["new.txt"]
    assert link.is_symlink() and os.readlink(link) == str(real)  # still the link, to the same folder
    assert "new.txt" in {d["source"] for d in IndexStore(real).documents()}
    left = sorted(p.name for d in (tmp_path, tmp_path / "store") for p in d.iterdir()
                  if ".tmp-" in p.name or ".retired-" in p.name or p.name.endswith(".old"))
    assert left == []


def test_a_dangling_index_link_is_built_at_its_target(tmp_path, fake_encoder):
    src = write_corpus(tmp_path / "src", TINY)
    target = tmp_path / "later" / "idx"
    link = tmp_path / "idx-link"
    link.symlink_to(target)
    build_index(src, link, encoder=fake_encoder, progress=False, onnx=False)
    assert link.is_symlink() and (target / MANIFEST).is_file()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
