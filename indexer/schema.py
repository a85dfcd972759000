"""The one data model every package shares: chunks, passages, answers, results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """Where a verbatim slice of a document lives: the contract every interface keeps.

    ``text == document_text[start_char:end_char]``; offsets are 0-based and end-exclusive
    over the decoded text (for PDF, DOCX and HTML: the extracted text the index stores), lines
    are 1-based and inclusive. ``page`` (1-based, PDF) and ``section`` (the heading trail, e.g.
    ``"Install > From source"``, Markdown/HTML/DOCX) say where the span sits; None when the
    format has no such thing or the span comes before the first heading.
    """

    text: str
    source: str
    start_char: int
    end_char: int
    start_line: int
    end_line: int
    # keyword-only, so positional construction of the subclasses (score, chunk_id, ...) is unchanged
    page: int | None = field(default=None, kw_only=True)
    section: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Chunk(Span):
    """A window of whole sentences of one document, the unit that is embedded and searched."""

    id: int = -1
    first_sentence: int = -1
    last_sentence: int = -1


@dataclass(frozen=True, slots=True)
class Sentence(Span):
    """One sentence (or one table row, or one piece of an over-long sentence)."""

    id: int = -1


@dataclass(frozen=True, slots=True)
class Passage(Span):
    """A retrieved chunk with its retrieval score (higher is better)."""

    score: float = 0.0
    chunk_id: int = -1

    @classmethod
    def of(cls, chunk: Chunk, score: float) -> Passage:
        """The chunk as a retrieved passage with ``score`` (rounded to 6 places)."""
        return cls(chunk.text, chunk.source, chunk.start_char, chunk.end_char, chunk.start_line, chunk.end_line,
                   page=chunk.page, section=chunk.section, score=round(float(score), 6), chunk_id=chunk.id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Answer(Span):
    """The answering span, with a confidence in [0, 1] as its score."""

    score: float = 0.0
    passage: int = 0  # index into Result.passages of the passage holding the span
    # the confidence is under RetrieverConfig.low_confidence: shown as a low-confidence answer
    low_confidence: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Result:
    """What a question gets back: the answer (None when the corpus does not answer) and passages."""

    question: str
    answer: Answer | None
    passages: tuple[Passage, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``POST /ask`` and ``ask --json``."""
        return {
            "question": self.question,
            "answer": self.answer.to_dict() if self.answer else None,
            "passages": [p.to_dict() for p in self.passages],
        }
