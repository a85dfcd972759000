"""Index time: export the embedding model to ONNX, next to the vectors it made, for torch-free queries.

The export lands in ``INDEX_DIR/encoder/`` (layout in :mod:`indexer.onnx_encoder`), inside the
temporary folder of a build, so it is covered by the manifest's checksums and swapped in atomically
with the rest of the index. It is checked before it is kept: the exported model must embed a set of
probe texts as the torch model does (cosine >= ``MIN_COSINE``). An update with the same model reuses
the previous export (hard links, no torch work); a model that cannot be exported leaves the index
intact and ``ask`` on the torch path, with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoder import SentenceTransformerEncoder
from indexer.errors import ExportError, QuarryError
from indexer.hashcache import cached_sha256
from indexer.offline import set_offline
from indexer.onnx_encoder import EXPORT_FORMAT, EXPORT_VERSION, POOLING_MODES, SETTINGS, OnnxEncoder, read_settings

log = logging.getLogger(__name__)

EXPORT_DIR = "encoder"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MIN_COSINE = 0.999
OPSET = 17
PROBES = (
    "How much will big tech spend on AI data centers this year?",
    "Who is the CEO of Anthropic?",
    "",
    "x",
    "Ünïcode façade, “quotes”, naïve café — 東京 and emoji 🙂, $800bn (≈ 2026).",
    "UPPER and lower CASE Words, numbers 1,234.56 and hyphen-ated tokens.",
    " ".join(["A very long passage that is longer than the model's input limit."] * 60),
)


def can_export(encoder: object) -> bool:
    """Whether ``encoder`` is a model quarry knows how to export (the sentence-transformers one)."""
    return isinstance(encoder, SentenceTransformerEncoder)


def export_is_current(manifest: dict[str, Any], encoder: object) -> bool:
    """Whether an index's export (or its recorded failure) is for ``encoder``: nothing to redo."""
    if not can_export(encoder):
        return True
    entry = manifest.get("query_encoder") or {}
    return (entry.get("version") == EXPORT_VERSION and entry.get("model_fingerprint") == encoder.fingerprint
            and entry.get("status") in ("ok", "failed"))


def attach_query_encoder(encoder: object, index_tmp: Path, previous: Path | None = None) -> dict[str, Any] | None:
    """Put the ONNX export of ``encoder`` into ``index_tmp/encoder/`` and return the manifest entry.

    Re-uses the export of the index at ``previous`` when it is for the same model fingerprint. If
    exporting fails, nothing is left in ``index_tmp`` and the entry records the failure. ``None``:
    the encoder is not exportable (a test fake, another implementation).
    """
    if not can_export(encoder):
        return None
    fingerprint = encoder.fingerprint
    dest = Path(index_tmp) / EXPORT_DIR
    entry = {"status": "ok", "format": "onnx", "path": EXPORT_DIR, "version": EXPORT_VERSION,
             "model_fingerprint": fingerprint, "quantized": False}
    if previous is not None and _reuse(Path(previous), dest, fingerprint):
        log.info("re-using the ONNX export of %s", previous)
        return entry
    try:
        export_encoder(encoder, dest)
    except Exception as e:  # any failure: keep the index, queries use torch
        shutil.rmtree(dest, ignore_errors=True)
        reason = str(e).strip().splitlines()[0][:300] if str(e).strip() else e.__class__.__name__
        log.warning("could not export the embedding model to ONNX (%s); `ask` will use torch, which starts "
                    "slower. Rebuild with --rebuild to try again.", reason)
        return {"status": "failed", "version": EXPORT_VERSION, "model_fingerprint": fingerprint, "error": reason}
    return entry


def _reuse(previous: Path, dest: Path, fingerprint: str) -> bool:
    """Hard-link (or copy) the previous index's export into ``dest`` if it is intact and for this model."""
    from indexer.store import read_manifest

    try:
        manifest = read_manifest(previous)
        entry = manifest.get("query_encoder") or {}
        if (entry.get("status") != "ok" or entry.get("version") != EXPORT_VERSION
                or entry.get("model_fingerprint") != fingerprint or entry.get("path") != EXPORT_DIR):
            return False
        if read_settings(previous / EXPORT_DIR)["model"]["fingerprint"] != fingerprint:
            return False
        files = {n: f for n, f in manifest.get("files", {}).items() if n.startswith(EXPORT_DIR + "/")}
        if f"{EXPORT_DIR}/{SETTINGS}" not in files:
            return False
        for name, want in files.items():
            if cached_sha256(previous / name) != want["sha256"]:
                return False
        dest.mkdir(parents=True)
        for name in files:
            src, dst = previous / name, dest.parent / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)  # index files are never written in place: sharing them is safe
            except OSError:
                shutil.copy2(src, dst)
        return True
    except (OSError, KeyError, TypeError, ValueError, QuarryError) as e:
        log.info("not re-using the previous ONNX export: %s", e)
        shutil.rmtree(dest, ignore_errors=True)
        return False


def _describe(st) -> dict[str, Any]:
    """How the sentence-transformers model runs, checked to be something the ONNX encoder can do."""
    kinds = [type(m).__name__ for m in st]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ExportError(f"modules {kinds} are not supported for export (only Transformer, Pooling, Normalize)")
    transformer, pooling = st[0], st[1]
    mode = pooling.pooling_mode
    if mode not in POOLING_MODES or not getattr(pooling, "include_prompt", True):
        raise ExportError(f"pooling {mode!r} is not supported for export")
    if getattr(st, "default_prompt_name", None):
        raise ExportError("models with a default prompt are not supported for export")
    tokenizer = transformer.tokenizer
    inputs = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    if "input_ids" not in inputs or "attention_mask" not in inputs:
        raise ExportError(f"unexpected tokenizer inputs {tokenizer.model_input_names}")
    if tokenizer.pad_token is None:
        raise ExportError("the tokenizer has no padding token")
    return {"transformer": transformer, "inputs": inputs, "pooling": mode,
            "max_seq_length": int(transformer.max_seq_length),
            "do_lower_case": bool(getattr(transformer, "do_lower_case", False)),
            "pad_token": tokenizer.pad_token, "pad_id": int(tokenizer.pad_token_id)}


def export_encoder(encoder: SentenceTransformerEncoder, dest: Path) -> dict[str, Any]:
    """Export ``encoder`` into the new folder ``dest`` and check it; return its ``encoder.json``."""
    set_offline()  # before onnxruntime's first import: no telemetry
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    dest = Path(dest)
    dest.mkdir(parents=True)
    d = _describe(encoder.model)
    hf_model = d["transformer"].auto_model.eval()
    names = d["inputs"]

    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = hf_model

        def forward(self, *tensors):
            return self.model(**dict(zip(names, tensors))).last_hidden_state

    sample = d["transformer"].tokenizer(["quarry export", "a longer sample sentence for tracing"],
                                        padding=True, return_tensors="pt")
    raw = dest / ".raw.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's and the legacy exporter's notices
        torch.onnx.export(Wrapper(), tuple(sample[n] for n in names), str(raw), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)
    # Optimise the graph once here (fusions that hold on any CPU), weights as external data.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(dest / ONNX_FILE)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                     ONNX_FILE + ".data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    options.log_severity_level = 3
    ort.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
    raw.unlink()

    tokenizer = Tokenizer.from_str(d["transformer"].tokenizer.backend_tokenizer.to_str())
    tokenizer.enable_truncation(max_length=d["max_seq_length"])
    tokenizer.enable_padding(pad_id=d["pad_id"], pad_token=d["pad_token"])
    tokenizer.save(str(dest / TOKENIZER_FILE))

    settings = {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION,
        "model": {"name": encoder.name, "fingerprint": encoder.fingerprint, "dim": encoder.dim},
        "onnx": ONNX_FILE, "tokenizer": TOKENIZER_FILE, "inputs": names, "output": "token_embeddings",
        "pooling": d["pooling"], "normalize": True, "max_seq_length": d["max_seq_length"],
        "do_lower_case": d["do_lower_case"], "pad_token": d["pad_token"], "pad_id": d["pad_id"],
        "exported_with": {"torch": torch.__version__, "onnxruntime": ort.__version__, "opset": OPSET},
    }
    (dest / SETTINGS).write_text(json.dumps(settings, indent=1, ensure_ascii=False), encoding="utf-8")
    cosine = check_export(encoder, OnnxEncoder(dest))
    settings["check"] = {"probes": len(PROBES), "min_cosine": round(cosine, 6)}
    (dest / SETTINGS).write_text(json.dumps(settings, indent=1, ensure_ascii=False), encoding="utf-8")
    log.info("exported %s to ONNX in %s (min cosine to torch %.6f)", encoder.name, dest, cosine)
    return settings


def check_export(reference, exported: OnnxEncoder, texts=PROBES) -> float:
    """The smallest cosine between the two encoders' vectors for ``texts``; ExportError below MIN_COSINE."""
    a = reference.encode(list(texts))
    b = exported.encode(list(texts))
    cosine = float(np.min(np.sum(a * b, axis=1)))
    if not cosine >= MIN_COSINE:
        raise ExportError(f"the ONNX export does not reproduce the model (cosine {cosine:.4f} < {MIN_COSINE})")
    return cosine
