"""quarry's retriever: open an index dir and answer questions with cited, verbatim passages.

Public API::

    from retriever import Retriever
    result = Retriever.open(index_dir).ask("How much will big tech spend on AI?", k=5)
    result.answer      # Answer | None (None: the documents do not answer)
    result.passages    # tuple[Passage, ...]
    result.to_dict()   # the JSON contract of `ask --json` and `POST /ask`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.schema import Answer, Passage, Result

if TYPE_CHECKING:
    from retriever.pipeline import Retriever, RetrieverConfig

__all__ = ["Retriever", "RetrieverConfig", "Answer", "Passage", "Result"]


def __getattr__(name: str):
    if name in ("Retriever", "RetrieverConfig"):
        from retriever import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
