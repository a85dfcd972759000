"""Shared fixtures: a deterministic fake encoder, isolated paths, the real model loaded once."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer.text import terms

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


class FakeEncoder:
    """Hashed bag of stemmed words: texts sharing words get similar vectors. No model, no download."""

    name = "fake-bow"

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0
        self.texts_encoded = 0

    @property
    def fingerprint(self) -> str:
        return f"fake-bow-{self.dim}"

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for t in terms(text) or ["<empty>"]:
                h = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0
            out[i] /= np.linalg.norm(out[i])
        return out


def library_variables() -> frozenset[str]:
    """Every QUARRY_* name the library's packages mention (the tests' own knobs, such as
    QUARRY_FUZZ_EXAMPLES or QUARRY_SCREENSHOTS, are not among them and pass through)."""
    names: set[str] = set()
    for package in ("indexer", "retriever", "server", "eval"):
        for path in (ROOT / package).rglob("*.py"):
            names.update(re.findall(r"QUARRY_[A-Z_]+", path.read_text(encoding="utf-8")))
    return frozenset(names)


LIBRARY_VARIABLES = library_variables()


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """Every default path (cache, default index) points into the test's own tmp_path, and no QUARRY_*
    variable the library reads (a model, a reader, an API key) leaks in from the shell running the tests."""
    for name in LIBRARY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("QUARRY_INDEX_DIR", str(tmp_path / "default-index"))


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
    return root


# Four tiny documents whose right answers a person can check by eye.
TINY = {
    "animals/cats.txt": "Cats sleep for sixteen hours a day.\nA cat purrs when it is content.\n",
    "animals/dogs.md": "# Dogs\nDogs were domesticated from wolves.\nA dog wags its tail when happy.\n",
    "space.txt": "The Moon orbits the Earth every 27 days. Mars has two moons, Phobos and Deimos.",
    "money.txt": "The company spent $800 billion on data centers in 2026.\r\nRevenue grew slowly.\r\n",
}


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY)


@pytest.fixture(scope="session")
def real_encoder():
    """The packaged all-MiniLM-L6-v2, loaded once per session."""
    from indexer.encoder import SentenceTransformerEncoder

    enc = SentenceTransformerEncoder()
    enc.encode(["warm up"])
    return enc


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory, real_encoder) -> Path:
    """An index of seeds/ built once per session with the real model."""
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("seeds-index")
    corpus = root / "seeds"
    shutil.copytree(SEEDS, corpus)
    index_dir = root / "index"
    build_index(corpus, index_dir, encoder=real_encoder, progress=False)
    return index_dir


@pytest.fixture(scope="session", params=["torch", "onnx"])
def seeds_retriever(request, seeds_index, real_encoder):
    """The seeds index, questions embedded by the torch model (the reference) or by the index's
    ONNX export (the fast path `ask` takes)."""
    from retriever.index import Index
    from retriever.pipeline import Retriever
    from retriever.query_encoder import onnx_encoder

    index = Index(seeds_index)
    return Retriever(index, real_encoder if request.param == "torch" else onnx_encoder(index))


def assert_visible_text_covered(text: str, spans) -> None:
    """Every visible character of ``text`` lies inside some span (sentences or chunks)."""
    covered = [False] * len(text)
    for span in spans:
        for i in range(span.start_char, span.end_char):
            covered[i] = True
    for i, ch in enumerate(text):
        if not (ch.isspace() or ch in "\ufeff\u200b"):
            assert covered[i], f"character {i} ({ch!r}) is in no span"
