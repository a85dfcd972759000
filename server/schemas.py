"""Request and response bodies, as pydantic models: they exist only here, at the HTTP edge (and in OpenAPI)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retriever.settings import MAX_K, MAX_QUESTION_CHARS

# A character that is not white space to Python (str.strip), JSON Schema (ECMA-262 \s) or Rust's regex:
# a question must hold one. Spelled out, so that the schema, its fuzzers and the server agree on "blank".
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "How much did Amazon invest in Anthropic?", "k": 5}]})

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, strict=True,
                          json_schema_extra={"pattern": NOT_BLANK},
                          description=f"the question; not blank, at most {MAX_QUESTION_CHARS} characters")
    k: int = Field(5, ge=1, le=MAX_K, strict=True, description=f"passages to return, 1 to {MAX_K}")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not re.search(NOT_BLANK, v):
            raise ValueError("the question is empty (white space only)")
        return v

    @field_validator("k", mode="before")
    @classmethod
    def _integral_number(cls, v: object) -> object:
        """JSON has one number type: ``5.0`` is the integer 5 (as JSON Schema says); ``"5"`` and ``true`` are not."""
        return int(v) if isinstance(v, float) and v.is_integer() else v


class SpanOut(BaseModel):
    """A verbatim slice of a document: ``text == document[start_char:end_char]``."""

    text: str
    source: str = Field(description="path of the document relative to the indexed folder, /-separated")
    start_char: int = Field(description="0-based offset into the decoded document text")
    end_char: int = Field(description="end-exclusive offset")
    start_line: int = Field(description="1-based")
    end_line: int = Field(description="1-based, inclusive")
    page: int | None = Field(None, description="1-based page of a PDF the span starts on (one running on over a "
                                                "page break holds a form-feed line per break); null for other formats")
    section: str | None = Field(None, description="heading trail (Markdown, HTML, DOCX, PDF, plain text with "
                                                  "headings), e.g. 'Guide > Install'")


class PassageOut(SpanOut):
    score: float = Field(description="retrieval score, higher is better")
    chunk_id: int


class AnswerOut(SpanOut):
    score: float = Field(description="confidence in [0, 1]")
    passage: int = Field(description="index into passages of the passage holding the answer")
    low_confidence: bool = Field(False, description="the confidence is below the threshold under which answers "
                                                    "were measured wrong more often than right "
                                                    "(docs/confidence.md): show it as a low-confidence answer")


class AskResponse(BaseModel):
    question: str
    answer: AnswerOut | None = Field(description="null when the documents do not answer the question")
    passages: list[PassageOut]


class Problem(BaseModel):
    """Every error: ``detail`` is one line that names the problem."""

    detail: str


class DocumentOut(BaseModel):
    source: str
    size: int = Field(description="bytes")
    sha256: str
    chunks: int
    title: str | None = Field(None, description="its first Markdown heading, else its first line (cut to 80 "
                                                "characters); null: no text")


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]


class HealthResponse(BaseModel):
    status: str = Field(examples=["ok"])
    index_dir: str | None = Field(None, description="the absolute path of the served index: only in the answer "
                                                    "to a request with the API key, when one is configured")
    documents: int
    chunks: int
    model: str
    cross_encoder: str | None = Field(description="the folder name of the cross-encoder re-scoring answer "
                                                  "sentences (--cross-encoder); null: none")
    reader: str | None = Field(description="the folder name of the extractive reader scoring answer sentences "
                                           "(--reader); null: none")
    reader_abstain: bool = Field(description="whether quarry also abstains when the reader finds no answer "
                                             "(--reader-abstain)")
    version: str = Field(description="digest of the served index's manifest: changes with every rebuild")
    updated_at: str | None = Field(description="when the served index was written (UTC, ISO 8601)")
    reload_error: str | None = Field(description="why the last rebuilt index could not be switched to "
                                                 "(the previous one keeps serving); null after a success")
    pid: int = Field(description="the server process that answered (one of them with --workers N)")


class ReloadResponse(BaseModel):
    reloaded: bool = Field(description="true: a rebuilt index is served now; false: the index on disk is "
                                       "the one served")
    version: str = Field(description="version served now")
    previous: str = Field(description="version served before the call")


class ContextResponse(BaseModel):
    """A span of a document with the text around it: ``before + text + after`` is contiguous."""

    source: str
    start_char: int
    end_char: int
    text: str
    before: str = Field(description="text before start_char, from the start of a line (or word)")
    after: str = Field(description="text after end_char, to the end of a line (or word)")
    context_start: int = Field(description="offset of the first character of before")
    context_end: int = Field(description="offset just past the last character of after")
    document_chars: int = Field(description="length of the whole document in characters")
