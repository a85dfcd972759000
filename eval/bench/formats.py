"""Each benchmark corpus as PDFs or Word files: how much an answer loses when the folder is not text.

``--format pdf`` (default): each text and Markdown file of a corpus (``--corpus``, default all) is printed to
a PDF one line for one line with fpdf2 (a Markdown heading in a larger type, without its ``#``; a blank line
as a line's height of space; a page number at each page's foot); with ``--columns 2`` each paragraph (as
``--format docx`` reads one, below) is instead justified in two columns, as a paper sets it. ``--format
docx``: each paragraph (lines that wrap into each other, a list item with its hanging-indented lines) is a
Word paragraph (python-docx), a Markdown heading in a Heading style, and a heading of a text file (as
``indexer.formats.plain.headings`` finds it) in bold, as a writer formats one by hand. Each gold
range is carried over to the extracted text by aligning the characters that are not white space (a
question about another file, an HTML page, is left out). The questions are asked of an index of those text
and Markdown files and of one of the files made of them, with the shipped settings. Printed per corpus and
folder: questions, hit@1, hit@5, MRR@10, answer accuracy, false abstention and abstention on the
unanswerable ones (docs/corpora.md).

    python -m eval.bench.formats [--format pdf|docx] [--corpus NAME] [--work DIR] [--font TTF]
                                 [--columns 1|2|3]
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian's fonts-dejavu-core: every seeds character
_MD_HEADING = re.compile(r"#{1,6} ")
LINE_MM, HEADING_MM, BODY_PT = 4.2, 7.0, 9


def to_pdf(text: str, markdown: bool, font: str, columns: int = 1) -> bytes:
    """``text`` printed to a PDF line for line (see the module's doc), or with ``columns`` of 2 or more, as a
    paper sets it: each paragraph (lines that wrap into each other, a list item with its hanging-indented lines, a
    title on its own) justified in columns, a heading in a larger type."""
    from fpdf import FPDF

    if columns > 1:
        return _in_columns(text, markdown, font, columns)

    class Paged(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("body", size=8)
            self.cell(0, 5, str(self.page_no()), align="C")

    pdf = Paged(format="A4")
    pdf.add_font("body", fname=font)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("body", size=BODY_PT)
    for line in text.split("\n"):
        m = _MD_HEADING.match(line) if markdown else None
        if m:
            pdf.set_font("body", size=15 - len(m[0]))
            pdf.cell(0, HEADING_MM, line[m.end():], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("body", size=BODY_PT)
        else:
            pdf.cell(0, LINE_MM, line.expandtabs(), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _in_columns(text: str, markdown: bool, font: str, columns: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("body", fname=font)
    pdf.add_page()
    pdf.set_font("body", size=BODY_PT)
    from indexer.sentences import units

    with pdf.text_columns(ncols=columns, gutter=8) as cols:
        for start, end in units(text, join_wrapped=True):  # a list item or a title is a paragraph of its own
            block = text[start:end]
            m = _MD_HEADING.match(block) if markdown else None
            if not block.strip():
                continue
            pdf.set_font("body", size=15 - len(m[0]) if m else BODY_PT)
            paragraph = cols.paragraph(text_align="L" if m else "J", bottom_margin=2)
            paragraph.write(" ".join(block[m.end() if m else 0:].split()))
            cols.end_paragraph()
    return bytes(pdf.output())


def to_docx(text: str, markdown: bool) -> bytes:
    """``text`` as a Word file (see the module's doc): a paragraph for each run of lines the sentence splitter
    reads as one (:func:`indexer.sentences.units`: lines that wrap into each other, a list item with its
    hanging-indented lines, as a writer's list item is one paragraph; a table row is one of its own)."""
    import io

    import docx

    from indexer.formats.plain import headings
    from indexer.sentences import units

    titled = set() if markdown else {h.start for h in headings(text)}
    document = docx.Document()
    for start, end in units(text, join_wrapped=True):
        para = text[start:end]
        if not para.strip():
            continue
        m = _MD_HEADING.match(para) if markdown else None
        words = " ".join(para[m.end() if m else 0:].split())
        if m:
            document.add_heading(words, level=len(m[0]) - 1)
        elif start in titled:
            document.add_paragraph().add_run(words).bold = True
        else:
            document.add_paragraph(words)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def carried(old: str, new: str) -> dict[int, int]:
    """Offsets of ``old``'s characters that are not white space -> the same characters' offsets in ``new``
    (matched in order; a character one text lacks, such as a Markdown heading's ``#``, has none)."""
    a = [i for i, c in enumerate(old) if not c.isspace()]
    b = [i for i, c in enumerate(new) if not c.isspace()]
    sa, sb = "".join(old[i] for i in a), "".join(new[i] for i in b)
    if sa == sb:
        return dict(zip(a, b))
    out = {}
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, sa, sb, autojunk=False).get_opcodes():
        if tag == "equal":
            out.update((a[i1 + k], b[j1 + k]) for k in range(i2 - i1))
    return out


def carry_range(pos: dict[int, int], start: int, end: int) -> tuple[int, int] | None:
    """A gold range carried over: from its first carried character to just after its last, or None."""
    first = next((pos[i] for i in range(start, end) if i in pos), None)
    last = next((pos[i] + 1 for i in range(end - 1, start - 1, -1) if i in pos), None)
    return None if first is None or last is None else (first, last)


def make_folder(documents: Path, gold: Path, folder: Path, font: str = FONT, columns: int = 1,
                fmt: str = "pdf") -> int:
    """The PDF (``fmt`` "docx": Word) folder, the text and Markdown files it was made from, and its gold file
    (``folder/docs``, ``folder/text``, ``folder/gold.jsonl``); returns the questions kept."""
    from indexer.formats import extract

    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "text").mkdir(parents=True, exist_ok=True)
    maps: dict[str, tuple[str, dict[int, int]]] = {}
    for f in sorted([*documents.glob("*.txt"), *documents.glob("*.md")]):
        shutil.copyfile(f, folder / "text" / f.name)
        name = f"{f.stem}.{fmt}"
        text = f.read_text(encoding="utf-8")
        data = to_docx(text, f.suffix == ".md") if fmt == "docx" else to_pdf(text, f.suffix == ".md", font, columns)
        (folder / "docs" / name).write_bytes(data)
        maps[f.name] = (name, carried(text, extract(name, data).text))
    kept = 0
    with open(folder / "gold.jsonl", "w", encoding="utf-8") as out:
        for line in gold.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row is None or row.get("source") and row["source"] not in maps:
                continue
            if row.get("source"):
                name, pos = maps[row["source"]]
                ranges = [carry_range(pos, a, b) for a, b in row.get("ranges") or []]
                if any(r is None for r in ranges):
                    continue
                row["source"], row["ranges"] = name, ranges
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            kept += 1
    return kept


def measure(retriever, questions) -> dict[str, float]:
    """hit@1, hit@5, MRR@10, answer accuracy and false abstention over the answerable questions, abstention
    over the others."""
    from eval.metrics import answer_correct, passage_relevant

    answerable = [q for q in questions if q.answerable]
    hit1 = hit5 = rr = right = abstained = 0.0
    for q in answerable:
        result = retriever.ask(q.question, k=10)
        ranks = [i for i, p in enumerate(result.passages, 1)
                 if passage_relevant(p.text, p.source, q.source, q.answers, (p.start_char, p.end_char), q.ranges)]
        first = ranks[0] if ranks else None
        hit1 += first == 1
        hit5 += first is not None and first <= 5
        rr += 1 / first if first else 0
        a = result.answer
        abstained += a is None
        right += bool(a and answer_correct(a.text, a.source, q.source, q.answers, where=(a.start_char, a.end_char),
                                           ranges=q.ranges))
    others = [q for q in questions if not q.answerable]
    refused = sum(retriever.ask(q.question, k=5).answer is None for q in others)
    n = max(1, len(answerable))
    return {"questions": len(questions), "hit@1": hit1 / n, "hit@5": hit5 / n, "MRR@10": rr / n,
            "answer accuracy": right / n, "false abstention": abstained / n,
            "abstention (unanswerable)": refused / max(1, len(others))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.formats", description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("pdf", "docx"), default="pdf",
                        help="what to make of the files (default pdf)")
    parser.add_argument("--corpus", action="append", help="a benchmark corpus by name (default: all)")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the PDF folders and the indexes go (default: a temporary folder)")
    parser.add_argument("--font", default=FONT, help=f"PDF: a TrueType font with every character of the corpora "
                                                      f"(default {FONT})")
    parser.add_argument("--columns", type=int, default=1, choices=(1, 2, 3),
                        help="1: each line of a file a line of the PDF (default); 2 or 3: its paragraphs justified "
                             "in columns, as a paper sets them")
    args = parser.parse_args(argv)
    if args.format == "pdf" and not Path(args.font).is_file():
        parser.error(f"no font at {args.font} (apt-get install fonts-dejavu-core, or --font TTF)")
    try:
        __import__("fpdf" if args.format == "pdf" else "docx")
    except ImportError:
        parser.error("needs fpdf2 and python-docx: pip install -e '.[dev]'")

    import tempfile

    from eval.corpora import corpora
    from eval.gold import load_gold
    from indexer.build import build_index
    from indexer.encoder import SentenceTransformerEncoder
    from retriever.pipeline import Retriever

    chosen = [c for c in corpora() if not args.corpus or c.name in args.corpus]
    if not chosen:
        parser.error(f"no such corpus: {', '.join(args.corpus or [])}")
    work = args.work or Path(tempfile.mkdtemp(prefix="quarry-formats-"))
    encoder = SentenceTransformerEncoder()
    columns = ("questions", "hit@1", "hit@5", "MRR@10", "answer accuracy", "false abstention",
               "abstention (unanswerable)")
    print("| corpus | folder | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for corpus in chosen:
        folder = work / corpus.name
        if make_folder(Path(corpus.documents), Path(corpus.gold), folder, args.font, args.columns, args.format) == 0:
            print(f"| {corpus.name} | (no text or Markdown file) |" + " |" * len(columns))
            continue
        made_gold = load_gold(folder / "gold.jsonl")  # the questions carried over
        ids = {q.id for q in made_gold}
        text_gold = [q for q in load_gold(corpus.gold) if q.id in ids]
        made = args.format.upper() if args.format == "pdf" else "Word"
        for label, documents, gold in (("text", folder / "text", text_gold), (made, folder / "docs", made_gold)):
            index = work / f"{corpus.name}-{label.lower()}-index"
            build_index(documents, index, encoder=encoder, progress=False)
            r = Retriever.open(index, encoder=encoder)
            m = measure(r, gold)
            r.index.close()
            cells = [f"{m[c]:.0f}" if c == "questions" else f"{m[c]:.3f}" for c in columns]
            print(f"| {corpus.name} | {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
