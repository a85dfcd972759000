"""The answer-sentence encoder: a MiniLM fine-tuned to place a question near the sentence that answers it.

The packaged all-MiniLM-L6-v2 embeds a question near sentences that say the same things; this
copy of it was fine-tuned (``python -m eval.qamodel``, docs/models.md) on question/answer pairs
mined from the FAQs of Debian packages (none of them a benchmark corpus or a reserved text), so
that a question lands near its answer rather than near a sentence that merely echoes it. Its
cosine with each candidate sentence is the ``qa`` feature of :mod:`retriever.answer`. It ships
inside quarry as an int8 ONNX export (``retriever/models/answer-minilm``, 23 MB), run by
onnxruntime; sentence vectors are computed when a sentence first competes for an answer and kept.

``$QUARRY_ANSWER_MODEL`` (or ``ask --answer-model``) names another model: an ONNX export folder
(``encoder.json``, as :mod:`indexer.onnx_export` writes) or a sentence-transformers folder; ``off``
runs without one (the ``qa`` feature is then 0 for every sentence).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.encoder import Encoder
from indexer.errors import ModelError

PACKAGED = Path(__file__).parent / "models" / "answer-minilm"
OFF = "off"
CACHE_SENTENCES = 100_000  # sentence vectors kept (384 floats each: about 150 MB at most)


class AnswerModel:
    """Cosines between a question and sentences, by the answer-sentence encoder at ``path``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        self.name = self.path.name
        self.encoder: Encoder
        if (self.path / "encoder.json").is_file():
            from indexer.onnx_encoder import OnnxEncoder

            self.encoder = OnnxEncoder(self.path)
            self.batched = False  # each new sentence encoded alone (int8 activations are quantised per batch)
        elif (self.path / "modules.json").is_file() or (self.path / "config.json").is_file():
            from indexer.encoder import SentenceTransformerEncoder

            self.encoder = SentenceTransformerEncoder(self.path)
            self.batched = True  # new sentences in one batch (fp32: the same vectors either way)
        else:
            raise ModelError(f"not an answer model (an ONNX export with encoder.json, or a "
                             f"sentence-transformers folder): {self.path}")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def load(self) -> AnswerModel:
        """Loaded now (ModelError naming the problem if it cannot be), not on the first question."""
        self.encoder.encode(["quarry"])
        return self

    def scores(self, question: str, texts: dict[int, str]) -> dict[int, float]:
        """Each text's cosine with ``question`` (at least 0), by its key."""
        with self._lock:
            new = list(dict.fromkeys(t for t in texts.values() if t not in self._cache))
            # every text alone: an int8 export quantises activations per batch, so a sentence encoded with
            # whatever others happen to be new would get a vector (and an answer) depending on what was asked
            # before (cosines moved by up to 0.01). Alone is no slower: no padding (40 seeds sentences: 109 ms
            # one by one, 135 ms in one batch). A torch model (fp32) gives the same vectors either way
            q = self.encoder.encode([question])[0]
            if new:
                vectors = (self.encoder.encode(new) if self.batched else
                           np.stack([self.encoder.encode([t])[0] for t in new]))
                for t, v in zip(new, vectors):
                    self._cache[t] = v
            for t in texts.values():
                self._cache.move_to_end(t)
            while len(self._cache) > CACHE_SENTENCES:
                self._cache.popitem(last=False)
            return {k: max(0.0, float(np.dot(q, self._cache[t]))) for k, t in texts.items()}


@lru_cache(maxsize=4)
def _opened(path: str) -> AnswerModel:
    return AnswerModel(path).load()


def open_answer_model(path: str | os.PathLike | None = None) -> AnswerModel | None:
    """The answer model at ``path`` (None: the packaged one; ``off``: none), loaded once per process."""
    if path is not None and str(path).strip().lower() == OFF:
        return None
    folder = Path(path).expanduser().resolve() if path else PACKAGED
    if not folder.is_dir():
        raise ModelError(f"no answer model at {folder}")
    return _opened(str(folder))
