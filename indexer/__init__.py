"""quarry's indexer: read a folder of documents, chunk with exact offsets, embed, write an index dir.

Public API: ``build_index`` (build or update an index) and the shared data model in ``schema``.
Heavy modules (torch, faiss) are imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.build import BuildReport, build_index

__all__ = ["build_index", "BuildReport"]


def __getattr__(name: str):
    if name in __all__:
        from indexer import build

        return getattr(build, name)
    raise AttributeError(name)
