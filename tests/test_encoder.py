"""The sentence-transformers encoder's own checks, without loading a real model."""

import json

import pytest

from indexer.encoder import SentenceTransformerEncoder
from indexer.errors import ModelError


class _Model:
    """Stands in for a loaded SentenceTransformer: only the dimension it reports."""

    def __init__(self, dim):
        self.dim = dim

    def get_embedding_dimension(self):
        return self.dim


def _encoder(folder, dim):
    (folder / "config.json").write_text("{}")
    enc = SentenceTransformerEncoder(folder)
    enc._model = _Model(dim)  # loaded already: nothing is read from the folder
    return enc


def test_dim_from_the_pooling_config(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384}))
    assert _encoder(tmp_path, 7).dim == 384


def test_dim_from_the_model_without_a_pooling_config(tmp_path):
    assert _encoder(tmp_path, 7).dim == 7


def test_a_model_that_does_not_know_its_dim_is_a_model_error(tmp_path):
    # sentence-transformers returns None for a dimension it does not know (was: int(None), a TypeError
    # traceback instead of the CLI's one-line error)
    enc = _encoder(tmp_path, None)
    with pytest.raises(ModelError, match="does not say how long its vectors are"):
        _ = enc.dim
