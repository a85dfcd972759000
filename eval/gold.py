"""Gold question sets: one JSON object per line, loaded into typed, validated questions."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("dev", "test")
KINDS = ("factual", "paraphrase", "table", "number/date", "entity", "unanswerable", "off-topic")
UNANSWERABLE_KINDS = ("unanswerable", "off-topic")  # on-topic but not in the folder; about something else
DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "seeds.jsonl"


class GoldError(ValueError):
    """A gold file that cannot be used (malformed line, missing field, duplicate id)."""


@dataclass(frozen=True)
class GoldQuestion:
    """A question, the answer strings accepted for it (verbatim in ``source``) and its split.

    ``ranges`` (optional) are character ranges of ``source`` holding the answer (a FAQ entry's body,
    for questions derived from a document's structure): a span inside one is right too.
    An unanswerable question has no answers, no ranges and no source: the right behaviour is to
    abstain. Its kind says whether it is on the folder's topic ("unanswerable") or not ("off-topic").
    """

    id: str
    question: str
    answers: tuple[str, ...]
    source: str | None
    split: str
    kind: str = "factual"
    ranges: tuple[tuple[int, int], ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers or self.ranges)


def parse_line(line: str, where: str) -> GoldQuestion:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise GoldError(f"{where}: not JSON ({e.msg})") from None
    if not isinstance(row, dict):
        raise GoldError(f"{where}: expected an object")
    missing = [k for k in ("id", "question", "answers", "source", "split") if k not in row]
    if missing:
        raise GoldError(f"{where}: missing {', '.join(missing)}")
    answers = row["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise GoldError(f"{where}: answers must be a list of non-empty strings")
    ranges = row.get("ranges", [])
    if not isinstance(ranges, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in r)
            and 0 <= r[0] < r[1] for r in ranges):
        raise GoldError(f"{where}: ranges must be a list of [start, end] character offsets, start < end")
    if bool(answers or ranges) != (row["source"] is not None):
        raise GoldError(f"{where}: an answerable question needs a source, an unanswerable one none")
    if row["split"] not in SPLITS:
        raise GoldError(f"{where}: split must be one of {', '.join(SPLITS)}")
    kind = row.get("kind", "unanswerable" if not (answers or ranges) else "factual")
    if kind not in KINDS:
        raise GoldError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if (kind in UNANSWERABLE_KINDS) == bool(answers or ranges):
        need = "no answers or ranges" if kind in UNANSWERABLE_KINDS else "answers or ranges"
        raise GoldError(f"{where}: a question of kind {kind!r} has {need}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise GoldError(f"{where}: empty question")
    return GoldQuestion(str(row["id"]), row["question"], tuple(answers), row["source"], row["split"], kind,
                        tuple((a, b) for a, b in ranges))


def load_gold(path: str | os.PathLike = DEFAULT_GOLD, split: str = "all") -> list[GoldQuestion]:
    """The questions of ``path`` in ``split`` (dev, test or all), in file order."""
    if split not in (*SPLITS, "all"):
        raise GoldError(f"split must be dev, test or all, not {split!r}")
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise GoldError(f"cannot read {path}: {e.strerror or e}") from None
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        q = parse_line(line, f"{path}:{n}")
        if q.id in seen:
            raise GoldError(f"{path}:{n}: duplicate id {q.id!r}")
        seen.add(q.id)
        questions.append(q)
    return [q for q in questions if split == "all" or q.split == split]


def _indexed_text(path: Path) -> str | None:
    """The text a file's offsets index, as the indexer reads it (a PDF's or an HTML page's extracted text, a
    text file as decoded), or None when there is no such file or it cannot be read."""
    from indexer.errors import FileSkipped
    from indexer.formats import extract

    if not path.is_file():
        return None
    try:
        return extract(path.name, path.read_bytes()).text
    except FileSkipped:
        return None


def answer_problems(questions: list[GoldQuestion], corpus: str | os.PathLike) -> list[str]:
    """Every accepted answer that does not occur verbatim in the text of its source file, and every range
    past its end (empty list: all good). The text is the one the index stores (:func:`_indexed_text`)."""
    problems = []
    texts: dict[str, str | None] = {}
    for q in questions:
        if q.source is None:
            continue
        p = Path(corpus) / q.source
        if q.source not in texts:
            texts[q.source] = _indexed_text(p)
        text = texts[q.source]
        if text is None:
            problems.append(f"{q.id}: no file {q.source}" if not p.is_file() else f"{q.id}: {q.source} has no text")
            continue
        problems.extend(f"{q.id}: {a!r} is not in {q.source}" for a in q.answers if a not in text)
        problems.extend(f"{q.id}: range {a}-{b} is past the end of {q.source} ({len(text)} characters)"
                        for a, b in q.ranges if b > len(text))
    return problems
