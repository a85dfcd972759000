"""Peer libraries side by side with quarry: the same chunks, the same questions, the same judge.

``python -m eval --peers`` adds their rows to the table. Only passage retrieval is compared (hit@k,
MRR@10, latency): a peer returns passages and picks no answer span, so its answer columns are empty.

* ``bm25s`` (https://github.com/xhluca/bm25s): BM25 in NumPy over the chunk texts of the same quarry
  index, English stopwords and the Snowball English stemmer (PyStemmer), as its README sets it up.
  Quarry's own lexical retriever is BM25 in SQLite FTS5 with the Porter stemmer.
* ``haystack-bm25`` and ``haystack-hybrid`` (https://haystack.deepset.ai): an
  ``InMemoryDocumentStore`` of the same chunks, its ``InMemoryBM25Retriever`` (its defaults: BM25L,
  no stemming), and Haystack's hybrid retrieval as its tutorial builds it: that BM25 retriever and
  an ``InMemoryEmbeddingRetriever`` joined by ``DocumentJoiner(join_mode="reciprocal_rank_fusion")``.
  The documents carry the chunk vectors of the quarry index and questions are embedded by the same
  model, so the embeddings are the ones a ``SentenceTransformersDocumentEmbedder`` with this model
  would make; each retriever returns as many candidates as quarry's (``RetrieverConfig.candidates``).
  Haystack's telemetry is turned off (``HAYSTACK_TELEMETRY_ENABLED=False``): nothing leaves the machine.
* ``txtai-bm25`` and ``txtai-hybrid`` (https://neuml.github.io/txtai): ``Embeddings(keyword=True)``, its
  BM25 index, and ``Embeddings(hybrid=True)``, its dense + BM25 index (scores combined as it does by
  default), over the same chunks; its vectors come from the quarry index through txtai's
  ``method="external"`` hook (questions: the same model), as its own ``path=`` to this model would make.
* ``llamaindex-bm25`` and ``llamaindex-hybrid`` (https://docs.llamaindex.ai): ``TextNode``s of the same
  chunks, its ``BM25Retriever`` (the ``llama-index-retrievers-bm25`` package: bm25s with its English
  stemmer and stopwords), and its hybrid retrieval as its BM25 guide builds it: a ``VectorStoreIndex``
  retriever and that BM25 retriever joined by ``QueryFusionRetriever(mode="reciprocal_rerank",
  num_queries=1)`` (no language model: one query, no rewrites). The nodes carry the quarry index's
  chunk vectors and questions are embedded by the same model (a ``BaseEmbedding`` over it); each
  retriever returns as many candidates as quarry's.

The peers are an optional extra: ``pip install -e '.[peers]'`` (the ``dev`` extra has them too).
"""

from __future__ import annotations

import os

from indexer.errors import QuarryError
from indexer.schema import Passage, Result
from retriever.pipeline import RetrieverConfig
from retriever.settings import check_question

PEERS = ("bm25s", "haystack-bm25", "haystack-hybrid", "txtai-bm25", "txtai-hybrid", "llamaindex-bm25",
         "llamaindex-hybrid")


class PeerMissing(QuarryError):
    """A peer library that is not installed."""


class Peer:
    """Every chunk of a quarry index, for another library to rank; answers like ``Retriever.ask`` with
    passages only."""

    config = RetrieverConfig(answer=False, rerank=False)  # what the harness reads: no answer span

    def __init__(self, index):
        self.index = index
        found = index.store.chunks(list(range(index.n_chunks)))
        self.ids = sorted(found)
        self.chunks = found  # chunk id -> Chunk

    def result(self, question: str, hits) -> Result:
        """``hits``: (chunk id, score) pairs, best first."""
        return Result(question, None, tuple(Passage.of(self.chunks[int(i)], score) for i, score in hits))


class Bm25sPeer(Peer):
    """bm25s over every chunk of ``index``."""

    def __init__(self, index):
        try:
            import bm25s
            import Stemmer
        except ImportError as e:
            raise PeerMissing(f"the peer bm25s needs {e.name}: pip install -e '.[peers]'") from None
        super().__init__(index)
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._model = bm25s.BM25()
        self._model.index(self._tokenize([self.chunks[i].text for i in self.ids]), show_progress=False)

    def _tokenize(self, texts: list[str]):
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    def ask(self, question: str, k: int = 5, qvec=None) -> Result:
        question = check_question(question, k)
        rows, scores = self._model.retrieve(self._tokenize([question]), k=min(k, len(self.ids)),
                                            show_progress=False)
        # a score of 0: no query term in the chunk (BM25 engines do not return such documents)
        return self.result(question, [(self.ids[int(r)], s) for r, s in zip(rows[0], scores[0]) if s > 0])


class HaystackPeer(Peer):
    """Haystack's in-memory BM25 retriever, or its hybrid (BM25 + embeddings, RRF), over every chunk of
    ``index``; ``encoder`` embeds the questions."""

    def __init__(self, index, encoder, hybrid: bool):
        os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
        try:
            from haystack import Document
            from haystack.components.joiners import DocumentJoiner
            from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
            from haystack.document_stores.in_memory import InMemoryDocumentStore
        except ImportError as e:
            raise PeerMissing(f"the peer haystack needs {e.name}: pip install -e '.[peers]'") from None
        super().__init__(index)
        self.encoder, self.hybrid = encoder, hybrid
        store = InMemoryDocumentStore(embedding_similarity_function="cosine")
        vectors = index.store.chunk_vectors
        store.write_documents([Document(id=str(i), content=self.chunks[i].text,
                                        embedding=[float(x) for x in vectors[i]]) for i in self.ids])
        self._bm25 = InMemoryBM25Retriever(store)
        self._dense = InMemoryEmbeddingRetriever(store)
        self._join = DocumentJoiner(join_mode="reciprocal_rank_fusion")

    def ask(self, question: str, k: int = 5, qvec=None) -> Result:
        question = check_question(question, k)
        if not self.hybrid:
            docs = self._bm25.run(query=question, top_k=k)["documents"]
        else:
            if qvec is None:
                qvec = self.encoder.encode([question])[0]
            lexical = self._bm25.run(query=question, top_k=self.config.candidates)["documents"]
            dense = self._dense.run(query_embedding=[float(x) for x in qvec], top_k=self.config.candidates)["documents"]
            docs = self._join.run(documents=[lexical, dense], top_k=k)["documents"]
        # BM25 alone: a score of 0 means no query term in the chunk
        return self.result(question, [(d.id, d.score or 0.0) for d in docs
                                      if self.hybrid or d.score is None or d.score > 0])


class TxtaiPeer(Peer):
    """txtai's keyword (BM25) or hybrid embeddings index over every chunk of ``index``; ``encoder`` embeds
    the questions."""

    def __init__(self, index, encoder, hybrid: bool):
        try:
            from txtai import Embeddings
        except ImportError as e:
            raise PeerMissing(f"the peer txtai needs {e.name}: pip install -e '.[peers]'") from None
        import numpy as np

        super().__init__(index)
        self.encoder = encoder
        known = {self.chunks[i].text: index.store.chunk_vectors[i] for i in self.ids}

        def vectors(texts):  # the index's chunk vectors; anything else (a question) embedded by the model
            texts = list(texts)
            new = [t for t in texts if t not in known]
            fresh = dict(zip(new, encoder.encode(new))) if new else {}
            return np.array([known[t] if t in known else fresh[t] for t in texts], dtype=np.float32)

        config = {"method": "external", "transform": vectors, "content": True, "hybrid": True} if hybrid else \
            {"keyword": True, "content": True}
        self._embeddings = Embeddings(**config)
        self._embeddings.index([(str(i), self.chunks[i].text, None) for i in self.ids])

    def ask(self, question: str, k: int = 5, qvec=None) -> Result:
        question = check_question(question, k)
        return self.result(question, [(hit["id"], hit["score"]) for hit in self._embeddings.search(question, k)])


class LlamaIndexPeer(Peer):
    """LlamaIndex's BM25 retriever, or its hybrid (vector + BM25, reciprocal rank fusion), over every
    chunk of ``index``; ``encoder`` embeds the questions."""

    def __init__(self, index, encoder, hybrid: bool):
        try:
            from llama_index.core import VectorStoreIndex
            from llama_index.core.embeddings import BaseEmbedding
            from llama_index.core.llms import MockLLM
            from llama_index.core.retrievers import QueryFusionRetriever
            from llama_index.core.schema import QueryBundle, TextNode
            from llama_index.retrievers.bm25 import BM25Retriever
        except ImportError as e:
            raise PeerMissing(f"the peer llamaindex needs {e.name}: pip install -e '.[peers]'") from None
        super().__init__(index)

        class QuarryModel(BaseEmbedding):  # the index's model, as LlamaIndex calls an embedding model
            def _get_query_embedding(self, query: str) -> list[float]:
                return [float(x) for x in encoder.encode([query])[0]]

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return self._get_query_embedding(query)

            def _get_text_embedding(self, text: str) -> list[float]:
                return self._get_query_embedding(text)

        self._bundle = QueryBundle
        vectors = index.store.chunk_vectors
        # LlamaIndex's fusion tells results apart by a hash of text and metadata: the chunk id in the
        # metadata (kept out of what is embedded and searched) keeps chunks with the same text apart
        nodes = [TextNode(id_=str(i), text=self.chunks[i].text, embedding=[float(x) for x in vectors[i]],
                          metadata={"chunk": i}, excluded_embed_metadata_keys=["chunk"],
                          excluded_llm_metadata_keys=["chunk"])
                 for i in self.ids]
        n = self.config.candidates
        self._bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=min(n, len(nodes)))
        self._retriever = self._bm25
        if hybrid:
            dense = VectorStoreIndex(nodes, embed_model=QuarryModel()).as_retriever(similarity_top_k=n)
            self._retriever = QueryFusionRetriever([dense, self._bm25], llm=MockLLM(), mode="reciprocal_rerank",
                                                   num_queries=1, use_async=False, similarity_top_k=n)
        self.hybrid = hybrid

    def ask(self, question: str, k: int = 5, qvec=None) -> Result:
        question = check_question(question, k)
        bundle = self._bundle(question, embedding=None if qvec is None else [float(x) for x in qvec])
        hits = self._retriever.retrieve(bundle)[:k]
        # BM25 alone: a score of 0 means no query term in the chunk
        return self.result(question, [(h.node.node_id, h.score or 0.0) for h in hits
                                      if self.hybrid or (h.score or 0.0) > 0])


def open_peer(name: str, index, encoder=None):
    """The peer ``name`` over ``index`` (``encoder``: embeds questions, for peers that need it);
    PeerMissing when its library is not installed."""
    if name == "bm25s":
        return Bm25sPeer(index)
    if name in ("haystack-bm25", "haystack-hybrid"):
        return HaystackPeer(index, encoder, hybrid=name == "haystack-hybrid")
    if name in ("txtai-bm25", "txtai-hybrid"):
        return TxtaiPeer(index, encoder, hybrid=name == "txtai-hybrid")
    if name in ("llamaindex-bm25", "llamaindex-hybrid"):
        return LlamaIndexPeer(index, encoder, hybrid=name == "llamaindex-hybrid")
    raise KeyError(f"no peer {name!r}; known: {', '.join(PEERS)}")
