"""Ray Data embedding (the ``distributed`` extra) on a local Ray: the same vectors as in process."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.build import build_index
from indexer.indexdir.store import MANIFEST, IndexStore
from retriever.pipeline import Retriever
from tests.conftest import TINY, FakeEncoder

ray = pytest.importorskip("ray", reason="Ray is not installed (the optional extra: pip install -e '.[distributed]')")
pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install -e '.[distributed]')")

from indexer.distributed import RayEncoder, local_encoder  # noqa: E402

pytestmark = pytest.mark.slow  # processes, servers or clusters of their own: seconds each


@pytest.fixture(scope="module")
def local_ray():
    """A Ray cluster on this machine, for this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_data_gives_the_vectors_of_the_in_process_encoder(local_ray, tiny_corpus, tmp_path):
    texts = [t for doc in TINY.values() for t in doc.splitlines() if t] * 3  # 24 texts, repeats included
    ray_enc = RayEncoder(FakeEncoder, actors=2, rows_per_task=5)  # several tasks on two actors
    assert (ray_enc.name, ray_enc.dim, ray_enc.fingerprint) == ("fake-bow", 256, FakeEncoder().fingerprint)
    np.testing.assert_array_equal(ray_enc.encode(texts), FakeEncoder().encode(texts))
    assert ray_enc.encode([]).shape == (0, 256)

    build_index(tiny_corpus, tmp_path / "ray", encoder=ray_enc, progress=False)
    build_index(tiny_corpus, tmp_path / "local", encoder=FakeEncoder(), progress=False)
    a, b = IndexStore(tmp_path / "ray"), IndexStore(tmp_path / "local")
    np.testing.assert_array_equal(a.chunk_vectors, b.chunk_vectors)
    np.testing.assert_array_equal(a.sentence_vectors, b.sentence_vectors)
    manifests = [json.loads((tmp_path / d / MANIFEST).read_text()) for d in ("ray", "local")]
    assert manifests[0]["model"] == manifests[1]["model"]
    # the index built on Ray is answered by the ordinary in-process encoder
    result = Retriever.open(tmp_path / "ray", encoder=FakeEncoder()).ask("How many moons does Mars have?", k=1)
    assert result.passages[0].source == "space.txt"


@pytest.mark.model
def test_ray_data_with_the_packaged_model(local_ray, real_encoder):
    texts = ["Anthropic received an $8 billion investment from Amazon.", "Cats sleep sixteen hours a day.",
             "Power grids strain under new data centers."]
    ray_enc = RayEncoder(local_encoder(), actors=1)
    assert ray_enc.fingerprint == real_encoder.fingerprint
    np.testing.assert_allclose(ray_enc.encode(texts), real_encoder.encode(texts), atol=1e-5)


class _CountingRay(RayEncoder):
    """A RayEncoder that remembers what it was asked to embed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []

    def encode(self, texts, batch_size: int = 64):
        self.seen.extend(texts)
        return super().encode(texts, batch_size)


def test_the_ray_path_embeds_each_sentence_once(local_ray, tiny_corpus, tmp_path):
    """Single pass on Ray too: the actors get the distinct sentences, chunk vectors are pooled here."""
    ray_enc = _CountingRay(FakeEncoder, actors=1)
    build_index(tiny_corpus, tmp_path / "ray", encoder=ray_enc, progress=False)
    store = IndexStore(tmp_path / "ray")
    chunks = store.chunks(list(range(store.n_chunks))).values()
    sentences = {s.text for c in chunks for s in store.sentences_of(c)}
    assert sorted(ray_enc.seen) == sorted(sentences)
    assert not {c.text for c in chunks if len(store.sentences_of(c)) > 1} & set(ray_enc.seen)
