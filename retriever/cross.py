"""An optional cross-encoder that re-scores the candidate answer sentences.

quarry ships no cross-encoder (none is installable offline here); a user with one plugs it in by
path: ``ask --cross-encoder DIR``, ``python -m server --cross-encoder DIR``, ``python -m eval
--cross-encoder DIR``, or ``$QUARRY_CROSS_ENCODER``. Any sentence-transformers ``CrossEncoder``
folder with one output (a relevance logit, as MS MARCO re-rankers have) works.

Each candidate sentence is read with the sentence before it (the question may echo the setting
while the answer follows) and gets ``weight x sigmoid(logit)`` added to its score, so the
cross-encoder re-orders the sentences, and through them the passages; the answer checks and the
abstention are unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from indexer.errors import ModelError
from retriever.plugin import LocalModel, open_model
from retriever.settings import CROSS_ENCODER_ENV

ENV = CROSS_ENCODER_ENV
MAX_LENGTH = 256  # tokens of question + sentence pair; longer pairs are truncated


class CrossEncoderScorer(LocalModel):
    """A sentence-transformers cross-encoder from a local folder, loaded on first use, on the CPU."""

    what, head, described = "cross-encoder", "ForSequenceClassification", "a sequence-classification model"

    @property
    def model(self):
        return self.load()

    def _load(self):
        try:
            import torch
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(str(self.path), device=self.device, local_files_only=True,
                                 max_length=MAX_LENGTH, activation_fn=torch.nn.Identity())
        except Exception as e:  # any failure to load is the same problem to a user
            raise ModelError(f"cannot load the cross-encoder at {self.path}: {e}") from e
        if model.num_labels != 1:
            raise ModelError(f"the cross-encoder at {self.path} has {model.num_labels} outputs; "
                             "quarry needs one relevance score per pair")
        return model

    def score(self, question: str, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Relevance probabilities in (0, 1) of each text for the question."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        model = self.model
        with self._busy:
            logits = model.predict([(question, t) for t in texts], batch_size=batch_size,
                                   show_progress_bar=False, convert_to_numpy=True)
        logits = np.asarray(logits, dtype=np.float64).reshape(len(texts))
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def open_cross_encoder(path: str | os.PathLike | None) -> CrossEncoderScorer | None:
    """The cross-encoder at ``path``, loaded (None: no path). One scorer per folder in a process.
    Raises :class:`~indexer.errors.ModelError` naming the problem when it cannot be used."""
    return open_model(CrossEncoderScorer, path)
