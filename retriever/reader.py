"""An optional extractive reader (a SQuAD-style question-answering model) that scores answer sentences.

quarry ships no reader (none is installable offline here); a user with one plugs it in by path:
``ask --reader DIR``, ``python -m server --reader DIR``, ``python -m eval --reader DIR``, or
``$QUARRY_READER``. Any Hugging Face ``*ForQuestionAnswering`` folder with a fast tokenizer works
(a SQuAD 1.1 or 2.0 model: BERT, RoBERTa, DistilBERT, ...).

The reader reads each passage competing for the answer once, with the question, and gives every
token a start and an end probability (a softmax over the passage's tokens and the model's "no
answer" token). A sentence's reader score is the probability of the best answer span that lies
inside it, at most ``MAX_ANSWER_TOKENS`` long; ``weight x`` that is added to the sentence's score,
so the reader re-orders the sentences, and through them the passages. The answer stays a whole
sentence, a verbatim slice of its file; the answer checks are unchanged. With
``RetrieverConfig.reader_abstain`` (``--reader-abstain``) quarry also abstains when the reader finds
no span more probable than "no answer", as SQuAD 2.0 readers are trained to decide.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.errors import ModelError
from retriever.plugin import LocalModel, open_model
from retriever.settings import READER_ABSTAIN_ENV, READER_ENV

ENV = READER_ENV
ABSTAIN_ENV = READER_ABSTAIN_ENV
MAX_LENGTH = 384  # tokens of question + passage in one window (SQuAD models' usual length)
STRIDE = 128  # tokens shared by consecutive windows of a passage longer than one
MAX_ANSWER_TOKENS = 30
MAX_QUESTION_TOKENS = 64  # a longer question is cut to its first 64 tokens (as SQuAD readers are trained)


@dataclass(frozen=True)
class Reading:
    """What the reader made of the passages it read for one question."""

    sentences: list[np.ndarray]  # per passage, the probability of the best span inside each sentence
    # the "no answer" probability of the window most open to an answer (the lowest of the windows
    # read; 1.0 when nothing was read), against which the best span is weighed (SQuAD 2.0's rule)
    no_answer: float = 1.0

    @property
    def best(self) -> float:
        """The probability of the best span in any sentence read (0.0 when none)."""
        return max((float(p.max()) for p in self.sentences if p.size), default=0.0)

    @property
    def answerable(self) -> bool:
        """Some span is more probable than "no answer" (for a SQuAD 2.0 reader: it found an answer)."""
        return self.best > self.no_answer


class ReaderScorer(LocalModel):
    """A question-answering model and its tokenizer from a local folder, loaded on first use, on the CPU."""

    what, head, described = "reader", "ForQuestionAnswering", "a question-answering model"
    max_length = MAX_LENGTH  # tokens in a window: at most the model's positions (set when loaded)

    def _load(self):
        """The model and its tokenizer."""
        try:
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            model = AutoModelForQuestionAnswering.from_pretrained(str(self.path), local_files_only=True)
        except Exception as e:  # any failure to load is the same problem to a user
            raise ModelError(f"cannot load the reader at {self.path}: {e}") from e
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError(f"the reader at {self.path} has no fast tokenizer (tokenizer.json); "
                             "quarry needs one to map answer tokens back to characters")
        model.eval().to(self.device)
        # windows no longer than the model's positions (a small model may have fewer than 384)
        self.max_length = min(MAX_LENGTH, int(getattr(model.config, "max_position_embeddings", MAX_LENGTH)),
                              int(min(tokenizer.model_max_length, 1 << 20)))
        return model, tokenizer

    def score(self, question: str, passages: Sequence[str],
              sentences: Sequence[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
        """For each passage, the reader's probability that the answer lies in each of its sentences
        (``sentences[i]``: (start, end) character offsets into ``passages[i]``), each in [0, 1]."""
        return self.read(question, passages, sentences).sentences

    def read(self, question: str, passages: Sequence[str],
             sentences: Sequence[Sequence[tuple[int, int]]]) -> Reading:
        """:meth:`score`'s probabilities, and the reader's "no answer" probability."""
        out = [np.zeros(len(s), dtype=np.float32) for s in sentences]
        if not passages:
            return Reading(out)
        model, tokenizer = self.load()
        import torch

        question, n = _cut(tokenizer, question, min(MAX_QUESTION_TOKENS, self.max_length // 4))
        room = self.max_length - n - 4  # passage tokens in a window ([CLS] q [SEP] p [SEP], a spare for pairs)
        enc = tokenizer([question] * len(passages), list(passages), truncation="only_second",
                        max_length=self.max_length, stride=min(STRIDE, room // 2), return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=True, return_tensors="pt")
        owners = enc.pop("overflow_to_sample_mapping").tolist()
        offsets = enc.pop("offset_mapping").tolist()
        windows = [enc.sequence_ids(w) for w in range(len(owners))]
        inputs = {k: v.to(self.device) for k, v in enc.items()
                  if k in ("input_ids", "attention_mask", "token_type_ids")}
        with self._busy, torch.inference_mode():
            logits = model(**inputs)
        # the first real token ([CLS]): position 0, unless the tokenizer pads on the left
        mask = enc.get("attention_mask")
        firsts = mask.argmax(dim=1).tolist() if mask is not None else [0] * len(owners)
        starts = logits.start_logits.float().cpu().numpy()
        ends = logits.end_logits.float().cpu().numpy()
        no_answer = 1.0
        for w, owner in enumerate(owners):
            probs, null = span_probabilities(starts[w], ends[w], windows[w], offsets[w], sentences[owner],
                                             null_index=firsts[w])
            np.maximum(out[owner], probs, out=out[owner])
            no_answer = min(no_answer, null)
        return Reading(out, no_answer)


def _cut(tokenizer, text: str, max_tokens: int) -> tuple[str, int]:
    """``text`` up to the end of its ``max_tokens``-th token (all of it when shorter), and its tokens."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= max_tokens:
        return text, len(offsets)
    return text[:offsets[max_tokens - 1][1]], max_tokens


def span_probabilities(start_logits: np.ndarray, end_logits: np.ndarray, sequence_ids: Sequence[int | None],
                       offsets: Sequence[tuple[int, int]], sentences: Sequence[tuple[int, int]],
                       max_tokens: int = MAX_ANSWER_TOKENS, null_index: int = 0) -> tuple[np.ndarray, float]:
    """The probability of the best span inside each sentence, and of "no answer", from one window's
    token logits.

    Start and end probabilities are softmaxes over the passage's tokens (``sequence_ids`` 1) and
    the window's first real token, at ``null_index`` (the "no answer" of SQuAD 2.0 models); a span
    is the product of its start's and its end's, at most ``max_tokens`` long, and lies inside a
    sentence's character range; "no answer" is the product of the first token's two."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    best = np.zeros(len(sentences), dtype=np.float32)
    if not context:
        return best, 1.0
    pool = [null_index, *context]

    def softmax(x: np.ndarray) -> np.ndarray:
        z = np.exp(x[pool] - x[pool].max())
        return z / z.sum()

    p_start, p_end = softmax(np.asarray(start_logits, np.float64)), softmax(np.asarray(end_logits, np.float64))
    null = float(p_start[0] * p_end[0])
    p_start, p_end = p_start[1:], p_end[1:]
    first = np.array([offsets[i][0] for i in context])
    last = np.array([offsets[i][1] for i in context])
    for j, (a, b) in enumerate(sentences):
        inside = np.flatnonzero((first >= a) & (last <= b) & (last > first))
        if inside.size == 0:
            continue
        # span (x, y) with x <= y < x + max_tokens, within the sentence's tokens
        spans = np.outer(p_start[inside], p_end[inside])
        pairs = np.triu(spans) - np.triu(spans, k=max_tokens)
        best[j] = float(pairs.max())
    return best, null


def open_reader(path: str | os.PathLike | None) -> ReaderScorer | None:
    """The reader at ``path``, loaded (None: no path). One reader per folder in a process.
    Raises :class:`~indexer.errors.ModelError` naming the problem when it cannot be used."""
    return open_model(ReaderScorer, path)
