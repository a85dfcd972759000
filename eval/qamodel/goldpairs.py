"""(question, answer sentences) pairs from the benchmark's own gold questions (see eval.qamodel).

A gold question's positives are the sentences of its document, as the index splits them, that the
accuracy test accepts (they hold an accepted answer or lie inside a gold range); its negatives are the
document's other sentences (the same for each question of a document: training dedupes them). Used per
leave-one-corpus-out fold, never on the corpus left out (python -m eval.qamodel --folds).
"""

from __future__ import annotations

from pathlib import Path

from eval.corpora import Corpus
from eval.gold import load_gold
from eval.metrics import answer_correct
from indexer.chunker import chunk_text
from indexer.indexdir.store import IndexStore

MIN_CHARS = 12  # a shorter sentence (a heading, a lone number) teaches the encoder nothing


def corpus_pairs(corpus: Corpus, index_dir: Path, split: str = "all") -> list[dict]:
    """The pairs of ``corpus`` (indexed in ``index_dir``), of the gold questions of ``split``."""
    store = IndexStore(index_dir)
    try:
        sentences: dict[str, list] = {}
        out = []
        for q in load_gold(corpus.gold, split):
            if not q.answerable or q.source is None:
                continue
            if q.source not in sentences:
                text = store.document_text(q.source)
                sentences[q.source] = chunk_text(text, q.source)[0] if text else []
            pos, neg = [], []
            for s in sentences[q.source]:
                if len(s.text.strip()) < MIN_CHARS:
                    continue
                ok = answer_correct(s.text, s.source, q.source, q.answers, where=(s.start_char, s.end_char),
                                    ranges=q.ranges)
                (pos if ok else neg).append(" ".join(s.text.split()))
            if pos:
                out.append({"source": f"{corpus.name}/{q.source}", "question": q.question,
                            "sentences": pos, "negatives": neg, "gold": q.id})
        return out
    finally:
        store.close()


def indexed_pairs(corpus: Corpus, index_root: Path, encoder) -> list[dict]:
    """The pairs of ``corpus``, indexed as eval.loco.prepare does (under ``index_root/NAME``; the seeds:
    their dev split only, the test split being kept from every fit)."""
    from eval.harness import CONFIGS, DEFAULT_CONFIG, index_for

    chunker = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG).chunker
    index_dir = index_for(chunker, corpus.documents, index_root / corpus.name, encoder)
    return corpus_pairs(corpus, index_dir, "dev" if corpus.name == "seeds" else "all")
