"""The query-time encoder: an exported model run by onnxruntime + tokenizers, without torch.

An export folder (written by :mod:`indexer.onnx_export`, by default ``INDEX_DIR/encoder/``) holds::

    encoder.json      what the model is (name, fingerprint of the model folder it was exported
                      from, dimension) and how to run it (inputs, output, pooling, normalisation,
                      longest input in tokens, lower-casing)
    model.onnx        the transformer, graph optimised offline by onnxruntime
    model.onnx.data   its weights (external data: loads without a protobuf copy)
    tokenizer.json    the model's tokenizer, with its truncation and padding

The encoder's ``fingerprint`` is that of the model folder it was exported from; the retriever
checks it against the index manifest and then checks the vectors it gives against vectors stored
in the index (:func:`retriever.query_encoder.open_query_encoder`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.errors import ModelError
from indexer.offline import set_offline

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

EXPORT_FORMAT = "quarry-onnx-encoder"
EXPORT_VERSION = 1
SETTINGS = "encoder.json"
POOLING_MODES = ("mean", "cls", "max", "mean_sqrt_len_tokens")
FILE_KEYS = ("onnx", "tokenizer")  # the settings that name a file of the export


def read_settings(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``encoder.json`` of an export folder, checked for its format and version."""
    path = Path(folder) / SETTINGS
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read the ONNX encoder settings {path}: {e}") from None
    if settings.get("format") != EXPORT_FORMAT or settings.get("version") != EXPORT_VERSION:
        raise ModelError(f"{path}: not a {EXPORT_FORMAT} version {EXPORT_VERSION} export")
    if settings.get("pooling") not in POOLING_MODES:
        raise ModelError(f"{path}: unsupported pooling {settings.get('pooling')!r}")
    for key in FILE_KEYS:  # files of the export itself: a plain name in its folder, nothing else
        name = settings.get(key)
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            raise ModelError(f"{path}: {key} must name a file in {Path(folder)} (a plain file name), "
                             f"not {name!r}")
    return settings


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Sentence vectors from token vectors ``(batch, tokens, dim)`` and the attention mask, as
    sentence-transformers' ``Pooling`` does."""
    m = mask[..., None].astype(hidden.dtype)
    if mode == "cls":
        return hidden[:, 0]
    if mode == "max":
        return np.where(m > 0, hidden, np.finfo(hidden.dtype).min).max(axis=1)
    summed = (hidden * m).sum(axis=1)
    counts = np.maximum(m.sum(axis=1), 1e-9)
    return summed / (np.sqrt(counts) if mode == "mean_sqrt_len_tokens" else counts)


class OnnxEncoder:
    """Embeds texts with an exported model (see the module docstring). Thread-safe."""

    def __init__(self, folder: str | os.PathLike, threads: int | None = None):
        self.folder = Path(folder)
        self.settings = read_settings(self.folder)
        model = self.settings["model"]
        self.name: str = model["name"]
        self.dim: int = int(model["dim"])
        self._fingerprint: str = model["fingerprint"]
        self._threads = threads
        self._session: InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the model folder this export was made from."""
        return self._fingerprint

    def load(self) -> OnnxEncoder:
        """Create the onnxruntime session and the tokenizer now (else on first use)."""
        self._loaded()
        return self

    def _loaded(self) -> tuple[Tokenizer, InferenceSession]:
        """The tokenizer and the onnxruntime session, created on first use."""
        if self._session is None or self._tokenizer is None:
            with self._lock:
                if self._session is None or self._tokenizer is None:
                    self._tokenizer, self._session = self._load()
        return self._tokenizer, self._session

    def _load(self) -> tuple[Tokenizer, InferenceSession]:
        s = self.settings
        set_offline()  # before onnxruntime's first import: no telemetry
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.folder / s["tokenizer"]))
            tokenizer.enable_truncation(max_length=int(s["max_seq_length"]))
            tokenizer.enable_padding(pad_id=int(s["pad_id"]), pad_token=s["pad_token"])
            options = ort.SessionOptions()
            # the graph was optimised when it was exported; basic (portable) rewrites only here
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.log_severity_level = 3
            # every batch has its own shape (questions per batch x tokens): a memory pattern kept per
            # shape only grows a server's memory (measured: +21 MB after 2,000 batches, no speed gained)
            options.enable_mem_pattern = False
            # idle threads sleep instead of spinning: a spinning pool keeps the CPUs busy after each
            # question and slows what runs next in the process: quarry's own scoring (warm `ask` p50
            # 8.5 -> 6 ms on 2 cores) and, far more, an optional torch cross-encoder or reader
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if self._threads:
                options.intra_op_num_threads = self._threads
            session = ort.InferenceSession(str(self.folder / s["onnx"]), options,
                                           providers=["CPUExecutionProvider"])
        except ImportError as e:
            raise ModelError(f"the ONNX query path needs onnxruntime and tokenizers ({e})") from None
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise ModelError(f"cannot load the ONNX encoder in {self.folder}: {e}") from None
        names = {i.name for i in session.get_inputs()}
        if names != set(s["inputs"]):
            raise ModelError(f"{self.folder}: the ONNX model takes {sorted(names)}, encoder.json says {s['inputs']}")
        return tokenizer, session

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """A ``(len(texts), dim)`` float32 array of unit vectors."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self.load()
        if self.settings.get("do_lower_case"):
            texts = [t.lower() for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        for start in range(0, len(order), batch_size):
            ids = order[start:start + batch_size]
            out[ids] = self._embed([texts[i] for i in ids])
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        s = self.settings
        tokenizer, session = self._loaded()
        encodings = tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        feed = {name: arrays[name] for name in s["inputs"]}
        (hidden,) = session.run([s["output"]], feed)
        vecs = pool(hidden.astype(np.float32, copy=False), arrays["attention_mask"], s["pooling"])
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)
