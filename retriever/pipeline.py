"""The retriever: question -> lexical + dense candidates -> fusion -> sentence scoring -> Result."""

from __future__ import annotations

import copy
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from indexer.encoder import Encoder
from indexer.errors import SettingsError
from indexer.schema import Answer, Chunk, Passage, Result, Sentence, Span
from indexer.sentences import FENCE, block, lines_of, paragraph
from indexer.text import LINE_BREAK, terms, words
from retriever.answer import (
    ScoredSentence,
    SpanConfig,
    after_echo,
    answer_sentences,
    clause_window,
    confidence,
    introduced_end,
    score_sentences,
    without_answer_model,
)
from retriever.cues import known_names, unmet
from retriever.fusion import interleave, rrf, score_fusion
from retriever.index import Index
from retriever.reader import Reading
from retriever.settings import MAX_K, MAX_QUESTION_CHARS, READER_ENV, RetrieverSettings, check_question

__all__ = ["MAX_K", "MAX_QUESTION_CHARS", "Retriever", "RetrieverConfig", "RetrieverSettings", "answer_span",
           "check_question", "problems", "scored_sentences"]

log = logging.getLogger(__name__)


class CrossScorer(Protocol):
    """What the retriever needs of a cross-encoder (:class:`retriever.cross.CrossEncoderScorer`)."""

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """A relevance probability in [0, 1] for each text."""
        ...


class AnswerScorer(Protocol):
    """The answer-sentence encoder (retriever.answer_model): each sentence's cosine with the question."""

    def scores(self, question: str, texts: dict[int, str]) -> dict[int, float]:
        ...


class SpanReader(Protocol):
    """What the retriever needs of an extractive reader (:class:`retriever.reader.ReaderScorer`)."""

    def read(self, question: str, passages: Sequence[str],
             sentences: Sequence[Sequence[tuple[int, int]]]) -> Reading:
        """For each passage, a probability in [0, 1] that the answer lies in each sentence (character
        ranges), and the probability of "no answer"."""
        ...

PARAGRAPH_REACH = 2000  # characters each side of an answer span searched for the rest of its paragraph
MODES = ("lexical", "dense", "hybrid")
RERANK_MERGES = ("interleave", "score")


@dataclass(frozen=True)
class RetrieverConfig:
    """How passages are found and the answer chosen; ``python -m eval`` compares settings."""

    mode: str = "hybrid"  # lexical | dense | hybrid
    fusion: str = "rrf"  # rrf | score
    rrf_k: float = 30.0  # rrf_k, dense_weight, rerank_weight: tuned on the dev split (python -m eval.bench.tune --grid)
    dense_weight: float = 0.7  # relative to lexical (1.0) in the fusion
    candidates: int = 50  # taken from each retriever before fusion
    span_passages: int = 8  # passages whose sentences compete for the answer
    answer: bool = True  # pick an answer span (False: passages only)
    rerank: bool = True  # re-order passages by their best sentence's score
    rerank_weight: float = 0.7  # share of the sentence score in the re-ranked passage score
    # how the re-ranked passages are returned: "interleave" takes them in turns from the re-ranked
    # order (first) and the fused order, each once; "score" in the re-ranked order alone. Measured
    # leave-one-corpus-out (docs/corpora.md): interleave keeps hit@1 and gains hit@5 0.913 -> 0.922
    rerank_merge: str = "interleave"
    cross_weight: float = 1.0  # x a cross-encoder's probability, added to a sentence's score (when one is given)
    cross_sentences: int = 16  # the best this many sentences are re-scored by it (of ~45 per question)
    reader_weight: float = 1.0  # x an extractive reader's probability, added to a sentence's score (when one is given)
    reader_passages: int = 8  # the best this many passages are read by it
    reader_abstain: bool = False  # also abstain when it finds no span more probable than "no answer" (SQuAD 2.0)
    # an answer below this confidence is flagged low_confidence (ask, the page): measured with
    # `python -m eval.confidence --corpora all --split dev --threshold 0.5` (docs/confidence.md) for the
    # scorer fitted on six corpora: on every corpus, answers under 0.5 are right less often than not
    # (0.11-0.45 of them). Re-measure when the answer scorer is refitted.
    low_confidence: float = 0.5
    span: SpanConfig = field(default_factory=SpanConfig)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if self.fusion not in ("rrf", "score"):
            raise ValueError("fusion must be rrf or score")
        if self.rerank_merge not in RERANK_MERGES:
            raise ValueError(f"rerank_merge must be one of {', '.join(RERANK_MERGES)}")
        if self.cross_weight < 0 or self.cross_sentences < 0:
            raise ValueError("cross_weight and cross_sentences must be at least 0")
        if self.reader_weight < 0 or self.reader_passages < 0:
            raise ValueError("reader_weight and reader_passages must be at least 0")


class Retriever:
    """Answers questions from one index. Thread-safe; load once, ask many times."""

    def __init__(self, index: Index, encoder: Encoder, config: RetrieverConfig | None = None,
                 cross_encoder: CrossScorer | None = None, reader: SpanReader | None = None,
                 answer_model: AnswerScorer | None = None):
        index.check_encoder(encoder)
        self.index = index
        self.encoder = encoder
        self.config = config or RetrieverConfig()
        self.cross_encoder = cross_encoder  # optional: re-scores the candidate sentences (retriever.cross)
        self.reader = reader  # optional: scores them by the answer spans it reads in them (retriever.reader)
        self.answer_model = answer_model  # the answer-sentence encoder (retriever.answer_model; None: off)

    @classmethod
    def open(cls, index_dir: str | os.PathLike | None = None, encoder: Encoder | None = None,
             config: RetrieverConfig | None = None, *, settings: RetrieverSettings | None = None,
             cross_encoder: CrossScorer | str | os.PathLike | None = None,
             reader: SpanReader | str | os.PathLike | None = None,
             wrap_encoder: Callable[[Encoder], Encoder] | None = None, **options) -> Retriever:
        """The one way to build a Retriever: open ``index_dir`` (checked), choose and check the question
        encoder, the configuration, the optional cross-encoder and reader.

        ``settings`` (a :class:`~retriever.settings.RetrieverSettings`) says it all; else it is made by
        ``RetrieverSettings.from_env(index_dir=..., **options)``: ``$QUARRY_INDEX_DIR``,
        ``$QUARRY_ENCODER``, ``$QUARRY_CROSS_ENCODER``, ``$QUARRY_READER``, ``$QUARRY_READER_ABSTAIN``,
        then the options given (``query_encoder``, ``model``, ``threads``, ``reader_abstain``,
        ``verify``). ``encoder``: an Encoder to embed questions with instead (its fingerprint is
        checked); default: the index's verified ONNX export of its model, else the torch model (see
        :func:`retriever.query_encoder.open_query_encoder`). ``cross_encoder`` and ``reader``: a
        model folder (loaded here, once per process) or a loaded scorer. ``wrap_encoder``: applied to
        the chosen encoder (the server's batching). Raises :class:`~indexer.errors.QuarryError`
        subclasses: a missing, corrupt or incompatible index, a model that cannot be used, options
        that do not go together (:class:`~indexer.errors.SettingsError`)."""
        paths = {name: os.fspath(value) for name, value in (("cross_encoder", cross_encoder), ("reader", reader))
                 if isinstance(value, (str, os.PathLike))}
        loaded_reader = reader is not None and "reader" not in paths
        if settings is None:
            abstain = options.pop("reader_abstain", None) if loaded_reader else None
            settings = RetrieverSettings.from_env(index_dir=index_dir, **paths, **options)
            if abstain:  # a loaded reader is not in the settings: its abstention goes to the config
                config = replace(config or RetrieverConfig(), reader_abstain=True)
        elif index_dir is not None or paths or options:
            raise TypeError("give either settings or index_dir and options, not both")
        if settings.reader_abstain:
            config = replace(config or RetrieverConfig(), reader_abstain=True)
        config = config or RetrieverConfig()
        if config.reader_abstain and not (loaded_reader or settings.reader):
            raise SettingsError(f"--reader-abstain needs a reader (--reader DIR or ${READER_ENV})")
        index = Index(settings.index_dir, verify=settings.verify)
        if encoder is None:
            from retriever.query_encoder import open_query_encoder

            encoder = open_query_encoder(index, model=settings.model, prefer=settings.query_encoder,
                                         threads=settings.threads)
        if wrap_encoder is not None:
            encoder = wrap_encoder(encoder)
        if cross_encoder is None or isinstance(cross_encoder, (str, os.PathLike)):
            from retriever.cross import open_cross_encoder

            cross_encoder = open_cross_encoder(settings.cross_encoder)
        if reader is None or isinstance(reader, (str, os.PathLike)):
            from retriever.reader import open_reader

            reader = open_reader(settings.reader)
        from retriever.answer_model import open_answer_model

        return cls(index, encoder, config, cross_encoder, reader, open_answer_model(settings.answer_model))

    def with_config(self, **changes) -> Retriever:
        """The same index, encoder, cross-encoder and reader with some settings changed (for evaluation)."""
        other = copy.copy(self)
        other.config = replace(self.config, **changes)
        return other

    def embed(self, question: str) -> np.ndarray:
        return self.encoder.encode([question])[0]

    def ask(self, question: str, k: int = 5, qvec: np.ndarray | None = None) -> Result:
        """The answer span (or None: the documents do not answer) and the top ``k`` passages."""
        question = check_question(question, k)
        cfg = self.config
        need_vec = cfg.mode != "lexical" or cfg.answer or cfg.rerank
        if qvec is None and need_vec:
            qvec = self.embed(question)
        fused, topical = self._candidates(question, qvec)
        if not fused:
            return Result(question, None, ())
        n = max(k, cfg.span_passages) if (cfg.answer or cfg.rerank) else k
        ranked = self._passages(fused, n)

        scored: list[ScoredSentence] = []
        if cfg.answer or cfg.rerank:
            every, scored = self._score_sentences(question, qvec, ranked, topical, best_per_chunk=True)
            if cfg.rerank and every:
                # by each passage's best sentence before the answer checks: a check says a sentence
                # cannot be the answer, not that its passage is off the question
                per_chunk: dict[int, float] = {}
                for s in every:
                    per_chunk.setdefault(s.chunk.id, s.score)  # best first
                w = cfg.rerank_weight
                fused_order = ranked
                ranked = sorted(((c, (1 - w) * p + w * per_chunk.get(c.id, 0.0)) for c, p in ranked),
                                key=lambda x: -x[1])
                if cfg.rerank_merge == "interleave":
                    ranked = falling(interleave(ranked, fused_order, key=lambda x: x[0].id),
                                     {c.id: score for c, score in ranked})
        ranked = ranked[:k]
        passages = tuple(Passage.of(c, s) for c, s in ranked)
        answer = None
        # the answer is the best sentence inside the passages returned
        kept = {p.chunk_id for p in passages}
        best = next((s for s in scored if s.chunk.id in kept), None)
        if cfg.answer and best is not None:
            conf = confidence(best, cfg.span)
            # an unsure answer (under low_confidence) to a question no closer to the folder than the
            # everyday off-topic probes are is withheld; a sure one is not ("What is a moat?" is short)
            near = conf >= cfg.low_confidence or topical >= self.probe_gate()
            if near and conf >= cfg.span.abstain_below and conf >= self.probe_threshold():
                answer = self._answer(question, best, conf, passages)
        return Result(question, answer, passages)

    def probe_gate(self) -> float:
        """The closest-passage cosine a question must reach to be answered: ``span.probe_gate``'s quantile
        of those of the off-topic probe questions (retriever.probes; 0.0 when off). Asked once and kept."""
        q = self.config.span.probe_gate
        if q is None:
            return 0.0
        gates = self.__dict__.setdefault("_probe_gates", {})
        if q not in gates:  # two threads may both compute it: the same value
            from retriever.probes import PROBES, probe_threshold

            gates[q] = probe_threshold(self.index.closest(self.encoder.encode(list(PROBES))), q)
        return gates[q]

    def probe_threshold(self) -> float:
        """The confidence this folder gives off-topic probe questions, at ``span.probe_quantile``
        (retriever.probes; 0.0 when off). Asked once per setting and kept."""
        span = self.config.span
        if span.probe_quantile is None:
            return 0.0
        key = (span, self.config.mode, self.config.fusion)
        cache = self.__dict__.setdefault("_probe_thresholds", {})
        if key not in cache:
            from retriever.probes import PROBES, probe_threshold

            off = self.with_config(span=replace(span, probe_quantile=None, abstain_below=0.0))
            confs = []
            for q in PROBES:
                a = off.ask(q, k=1).answer
                confs.append(0.0 if a is None else a.score)
            cache[key] = probe_threshold(confs, span.probe_quantile)
        return cache[key]

    def _chunks(self, top: list[tuple[int, float]]) -> list[tuple[Chunk, float]]:
        """The chunks of (id, score) candidates, best first, each with its score relative to the best."""
        chunks = self.index.store.chunks([cid for cid, _ in top])
        hi = top[0][1] or 1.0
        return [(chunks[cid], s / hi) for cid, s in top if cid in chunks]

    def _passages(self, fused: list[tuple[int, float]], n: int) -> list[tuple[Chunk, float]]:
        """The chunks of the first ``n`` candidates that repeat no passage above them (:func:`distinct`), the
        next ones filling in: left out before any sentence competes, so that a folder holding a manual twice
        still gets ``n`` different passages read."""
        return distinct(self._chunks(fused[:n + DUPLICATE_SPARE]), n)

    def _candidates(self, question: str, qvec: np.ndarray | None) -> tuple[list[tuple[int, float]], float]:
        """Fused (id, score) candidates, best first, and the best passage cosine (0.0 without a vector)."""
        cfg = self.config
        if qvec is None and cfg.mode != "lexical":
            raise ValueError(f"a {cfg.mode} search needs the question's vector")
        lexical = self.index.lexical(question, cfg.candidates) if cfg.mode != "dense" else []
        dense = self.index.dense(qvec, cfg.candidates) if qvec is not None and cfg.mode != "lexical" else []
        if not dense and qvec is not None and (cfg.answer or cfg.rerank):
            top = self.index.dense(qvec, 1)
            topical = top[0][1] if top else 0.0
        else:
            topical = dense[0][1] if dense else 0.0
        if cfg.mode == "lexical":
            return lexical, topical
        if cfg.mode == "dense":
            return dense, topical
        if cfg.fusion == "rrf":
            fused = rrf([lexical, dense], k=cfg.rrf_k, weights=[1.0, cfg.dense_weight])
        else:
            fused = score_fusion([lexical, dense], weights=[1.0, cfg.dense_weight])
        return promoted(fused, [d for d, _ in lexical[:2]] + [d for d, _ in dense[:2]], cfg.span_passages), topical

    def _score_sentences(self, question, qvec, ranked: list[tuple[Chunk, float]], topical: float = 0.0,
                         best_per_chunk: bool = False) -> tuple[list[ScoredSentence], list[ScoredSentence]]:
        """Every candidate sentence of the ranked chunks, and those that pass the answer checks, each
        best first; with ``best_per_chunk``, the second holds only each chunk's best one (all ``ask``
        needs: the checks then stop at a chunk's first sentence that passes: 55% of the checks on the
        gold questions)."""
        cfg = self.config
        sentences = {c.id: self.index.store.sentences_of(c) for c, _ in ranked}
        ids = sorted({s.id for ss in sentences.values() for s in ss})
        vecs = dict(zip(ids, self.index.sentence_vectors(ids))) if ids else {}
        idf = self.index.idf(terms(question))
        never_seen = math.log(1 + (self.index.n_chunks + 0.5) / 0.5)  # the IDF of a term no chunk has
        known_share = sum(v < never_seen - 1e-9 for v in idf.values()) / len(idf) if idf else 0.0
        qa = None
        if self.answer_model is not None and ids:
            qa = self.answer_model.scores(question, {s.id: s.text for ss in sentences.values() for s in ss})
        names = {c.source: self.index.name_words(c.source) for c, _ in ranked}
        scored = score_sentences(question, qvec, [c for c, _ in ranked], sentences, vecs, idf, cfg.span, topical,
                                 qa, known_share, names)
        if self.cross_encoder is not None and cfg.cross_weight and cfg.cross_sentences > 0 and scored:
            scored = self._cross_scored(self.cross_encoder, question, scored, sentences)
        if self.reader is not None and (cfg.reader_weight or cfg.reader_abstain) and cfg.reader_passages > 0 and scored:
            scored, reading = self._read(self.reader, question, scored, [c for c, _ in ranked[:cfg.reader_passages]],
                                         sentences)
            if cfg.reader_abstain and not reading.answerable:
                return scored, []  # the reader says the passages do not answer: no candidate is left
        if not cfg.span.verify:
            return scored, scored
        # names the retrieved passages use: a sentence may open with one ("Anthropic received ...")
        known = frozenset().union(*(known_names(c.text) for c, _ in ranked))
        passed, done = [], set()
        echo_cfg = cfg.span if self.answer_model is not None else without_answer_model(cfg.span)
        for s in (after_echo(question, scored, sentences, echo_cfg) if cfg.span.follow_echo else scored):
            if best_per_chunk and s.chunk.id in done:
                continue
            if not problems(self, question, s, idf, sentences[s.chunk.id], known):
                passed.append(s)
                done.add(s.chunk.id)
        return scored, passed

    def _cross_scored(self, cross_encoder: CrossScorer, question: str, scored: list[ScoredSentence],
                      sentences: dict[int, list[Sentence]]) -> list[ScoredSentence]:
        """``scored`` with the cross-encoder's weighted probability added to its best ``cross_sentences``,
        best first again; each sentence is read with the one before it in its passage. (On the dev
        questions a right sentence is among the best 16 for 185 of the 190 that have one at all.)"""
        top, rest = scored[:self.config.cross_sentences], scored[self.config.cross_sentences:]
        # by (chunk, sentence): a sentence in the overlap of two chunks opens one of them
        before = {(cid, s.id): (ss[i - 1].text if i else "") for cid, ss in sentences.items()
                  for i, s in enumerate(ss)}
        texts = [f"{before.get((s.chunk.id, s.sentence.id), '')} {s.sentence.text}".strip() for s in top]
        p = cross_encoder.score(question, texts)
        w = self.config.cross_weight
        out = [replace(s, score=s.score + w * float(x)) for s, x in zip(top, p)] + rest
        out.sort(key=lambda s: -s.score)
        return out

    def _read(self, reader: SpanReader, question: str, scored: list[ScoredSentence], chunks: list[Chunk],
              sentences: dict[int, list[Sentence]]) -> tuple[list[ScoredSentence], Reading]:
        """``scored`` with the reader's weighted probability added to the sentences of ``chunks``
        (each read whole, once), best first again; and the reading."""
        spans = [[(s.start_char - c.start_char, s.end_char - c.start_char) for s in sentences[c.id]] for c in chunks]
        reading = reader.read(question, [c.text for c in chunks], spans)
        p = {(c.id, s.id): float(x) for c, ps in zip(chunks, reading.sentences) for s, x in zip(sentences[c.id], ps)}
        w = self.config.reader_weight
        out = [replace(s, score=s.score + w * p.get((s.chunk.id, s.sentence.id), 0.0)) for s in scored]
        out.sort(key=lambda s: -s.score)
        return out, reading

    def _answer(self, question: str, best: ScoredSentence, conf: float, passages: tuple[Passage, ...]) -> Answer:
        s = answer_span(self, best, question=question)
        where = next(i for i, p in enumerate(passages) if p.chunk_id == best.chunk.id)
        return Answer(s.text, s.source, s.start_char, s.end_char, s.start_line, s.end_line,
                      page=s.page, section=s.section, score=round(float(conf), 6), passage=where,
                      low_confidence=bool(conf < self.config.low_confidence))


def promoted(fused: list[tuple[int, float]], ids: list[int], n: int) -> list[tuple[int, float]]:
    """``fused`` with each of ``ids`` (the best of each list fused) among its first ``n``: a passage one
    list ranks first and the other not at all may fall out of what the answer is picked from."""
    at = {d: i for i, (d, _) in enumerate(fused)}
    missing = [d for d in dict.fromkeys(ids) if at.get(d, -1) >= n][:n]
    if not missing:
        return fused
    cut, moved = n - len(missing), set(missing)
    return fused[:cut] + [fused[at[d]] for d in missing] + [x for x in fused[cut:] if x[0] not in moved]


DUPLICATE_SHARE = 0.75  # the share of a passage's word triples shown already above it that makes it a duplicate
DUPLICATE_SPARE = 8  # passages read beyond those needed, to fill in for duplicates left out


def _triples(text: str) -> frozenset[tuple[str, str, str]]:
    ws = words(text)
    return frozenset(zip(ws, ws[1:], ws[2:]))


def _repeats(chunk: Chunk, t: frozenset, other: Chunk, o: frozenset) -> bool:
    """Whether ``chunk`` (its word triples ``t``) repeats ``other`` (``o``): in the same document, three
    quarters of its characters are ``other``'s too; in another, three quarters of its word triples."""
    if chunk.source == other.source:
        shared = min(chunk.end_char, other.end_char) - max(chunk.start_char, other.start_char)
        return shared >= DUPLICATE_SHARE * max(1, chunk.end_char - chunk.start_char)
    return bool(t) and len(t & o) >= DUPLICATE_SHARE * len(t)


def distinct(ranked: list[tuple[Chunk, float]], k: int) -> list[tuple[Chunk, float]]:
    """The first ``k`` of ``ranked`` that repeat no passage above them: a passage three quarters of whose
    word triples (``DUPLICATE_SHARE``) are in one kept already is left out. A folder holding a document
    twice (a manual as HTML and as text, a copy in a backup folder) would otherwise show each passage
    twice, and crowd out the passages that say something else. In one document, a passage is a duplicate
    by where it is, not by its words: passages share a sentence with the next, so a long sentence after a
    short one makes a passage that is little more than the end of the one before (``_repeats``); and one
    document's passages share its boilerplate (a manual page's "-A NUM" and "-B NUM" close with the same
    two sentences) and still say different things."""
    kept: list[tuple[Chunk, float]] = []
    seen: list[tuple[Chunk, frozenset]] = []
    for chunk, score in ranked:
        t = _triples(chunk.text)
        if any(_repeats(chunk, t, other, o) for other, o in seen):
            continue
        kept.append((chunk, score))
        seen.append((chunk, t))
        if len(kept) == k:
            break
    return kept


def falling(ranked: list[tuple[Chunk, float]], scores: dict[int, float]) -> list[tuple[Chunk, float]]:
    """``ranked`` in its order, each passage scored by ``scores`` (its re-ranked score), no higher than the
    passage above it: the interleaved list mixes two orders, and a list's scores should read best first
    (passages 1, 2 re-scored 0.8, 0.9 are scored 0.8, 0.8)."""
    out: list[tuple[Chunk, float]] = []
    ceiling = math.inf
    for chunk, _ in ranked:
        ceiling = min(ceiling, scores[chunk.id])
        out.append((chunk, ceiling))
    return out


def scored_sentences(retriever: Retriever, question: str, k: int = 5,
                     qvec: np.ndarray | None = None) -> list[ScoredSentence]:
    """Every sentence competing for the answer of ``question`` that passes the answer checks (all of them
    with ``span.verify`` off), with its features and score, best first (for tuning: eval.fit,
    eval.bench.tune)."""
    question = check_question(question, k)
    if qvec is None:
        qvec = retriever.embed(question)
    fused, topical = retriever._candidates(question, qvec)
    if not fused:
        return []
    ranked = retriever._passages(fused, max(k, retriever.config.span_passages))
    return retriever._score_sentences(question, qvec, ranked, topical)[1]


# Tuning internals (eval.fit, eval.bench.tune, tests): what the retriever does with one candidate sentence.

def problems(retriever: Retriever, question: str, scored: ScoredSentence, idf: dict[str, float],
             chunk_sentences: list[Sentence] | None = None, known: frozenset[str] | None = None) -> list[str]:
    """Why the answer span of ``scored`` cannot answer ``question`` (empty: nothing visibly missing).
    ``known``: names the retrieved passages use (default: those of the span's own passage)."""
    span = answer_span(retriever, scored, chunk_sentences)
    c = scored.chunk
    # the span's paragraph in its document, not only in its chunk (a table's header may be in the
    # chunk before), read from a window around it
    start = max(0, span.start_char - PARAGRAPH_REACH)
    around = retriever.index.store.document_slice(c.source, start, span.end_char + PARAGRAPH_REACH)
    if not around:
        around, start = c.text, c.start_char
    a, b = paragraph(around, span.start_char - start, span.end_char - start)
    x, y = block(around, span.start_char - start, span.end_char - start)
    never_seen = retriever.index.unseen_idf
    unknown = {t for t, v in idf.items() if v >= never_seen - 1e-9}
    # a sentence without a section of the markup's is read under its document's title (a plain-text manual's
    # first line, "GREP(1) User Commands GREP(1)"), so that the title line is a heading as a "# Title" is
    section = scored.sentence.section or retriever.index.store.title(c.source)
    return unmet(question, span.text, around[a:b], unknown,
                 known_names(c.text) if known is None else known, off=retriever.config.span.checks_off,
                 section=section, block=around[x:y])


_CLOSING_FENCE = re.compile(r"[ \t]*(?:`{3,}|~{3,})[ \t]*")


def unclosed_fence_cut(text: str, start: int, end: int, end_line: int) -> tuple[int, int]:
    """``end`` (and its line) moved back over a last line that only closes a code fence opened before
    ``text[start:end]`` (a sentence at the end of a MyST ```` ```{warning} ```` block takes the closing fence
    along); a fence the span opens itself stays closed."""
    lines = [text[a:b] for a, b in lines_of(text[:end], start)]
    fences = sum(bool(FENCE.match(line)) for line in lines)
    if len(lines) < 2 or not _CLOSING_FENCE.fullmatch(lines[-1]) or fences % 2 == 0:
        return end, end_line
    cut = end - len(lines[-1])
    while cut > start and text[cut - 1] in "\r\n":
        cut -= 1
    return cut, end_line - 1


def answer_span(retriever: Retriever, best: ScoredSentence, chunk_sentences: list[Sentence] | None = None,
                question: str | None = None) -> Span:
    """The answer span a scored sentence gives: the sentence, with its antecedent when it points back, and with
    the block it introduces when it leads in (:func:`retriever.answer.introduced_end`). Given the ``question``,
    the answer as shown (:func:`retriever.answer.answer_sentences`: a definition list's entry whole, a
    why-answer with its reason; a sentence longer than ``max_answer_chars`` cut to the clauses that hold the
    question, :func:`retriever.answer.clause_window`); the answer checks and the scorer's fit (eval.fit) read
    spans without it, so what an answer shows changes, not which sentence is picked or how sure it is."""
    if chunk_sentences is None:
        chunk_sentences = retriever.index.store.sentences_of(best.chunk)
    cfg = retriever.config.span
    parts = answer_sentences(best, chunk_sentences, cfg, question)
    first, last = parts[0], parts[-1]
    c = best.chunk
    start, end = first.start_char - c.start_char, last.end_char - c.start_char
    start_line, end_line = first.start_line, last.end_line
    if question is not None and cfg.clause_cut and end - start > cfg.max_answer_chars:
        q_terms = terms(question)
        a, b = clause_window(c.text[start:end], q_terms, retriever.index.idf(q_terms), cfg.max_answer_chars)
        start_line += len(LINE_BREAK.findall(c.text, start, start + a))
        end_line = start_line + len(LINE_BREAK.findall(c.text, start + a, start + b))
        start, end = start + a, start + b
    if cfg.lead_in_block:  # what a lead-in introduces, inside its passage (the answer stays inside it)
        block_end = introduced_end(c.text, start, end, cfg.max_answer_chars)
        end_line += len(LINE_BREAK.findall(c.text, end, block_end))
        end = block_end
    end, end_line = unclosed_fence_cut(c.text, start, end, end_line)
    return Span(c.text[start:end], c.source, c.start_char + start, c.start_char + end, start_line, end_line,
                page=first.page, section=first.section)
