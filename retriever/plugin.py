"""What the optional models (a cross-encoder, a reader) share: the check of a folder, opening one once."""

from __future__ import annotations

import argparse
import json
import os
import threading
from functools import lru_cache
from pathlib import Path

from indexer.errors import ModelError
from indexer.offline import set_offline
from retriever.settings import ANSWER_MODEL_ENV, CROSS_ENCODER_ENV, READER_ABSTAIN_ENV, READER_ENV


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """``--cross-encoder``, ``--reader`` and ``--reader-abstain``, as ``ask`` and the server take them."""
    p.add_argument("--cross-encoder", metavar="DIR", default=None,
                   help=f"cross-encoder folder that re-scores the answer sentences (default: ${CROSS_ENCODER_ENV}, "
                        "else none)")
    p.add_argument("--reader", metavar="DIR", default=None,
                   help="extractive question-answering model folder that scores the answer sentences "
                        f"(default: ${READER_ENV}, else none)")
    p.add_argument("--reader-abstain", action="store_true", default=None,
                   help="also abstain when the reader finds no span more probable than 'no answer' "
                        f"(a SQuAD 2.0 reader; default: ${READER_ABSTAIN_ENV}=1, else off)")
    p.add_argument("--answer-model", metavar="DIR", default=None,
                   help="answer-sentence encoder folder, or off (default: $" + ANSWER_MODEL_ENV
                        + ", else the packaged one)")


def check_model_folder(path: Path, what: str, head: str, described: str) -> None:
    """Raise :class:`ModelError` unless ``path`` holds a Hugging Face model whose config states an
    architecture ending in ``head`` ("ForQuestionAnswering"): any other model (an embedding model,
    say) would load with a new, random head. ``what`` and ``described`` name it in the message."""
    if not (path / "config.json").is_file():
        raise ModelError(f"not a {what} model folder (no config.json): {path}")
    try:
        architectures = json.loads((path / "config.json").read_text(encoding="utf-8")).get("architectures")
    except (OSError, ValueError, AttributeError) as e:
        raise ModelError(f"cannot read the {what}'s config.json in {path}: {e}") from e
    if not any(str(a).endswith(head) for a in architectures or ()):
        raise ModelError(f"not a {what} ({described}): {path} "
                         f"is {', '.join(map(str, architectures or ())) or 'of no stated architecture'}")


class LocalModel:
    """A model folder checked when named and loaded once, on the first :meth:`load`, on the CPU.

    Subclasses name what they are (``what``, ``head``, ``described``: see :func:`check_model_folder`)
    and load it in ``_load``; ``_busy`` lets one question at a time into the model (the server asks
    from several threads, and torch already spreads one batch over the CPUs)."""

    what = head = described = ""

    def __init__(self, path: str | os.PathLike, device: str = "cpu"):
        self.path = Path(path).expanduser()
        self.name = self.path.name  # what /health shows (not the whole path)
        check_model_folder(self.path, self.what, self.head, self.described)
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self._busy = threading.Lock()

    def load(self):
        """What ``_load`` gives, loaded on the first call (ModelError naming the problem if it cannot be)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    set_offline()
                    self._model = self._load()
        return self._model

    def _load(self):
        raise NotImplementedError


@lru_cache(maxsize=8)
def _opened(cls: type, path: str):
    return cls(path)


def open_model(cls: type, path: str | os.PathLike | None):
    """``cls(path)`` loaded (None: no path); one per class and folder in a process. A broken model
    fails here, with :class:`ModelError` naming the problem, not on the first question."""
    if not path:
        return None
    model = _opened(cls, str(Path(path).expanduser().resolve()))
    model.load()
    return model
