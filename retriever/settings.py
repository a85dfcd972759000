"""How a Retriever is opened: every option and limit, checked in one place, and every QUARRY_* variable it reads.

``RetrieverSettings.from_env(**options)`` is what ``ask`` and the server use: the environment
first, then the options given (None: not given). ``RetrieverSettings(**options)`` reads nothing
from the environment (the evaluation uses it: a QUARRY_READER of the shell must not change its
figures). The indexer's own defaults, ``$QUARRY_INDEX_DIR`` and ``$QUARRY_MODEL``, are read by
:mod:`indexer.paths` and :mod:`indexer.encoder`; the retriever reads them only through those.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from indexer.errors import ModelError, QueryError, SettingsError
from indexer.paths import default_index_dir

INDEX_DIR_ENV = "QUARRY_INDEX_DIR"  # read by indexer.paths.default_index_dir
MODEL_ENV = "QUARRY_MODEL"  # read by indexer.encoder.default_model_path; here only to compare fingerprints
ENCODER_ENV = "QUARRY_ENCODER"
CROSS_ENCODER_ENV = "QUARRY_CROSS_ENCODER"
READER_ENV = "QUARRY_READER"
READER_ABSTAIN_ENV = "QUARRY_READER_ABSTAIN"
ANSWER_MODEL_ENV = "QUARRY_ANSWER_MODEL"
API_KEY_ENV = "QUARRY_API_KEY"

QUERY_ENCODERS = ("auto", "onnx", "torch")
MAX_K = 50  # passages one question may ask for
MAX_QUESTION_CHARS = 1000


def env_flag(name: str) -> bool:
    """A yes/no environment variable: 1, true, yes or on (any case) is yes; unset or anything else, no."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def env_value(name: str) -> str | None:
    """The variable's value, None when unset or empty."""
    return os.environ.get(name) or None


def api_key() -> str | None:
    """``$QUARRY_API_KEY``: the key a server requires and ``ask`` sends (never taken from a command line)."""
    return env_value(API_KEY_ENV)


def explicit_model() -> str | None:
    """``$QUARRY_MODEL``: a model asked for explicitly (the ONNX export must then be of it)."""
    return env_value(MODEL_ENV)


def query_encoder_choice(prefer: str | None = None) -> str:
    """``prefer``, else ``$QUARRY_ENCODER``, else ``auto``; checked (ModelError naming the choices)."""
    return checked_choice(prefer or os.environ.get(ENCODER_ENV) or "auto")


def checked_choice(choice: str) -> str:
    """``choice`` of query encoder in lower case, or a ModelError naming the choices."""
    choice = str(choice).strip().lower()
    if choice not in QUERY_ENCODERS:
        raise ModelError(f"{ENCODER_ENV} must be one of {', '.join(QUERY_ENCODERS)}, not {choice!r}")
    return choice


def check_k(k: object) -> int:
    """``k`` if it is an integer from 1 to ``MAX_K``, else a QueryError saying so."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QueryError(f"k must be an integer from 1 to {MAX_K}")
    return k


def check_question(question: str, k: int) -> str:
    """The question stripped, or a QueryError naming what is wrong with it or with ``k``."""
    if not isinstance(question, str) or not question.strip():
        raise QueryError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    check_k(k)
    return question.strip()


def model_env_values() -> dict:
    """The optional models and the reader's abstention as the environment sets them (unset: absent)."""
    values: dict = {"cross_encoder": env_value(CROSS_ENCODER_ENV), "reader": env_value(READER_ENV),
                    "answer_model": env_value(ANSWER_MODEL_ENV),
                    "reader_abstain": env_flag(READER_ABSTAIN_ENV) or None}
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class RetrieverSettings:
    """Everything :meth:`retriever.pipeline.Retriever.open` needs to know, checked when made."""

    index_dir: Path = field(default_factory=default_index_dir)  # default: $QUARRY_INDEX_DIR or the cache's
    query_encoder: str = "auto"  # auto (the index's ONNX export if it checks out, else torch) | onnx | torch
    model: str | None = None  # sentence-transformers folder for torch (None: $QUARRY_MODEL or the packaged)
    threads: int | None = None  # intra-op threads of the ONNX runtime (None: its default, every core)
    cross_encoder: str | None = None  # a cross-encoder folder re-scoring answer sentences (retriever.cross)
    reader: str | None = None  # a question-answering model folder scoring them (retriever.reader)
    reader_abstain: bool = False  # also abstain when the reader finds no answer (needs a reader)
    answer_model: str | None = None  # the answer-sentence encoder (retriever.answer_model; None: packaged; off)
    verify: bool = True  # check the index's files against its manifest's checksums when opening it

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_dir", Path(self.index_dir).expanduser())
        object.__setattr__(self, "query_encoder", checked_choice(self.query_encoder))
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise SettingsError("threads must be an integer of at least 1")
        if self.reader_abstain and not self.reader:
            raise SettingsError(f"--reader-abstain needs a reader (--reader DIR or ${READER_ENV})")

    @classmethod
    def from_env(cls, **options) -> RetrieverSettings:
        """``$QUARRY_ENCODER``, ``$QUARRY_CROSS_ENCODER``, ``$QUARRY_READER``, ``$QUARRY_READER_ABSTAIN``
        (and, through the defaults, ``$QUARRY_INDEX_DIR``), then the ``options`` that are not None."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown retriever settings: {', '.join(unknown)}")
        values = {"query_encoder": query_encoder_choice(), **model_env_values()}
        values.update({k: v for k, v in options.items() if v is not None})
        return cls(**values)
