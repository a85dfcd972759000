"""Typed errors raised by quarry's library code; the CLI and the server turn them into messages."""

from __future__ import annotations

import shlex


class QuarryError(Exception):
    """Base class: the message is one line a person can act on."""


class SourceError(QuarryError):
    """The folder to index is missing, unreadable or holds nothing indexable."""


class FileSkipped(SourceError):
    """One file cannot be indexed (binary, undecodable, empty, damaged, its library missing)."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason  # a few words for the indexer's summary
        super().__init__(f"{source}: {reason}")


class ModelError(QuarryError):
    """The embedding model cannot be found or loaded."""


class ExportError(ModelError):
    """The embedding model cannot be exported to ONNX (queries then use the torch path)."""


class IndexDirError(QuarryError):
    """Base class for problems with an index directory."""

    def __init__(self, message: str, index_dir: object = None, hint: str | None = None):
        self.index_dir = index_dir
        self.hint = hint
        super().__init__(f"{message}. {hint}" if hint else message)


class IndexNotFound(IndexDirError):
    """There is no index at the given path."""


class IndexIncompatible(IndexDirError):
    """The index was written by another format version or another embedding model. For another format:
    ``format_version``, the index's, and ``source_dir``, the folder it was built from (None if unknown)."""

    def __init__(self, message: str, index_dir: object = None, hint: str | None = None,
                 format_version: int | None = None, source_dir: str | None = None):
        super().__init__(message, index_dir, hint)
        self.format_version = format_version
        self.source_dir = source_dir


class IndexCorrupt(IndexDirError):
    """A file of the index is missing, truncated or does not match its checksum."""


class IndexClosed(IndexDirError):
    """The index was closed (a server replaced it with a newer one) and cannot be read any more."""


class IndexLocked(IndexDirError):
    """Another indexer is writing this index right now."""


class SettingsError(QuarryError):
    """An option of the retriever is not acceptable (a reader's abstention asked for without a reader)."""


class QueryError(QuarryError):
    """The question or its options are not acceptable (empty, too long, k out of range)."""


def rebuild_hint(index_dir: object, source_dir: object = None) -> str:
    """The command that rebuilds an index, for error messages (with the folder it was built from, when
    known)."""
    source = shlex.quote(source_dir) if isinstance(source_dir, str) and source_dir else "SOURCE_DIR"
    return f"Rebuild it with: python -m indexer {source} --index-dir {index_dir} --rebuild"
