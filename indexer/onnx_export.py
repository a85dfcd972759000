"""Index time: export the embedding model to ONNX, next to the vectors it made, for torch-free queries.

The export lands in ``INDEX_DIR/encoder/`` (layout in :mod:`indexer.onnx_encoder`), inside the
temporary folder of a build, so it is covered by the manifest's checksums and swapped in atomically
with the rest of the index. It is checked before it is kept: the exported model must embed a set of
probe texts as the torch model does (cosine >= ``MIN_COSINE``). A model that cannot be exported
leaves the index intact and ``ask`` on the torch path, with a warning.

One export per model: exports are kept in a cache, ``$QUARRY_ONNX_CACHE`` (``off`` for none), by
default ``~/.cache/quarry/onnx/<fingerprint>-v<version>/``, each written in a temporary folder and
renamed into place with a ``checksums.json`` (sha256 and size of each file) written last. An index
gets hard links to the cached files when they share a file system (a copy otherwise), so twenty
indexes of one model hold one 90 MB export on disk; the index stays self-contained: its manifest
lists and checksums the files like any others and records the export's ``checksums`` digest. A
cache entry is checked against its checksums before each use; a damaged one is removed and made
again. Without a cache, an update with the same model re-uses the previous index's export.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from indexer.encoder import SentenceTransformerEncoder
from indexer.errors import ExportError, QuarryError
from indexer.hashcache import cached_sha256, file_sha256, remember_link
from indexer.offline import set_offline
from indexer.onnx_encoder import EXPORT_FORMAT, EXPORT_VERSION, POOLING_MODES, SETTINGS, OnnxEncoder, read_settings
from indexer.paths import cache_dir

log = logging.getLogger(__name__)

EXPORT_DIR = "encoder"
ONNX_FILE = "model.onnx"
CHECKSUMS = "checksums.json"  # in a cache entry only, written last: the entry is complete and intact
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


def can_export(encoder: object) -> TypeGuard[SentenceTransformerEncoder]:
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

    Links the cached export of this model (made now if missing or damaged, from ``previous``'s
    export when that is intact and for the same model); without a cache (``QUARRY_ONNX_CACHE=off``,
    or one that cannot be written) re-uses the export of the index at ``previous`` or exports into
    the index. If exporting fails, nothing is left in ``index_tmp`` and the entry records the
    failure. ``None``: the encoder is not exportable (a test fake, another implementation).
    """
    if not can_export(encoder):
        return None
    fingerprint = encoder.fingerprint
    dest = Path(index_tmp) / EXPORT_DIR
    entry = {"status": "ok", "format": "onnx", "path": EXPORT_DIR, "version": EXPORT_VERSION,
             "model_fingerprint": fingerprint, "quantized": False}
    root = export_cache_root()
    try:
        cached = None
        if root is not None:
            try:
                cached = cached_export(encoder, root, previous)
            except OSError as e:  # the cache cannot be written: an export of the index's own, as without one
                log.warning("cannot use the ONNX export cache %s (%s); exporting into the index", root, e)
                shutil.rmtree(dest, ignore_errors=True)
        if cached is not None:
            entry["cache"] = {"checksums": _digest(cached), "files": _place(cached, dest)}
            return entry
        if previous is not None and _reuse(Path(previous), dest, fingerprint):
            log.info("re-using the ONNX export of %s", previous)
            return entry
        export_encoder(encoder, dest)
    except Exception as e:  # any failure: keep the index, queries use torch
        shutil.rmtree(dest, ignore_errors=True)
        reason = str(e).strip().splitlines()[0][:300] if str(e).strip() else e.__class__.__name__
        log.warning("could not export the embedding model to ONNX (%s); `ask` will use torch, which starts "
                    "slower. Rebuild with --rebuild to try again.", reason)
        return {"status": "failed", "version": EXPORT_VERSION, "model_fingerprint": fingerprint, "error": reason}
    return entry


def index_time_encoder(encoder: object, previous: Path | None = None, threads: int | None = None) -> OnnxEncoder | None:
    """The cached ONNX export of ``encoder`` (made now if need be), loaded, to embed an index with.

    Its vectors are the torch model's to cosine >= ``MIN_COSINE`` (checked when it was exported) and
    it needs about half the CPU time of torch on MiniLM, without importing torch at all once the
    export is cached. None (embed with ``encoder`` itself) if the model cannot be exported, the cache
    is off, or anything fails.
    """
    if not can_export(encoder) or (root := export_cache_root()) is None:
        return None
    try:
        exported = OnnxEncoder(cached_export(encoder, root, previous), threads=threads).load()
        if exported.fingerprint != encoder.fingerprint or exported.dim != encoder.dim:
            raise ExportError("the cached export is of another model")
        return exported
    except Exception as e:  # any failure: torch embeds, as it always could
        log.warning("embedding with torch: the ONNX export cannot be used (%s)", str(e).strip()[:300] or e)
        return None


def export_cache_root() -> Path | None:
    """Where exports are cached: ``$QUARRY_ONNX_CACHE``, else ``~/.cache/quarry/onnx``; None if ``off``."""
    env = os.environ.get("QUARRY_ONNX_CACHE")
    if env is not None and env.strip().lower() in ("off", "0", "none", "no"):
        return None
    return Path(env).expanduser() if env else cache_dir() / "onnx"


def cache_entry(root: Path, fingerprint: str) -> Path:
    """The cache folder of the export of the model with ``fingerprint``."""
    return Path(root) / f"{fingerprint.split(':')[-1]}-v{EXPORT_VERSION}"


def check_cache_entry(folder: Path, fingerprint: str) -> bool:
    """Whether the cache entry ``folder`` is complete, intact (its checksums) and for ``fingerprint``."""
    try:
        sums = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
        names = sorted(p.name for p in folder.iterdir() if p.name != CHECKSUMS)
        if sorted(sums) != names or SETTINGS not in sums:
            return False
        for name, want in sums.items():
            path = folder / name
            if path.stat().st_size != want["size"] or cached_sha256(path) != want["sha256"]:
                return False
        return read_settings(folder)["model"]["fingerprint"] == fingerprint
    except (OSError, KeyError, TypeError, ValueError, QuarryError):
        return False


def cached_export(encoder: SentenceTransformerEncoder, root: Path, previous: Path | None = None) -> Path:
    """The cache entry of ``encoder``'s export, made now if it is missing or damaged: from the
    intact export of the index at ``previous`` if it has one for this model, else by exporting."""
    fingerprint = encoder.fingerprint
    folder = cache_entry(root, fingerprint)
    if folder.is_dir():
        if check_cache_entry(folder, fingerprint):
            log.info("using the cached ONNX export %s", folder)
            return folder
        log.warning("the cached ONNX export %s is damaged or incomplete: exporting again", folder)
        _discard(folder)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        made = tmp / EXPORT_DIR
        if previous is None or not _reuse(Path(previous), made, fingerprint):
            export_encoder(encoder, made)
        sums = {p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)} for p in made.iterdir()}
        (made / CHECKSUMS).write_text(json.dumps(sums, indent=1, sort_keys=True), encoding="utf-8")
        for p in made.iterdir():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        try:
            os.rename(made, folder)  # atomic; fails if another build put one there first
        except OSError:
            if not check_cache_entry(folder, fingerprint):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _discard(folder: Path) -> None:
    """Move a damaged cache entry aside, then delete it (an index linked to its files keeps them)."""
    aside = folder.with_name(f".bad-{folder.name}-{os.getpid()}")
    try:
        os.rename(folder, aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)


def _digest(folder: Path) -> str:
    """Identifies a cache entry's contents: the sha256 of its checksums file."""
    return "sha256:" + hashlib.sha256((folder / CHECKSUMS).read_bytes()).hexdigest()


def _place(cached: Path, dest: Path) -> str:
    """Hard-link the cache entry's files into ``dest`` (copy them across file systems); say which."""
    dest.mkdir(parents=True)
    how = "hardlink"
    sums = json.loads((cached / CHECKSUMS).read_text(encoding="utf-8"))  # verified by check_cache_entry
    for src in sorted(cached.iterdir()):
        if src.name == CHECKSUMS:
            continue
        try:
            os.link(src, dest / src.name)  # cache and index files are never written in place
            remember_link(dest / src.name, sums[src.name]["sha256"])
        except OSError:
            shutil.copy2(src, dest / src.name)
            how = "copy"
    return how


def _reuse(previous: Path, dest: Path, fingerprint: str) -> bool:
    """Hard-link (or copy) the previous index's export into ``dest`` if it is intact and for this model."""
    from indexer.indexdir import read_manifest

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
