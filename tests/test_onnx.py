"""The ONNX query path: the export in the index, its agreement with torch, re-use, fallbacks, no torch at ask."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from indexer.build import build_index
from indexer.encoder import SentenceTransformerEncoder, default_model_path
from indexer.errors import IndexCorrupt, IndexIncompatible, ModelError
from indexer.indexdir.store import MANIFEST
from indexer.onnx_encoder import OnnxEncoder
from retriever.index import Index
from retriever.pipeline import Retriever
from retriever.query_encoder import onnx_encoder, open_query_encoder, verify_against_index
from tests.conftest import ROOT, TINY, FakeEncoder

pytestmark = pytest.mark.model

QUESTIONS = [
    "How much are big technology companies expected to spend on AI data centers this year?",
    "Who is the CEO of Anthropic?",
    "What is a moat?",
    "How much did Amazon invest in Anthropic?",
    "Who are OpenAI's major rivals?",
    "What is the Great Re-materialization?",
    "What is the capital of France?",
    "how many GPUs??? (approx.) — 2026",
    "Qu'est-ce que l'infrastructure de l'IA ? 人工知能",
    "x",
    "What " * 400,  # longer than the model's 256 tokens: truncated the same way
]


@pytest.fixture
def tiny_index(tiny_corpus, tmp_path, real_encoder):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=real_encoder, progress=False)
    return index_dir


def test_the_export_lives_in_the_index_under_its_checksums(seeds_index):
    manifest = json.loads((seeds_index / MANIFEST).read_text())
    entry = manifest["query_encoder"]
    assert entry["status"] == "ok" and entry["path"] == "encoder"
    assert entry["model_fingerprint"] == manifest["model"]["fingerprint"]
    exported = sorted(p.name for p in (seeds_index / "encoder").iterdir())
    assert exported == ["encoder.json", "model.onnx", "model.onnx.data", "tokenizer.json"]
    assert all(f"encoder/{name}" in manifest["files"] for name in exported)
    settings = json.loads((seeds_index / "encoder" / "encoder.json").read_text())
    assert settings["model"] == manifest["model"]
    assert settings["pooling"] == "mean" and settings["max_seq_length"] == 256
    assert settings["check"]["min_cosine"] >= 0.999


def test_onnx_embeds_questions_as_torch_does(seeds_index, real_encoder):
    onnx = OnnxEncoder(seeds_index / "encoder")
    assert onnx.fingerprint == real_encoder.fingerprint and onnx.dim == real_encoder.dim
    a, b = real_encoder.encode(QUESTIONS), onnx.encode(QUESTIONS)
    assert b.dtype == np.float32 and b.shape == (len(QUESTIONS), 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= 0.999, dict(zip(QUESTIONS, cosines.round(5)))
    # one at a time (no padding) gives the same vectors as in a padded batch
    single = np.vstack([onnx.encode([q]) for q in QUESTIONS[:4]])
    np.testing.assert_allclose(single, b[:4], atol=1e-5)
    # its idle threads sleep: a spinning pool slowed the rest of a warm `ask` (p50 8.5 -> 6 ms, README)
    assert onnx._session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_the_default_encoder_of_an_index_is_its_verified_onnx_export(seeds_index):
    index = Index(seeds_index)
    encoder = open_query_encoder(index)
    assert isinstance(encoder, OnnxEncoder)
    assert verify_against_index(encoder, index) >= 0.999
    assert isinstance(Retriever.open(seeds_index).encoder, OnnxEncoder)
    assert isinstance(open_query_encoder(index, prefer="torch"), SentenceTransformerEncoder)


def test_ask_imports_no_torch(seeds_index):
    code = ("import json, sys\n"
            "from retriever.cli import main\n"
            f"assert main(['--json', '--index-dir', {str(seeds_index)!r}, 'Who is the CEO of Anthropic?']) == 0\n"
            "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "Dario Amodei" in json.loads(out.stdout)["answer"]["text"]


def test_ask_writes_nothing_in_home_but_its_cache(seeds_index, tmp_path):
    # onnxruntime queues telemetry events in ~/.cache/Microsoft/DeveloperTools unless told not to
    # at its import; ask tells it (set_offline), and writes nothing in HOME but its own cache
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    out = subprocess.run([sys.executable, "-m", "retriever", "--json", "--no-server", "--index-dir",
                          str(seeds_index), "Who is the CEO of Anthropic?"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["answer"]["text"]
    written = {str(p.relative_to(home)) for p in home.rglob("*")} - {".cache"}
    assert {w for w in written if not w.startswith(".cache/quarry")} == set()  # quarry's own cache only


def test_update_reuses_the_export_and_failures_keep_the_index(tiny_corpus, tiny_index, real_encoder, monkeypatch):
    import indexer.onnx_export as onnx_export

    data = tiny_index / "encoder" / "model.onnx.data"
    inode = data.stat().st_ino

    def must_not_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "export_encoder", must_not_export)
    (tiny_corpus / "new.txt").write_text("Penguins live in Antarctica.")
    report = build_index(tiny_corpus, tiny_index, encoder=real_encoder, progress=False)
    assert report.added == ["new.txt"]
    assert (tiny_index / "encoder" / "model.onnx.data").stat().st_ino == inode  # linked, not re-made
    assert isinstance(open_query_encoder(Index(tiny_index)), OnnxEncoder)

    # --rebuild with no cached export exports again; if that fails, the index is still written and
    # asks go to torch
    shutil.rmtree(onnx_export.export_cache_root())

    def broken(*args, **kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_export, "export_encoder", broken)
    report = build_index(tiny_corpus, tiny_index, encoder=real_encoder, progress=False, rebuild=True)
    assert report.written and report.documents == 5
    manifest = json.loads((tiny_index / MANIFEST).read_text())
    assert manifest["query_encoder"]["status"] == "failed"
    assert "exporter exploded" in manifest["query_encoder"]["error"]
    assert not (tiny_index / "encoder").exists()
    retriever = Retriever.open(tiny_index)
    assert isinstance(retriever.encoder, SentenceTransformerEncoder)
    assert retriever.ask("Where do penguins live?", k=1).passages[0].source == "new.txt"
    with pytest.raises(ModelError, match="no ONNX export"):
        open_query_encoder(Index(tiny_index), prefer="onnx")
    # a recorded failure is not retried on every update
    report = build_index(tiny_corpus, tiny_index, encoder=real_encoder, progress=False)
    assert not report.written


def test_an_index_without_export_gets_one_on_the_next_update(tiny_corpus, tmp_path, real_encoder):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=real_encoder, progress=False, onnx=False)
    assert "query_encoder" not in json.loads((index_dir / MANIFEST).read_text())
    assert isinstance(Retriever.open(index_dir).encoder, SentenceTransformerEncoder)
    report = build_index(tiny_corpus, index_dir, encoder=real_encoder, progress=False)
    assert report.written and report.unchanged == sorted(TINY) and report.embedded == 0
    assert isinstance(Retriever.open(index_dir).encoder, OnnxEncoder)


def test_an_export_that_is_not_the_index_model_is_refused(tiny_index, monkeypatch, caplog):
    # the manifest (not checksummed itself) says the export is of another model
    manifest = json.loads((tiny_index / MANIFEST).read_text())
    manifest["query_encoder"]["model_fingerprint"] = "sha256:another"
    (tiny_index / MANIFEST).write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        assert isinstance(open_query_encoder(Index(tiny_index)), SentenceTransformerEncoder)
    assert "another model" in caplog.text

    # vectors that do not reproduce the index's (a different network behind the same files)
    manifest["query_encoder"]["model_fingerprint"] = manifest["model"]["fingerprint"]
    (tiny_index / MANIFEST).write_text(json.dumps(manifest))
    real = OnnxEncoder.encode
    monkeypatch.setattr(OnnxEncoder, "encode", lambda self, texts, batch_size=64: real(self, texts)[:, ::-1].copy())
    with pytest.raises(ModelError, match="does not reproduce"):
        onnx_encoder(Index(tiny_index))
    with pytest.raises(ModelError):
        verify_against_index(FakeEncoder(384), Index(tiny_index))


def test_a_changed_export_file_fails_the_checksums(tiny_index):
    settings = tiny_index / "encoder" / "encoder.json"
    settings.write_text(settings.read_text().replace('"pooling": "mean"', '"pooling": "cls "'))
    with pytest.raises(IndexCorrupt, match="encoder.json"):
        Index(tiny_index)


def test_an_explicit_model_must_be_the_index_model(tiny_index, tmp_path, monkeypatch):
    other = tmp_path / "other-model"
    shutil.copytree(default_model_path(), other)
    cfg = other / "config_sentence_transformers.json"
    cfg.write_text(cfg.read_text() + "\n")  # same weights, other files: another fingerprint
    index = Index(tiny_index)
    assert isinstance(open_query_encoder(index, model=default_model_path()), OnnxEncoder)
    encoder = open_query_encoder(index, model=other)
    assert isinstance(encoder, SentenceTransformerEncoder)
    with pytest.raises(IndexIncompatible, match="built with the model"):
        Retriever(index, encoder)
    monkeypatch.setenv("QUARRY_MODEL", os.fspath(other))
    assert isinstance(open_query_encoder(index), SentenceTransformerEncoder)


def _counting_exports(monkeypatch) -> list:
    import indexer.onnx_export as onnx_export

    calls = []
    real = onnx_export.export_encoder

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(onnx_export, "export_encoder", counted)
    return calls


def test_one_cached_export_per_model_linked_into_each_index(tiny_corpus, tmp_path, real_encoder, monkeypatch):
    from indexer.onnx_export import CHECKSUMS, cache_entry, export_cache_root

    calls = _counting_exports(monkeypatch)
    build_index(tiny_corpus, tmp_path / "a", encoder=real_encoder, progress=False)
    build_index(tiny_corpus, tmp_path / "b", encoder=real_encoder, progress=False, rebuild=True)
    assert len(calls) == 1  # the second index of the same model made no export
    cached = cache_entry(export_cache_root(), real_encoder.fingerprint)
    assert cached.parent == tmp_path / "cache" / "quarry" / "onnx"
    assert sorted(p.name for p in cached.iterdir()) == [CHECKSUMS, "encoder.json", "model.onnx", "model.onnx.data",
                                                       "tokenizer.json"]
    entries = []
    for name in ("a", "b"):
        data = tmp_path / name / "encoder" / "model.onnx.data"
        assert data.stat().st_ino == (cached / "model.onnx.data").stat().st_ino  # one copy on disk
        manifest = json.loads((tmp_path / name / MANIFEST).read_text())
        entries.append(manifest["query_encoder"])
        assert "encoder/model.onnx.data" in manifest["files"]  # the index still checksums its files
        assert isinstance(open_query_encoder(Index(tmp_path / name)), OnnxEncoder)
    assert entries[0] == entries[1]
    assert entries[0]["cache"]["files"] == "hardlink"
    assert entries[0]["cache"]["checksums"].startswith("sha256:")
    assert entries[0]["model_fingerprint"] == real_encoder.fingerprint


def test_a_damaged_or_incomplete_cache_entry_is_made_again(tiny_corpus, tmp_path, real_encoder, monkeypatch):
    from indexer.onnx_export import CHECKSUMS, cache_entry, check_cache_entry, export_cache_root

    calls = _counting_exports(monkeypatch)
    build_index(tiny_corpus, tmp_path / "a", encoder=real_encoder, progress=False, onnx=True)
    cached = cache_entry(export_cache_root(), real_encoder.fingerprint)
    assert check_cache_entry(cached, real_encoder.fingerprint)
    tok = cached / "tokenizer.json"
    tok.unlink()  # a new file, not the index's inode: the index "a" keeps its intact copy
    tok.write_text("{}")
    assert not check_cache_entry(cached, real_encoder.fingerprint)
    build_index(tiny_corpus, tmp_path / "b", encoder=real_encoder, progress=False)
    assert len(calls) == 2  # detected and exported again
    assert check_cache_entry(cached, real_encoder.fingerprint)
    assert isinstance(open_query_encoder(Index(tmp_path / "b")), OnnxEncoder)
    assert isinstance(open_query_encoder(Index(tmp_path / "a")), OnnxEncoder)
    # an entry without its checksums (a killed export) is not used either
    (cached / CHECKSUMS).unlink()
    build_index(tiny_corpus, tmp_path / "c", encoder=real_encoder, progress=False)
    assert len(calls) == 3 and check_cache_entry(cached, real_encoder.fingerprint)
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left
    # damage in place reaches the indexes sharing the file: their checksums catch it
    data = cached / "model.onnx.data"
    with open(data, "r+b") as fh:
        byte = fh.read(1)
        fh.seek(0)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(IndexCorrupt):
        Index(tmp_path / "c")


def test_no_cache_when_it_is_off(tiny_corpus, tmp_path, real_encoder, monkeypatch):
    monkeypatch.setenv("QUARRY_ONNX_CACHE", "off")
    build_index(tiny_corpus, tmp_path / "a", encoder=real_encoder, progress=False)
    assert not (tmp_path / "cache" / "quarry" / "onnx").exists()
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text())
    assert manifest["query_encoder"]["status"] == "ok" and "cache" not in manifest["query_encoder"]
    assert isinstance(open_query_encoder(Index(tmp_path / "a")), OnnxEncoder)


def test_indexing_embeds_with_the_cached_export(tiny_corpus, tmp_path, real_encoder):
    report = build_index(tiny_corpus, tmp_path / "a", encoder=real_encoder, progress=False)
    assert report.embedder == "onnx" and "embedded by onnx" in report.summary()
    torch_report = build_index(tiny_corpus, tmp_path / "t", encoder=real_encoder, progress=False, embedder="torch")
    assert torch_report.embedder == "torch"
    from indexer.indexdir.store import IndexStore

    a, t = IndexStore(tmp_path / "a"), IndexStore(tmp_path / "t")
    cos = np.sum(np.asarray(a.sentence_vectors) * np.asarray(t.sentence_vectors), axis=1)
    assert cos.min() >= 0.999  # the export's vectors are torch's
    off = build_index(tiny_corpus, tmp_path / "n", encoder=real_encoder, progress=False, onnx=False)
    assert off.embedder == "torch"
