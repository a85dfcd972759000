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

import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.encoder import set_offline
from indexer.errors import ModelError

ENV = "QUARRY_CROSS_ENCODER"
MAX_LENGTH = 256  # tokens of question + sentence pair; longer pairs are truncated


class CrossEncoderScorer:
    """A sentence-transformers cross-encoder from a local folder, loaded on first use, on the CPU."""

    def __init__(self, path: str | os.PathLike, device: str = "cpu"):
        self.path = Path(path).expanduser()
        self.name = self.path.name  # what /health shows (not the whole path)
        if not (self.path / "config.json").is_file():
            raise ModelError(f"not a cross-encoder model folder (no config.json): {self.path}")
        try:
            architectures = json.loads((self.path / "config.json").read_text(encoding="utf-8")).get("architectures")
        except (OSError, ValueError, AttributeError) as e:
            raise ModelError(f"cannot read the cross-encoder's config.json in {self.path}: {e}") from e
        # an embedding model (BertModel, ...) would load with a new, random scoring head: refuse it
        if not any(str(a).endswith("ForSequenceClassification") for a in architectures or ()):
            raise ModelError(f"not a cross-encoder (a sequence-classification model): {self.path} "
                             f"is {', '.join(map(str, architectures or ())) or 'of no stated architecture'}")
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        # one question at a time through the model: the server answers on several threads, and torch
        # already spreads one batch over the CPUs (more at once only contend for them)
        self._busy = threading.Lock()

    @property
    def model(self):
        return self.load()

    def load(self):
        """The model, loaded on the first call (ModelError naming the problem if it cannot be)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    set_offline()
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
                    self._model = model
        return self._model

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


@lru_cache(maxsize=4)
def _open(path: str) -> CrossEncoderScorer:
    return CrossEncoderScorer(path)


def open_cross_encoder(path: str | os.PathLike | None) -> CrossEncoderScorer | None:
    """The cross-encoder at ``path``, loaded (None: no path). One scorer per folder in a process.
    Raises :class:`~indexer.errors.ModelError` naming the problem when it cannot be used."""
    if not path:
        return None
    scorer = _open(str(Path(path).expanduser().resolve()))
    scorer.load()  # now: a broken model fails here with its message, not on the first question
    return scorer
