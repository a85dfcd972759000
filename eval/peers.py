"""Peer libraries side by side with quarry: the same chunks, the same questions, the same judge.

``python -m eval --peers`` adds their rows to the table. Only passage retrieval is compared (hit@k,
MRR@10, latency): a peer returns passages and picks no answer span, so its answer columns are empty.

* ``bm25s`` (https://github.com/xhluca/bm25s): BM25 in NumPy over the chunk texts of the same quarry
  index, English stopwords and the Snowball English stemmer (PyStemmer), as its README sets it up.
  Quarry's own lexical retriever is BM25 in SQLite FTS5 with the Porter stemmer.

The peers are an optional extra: ``pip install -e '.[peers]'`` (the ``dev`` extra has them too).
"""

from __future__ import annotations

from indexer.errors import QuarryError
from indexer.schema import Passage, Result
from retriever.pipeline import RetrieverConfig, check_question

PEERS = ("bm25s",)


class PeerMissing(QuarryError):
    """A peer library that is not installed."""


class Bm25sPeer:
    """bm25s over every chunk of ``index``; answers like ``Retriever.ask`` with passages only."""

    config = RetrieverConfig(answer=False, rerank=False)  # what the harness reads: no answer span

    def __init__(self, index):
        try:
            import bm25s
            import Stemmer
        except ImportError as e:
            raise PeerMissing(f"the peer bm25s needs {e.name}: pip install -e '.[peers]'") from None
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.index = index
        chunks = index.store.chunks(list(range(index.n_chunks)))
        self._chunks = [chunks[i] for i in sorted(chunks)]
        self._model = bm25s.BM25()
        self._model.index(self._tokenize([c.text for c in self._chunks]), show_progress=False)

    def _tokenize(self, texts: list[str]):
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    def ask(self, question: str, k: int = 5, qvec=None) -> Result:
        question = check_question(question, k)
        rows, scores = self._model.retrieve(self._tokenize([question]), k=min(k, len(self._chunks)),
                                            show_progress=False)
        passages = []
        for row, score in zip(rows[0], scores[0]):
            if score <= 0:  # no query term in it: BM25 engines do not return such documents
                continue
            c = self._chunks[int(row)]
            passages.append(Passage(c.text, c.source, c.start_char, c.end_char, c.start_line, c.end_line,
                                    page=c.page, section=c.section, score=round(float(score), 6), chunk_id=c.id))
        return Result(question, None, tuple(passages))


def open_peer(name: str, index):
    """The peer ``name`` over ``index``; PeerMissing when its library is not installed."""
    if name == "bm25s":
        return Bm25sPeer(index)
    raise KeyError(f"no peer {name!r}; known: {', '.join(PEERS)}")
