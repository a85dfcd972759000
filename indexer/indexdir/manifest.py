"""The schema of an index's ``manifest.json`` and the rule for every file name it holds.

A manifest is JSON a person (or an attacker) can edit, so it is checked before any field is used:
:func:`validate_manifest` checks the types of the fields quarry reads (a pydantic model, strict:
``"3"`` is not 3, ``true`` is not 1) and names the first wrong field; :func:`contained` checks
that a file name the manifest gives (``faiss.ids``, the ONNX export's files, ``files``) is a
relative path that stays inside the index folder, symlinks resolved, and is covered by the
manifest's checksums.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.errors import IndexCorrupt, rebuild_hint

_SHA256 = r"^[0-9a-f]{64}$"


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class FileEntry(_Part):
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256)


class ModelEntry(_Part):
    name: str
    fingerprint: str
    dim: int = Field(gt=0)


class Counts(_Part):
    documents: int = Field(ge=0)
    chunks: int = Field(ge=0)
    sentences: int = Field(ge=0)


class DocumentEntry(_Part):
    source: str
    sha256: str
    size: int = Field(ge=0)
    first_chunk: int = Field(ge=0)
    n_chunks: int = Field(ge=0)


class FaissEntry(_Part):
    type: str
    ids: str | None = None


class QueryEncoderEntry(_Part):
    status: str
    path: str | None = None


class Manifest(_Part):
    """The fields of ``manifest.json`` that quarry reads (others are kept as they are)."""

    format_version: int
    dim: int = Field(gt=0)
    model: ModelEntry
    counts: Counts
    documents: list[DocumentEntry]
    files: dict[str, FileEntry]
    faiss: FaissEntry
    chunker: dict[str, Any] = Field(default_factory=dict)
    query_encoder: QueryEncoderEntry | None = None
    source_dir: str | None = None
    updated_at: str | None = None
    text_extensions: list[str] = Field(default_factory=list)  # read as plain text (--text-ext)


def validate_manifest(manifest: Any, path: Path, index_dir: Path) -> dict[str, Any]:
    """``manifest`` when its fields have the types quarry reads; else IndexCorrupt naming the field."""
    try:
        Manifest.model_validate(manifest)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        shown = "" if err["type"] == "missing" else f", not {_short(got)}"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise IndexCorrupt(f"{path}: field {where!r} is wrong: {err['msg'].lower()}{shown}{more}",
                           index_dir, rebuild_hint(index_dir)) from None
    return manifest


def _short(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def contained(root: Path, name: Any, files: dict[str, Any], index_dir: Path, what: str) -> Path:
    """``root / name`` once ``name`` is a relative POSIX path without ``..`` whose target, symlinks
    resolved, lies inside ``root``, and which ``files`` (the manifest's checksums) lists.

    ``root`` is where the index is read (its lease, ``/proc/self/fd/N``); ``index_dir`` names it in
    messages; ``what`` says which entry named the file (``faiss.ids``, ``encoder.json's onnx``).
    """
    def refuse(why: str) -> IndexCorrupt:
        return IndexCorrupt(f"{index_dir}: {what} names {name!r}, {why}", index_dir, rebuild_hint(index_dir))

    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        raise refuse("not a file name")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts:
        raise refuse("a path outside the index (absolute or with '..')")
    real_root = os.path.realpath(root)
    real = os.path.realpath(Path(root) / name)
    if not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise refuse("a link that leads outside the index")
    if PurePosixPath(*parts).as_posix() not in files:
        raise refuse("a file the manifest's checksums do not cover")
    return Path(root) / name
