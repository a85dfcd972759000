"""Ask a question about the indexed documents; get the answering sentence and cited passages.

With no index yet, the default index is built over the bundled seeds/ first. Every passage
shown is a verbatim slice of a source file, cited as file:lines (plus the page of a PDF
or the section of a Markdown, HTML, DOCX or plain-text file with headings).

Questions are embedded with the index's ONNX export of its model (no torch, starts fast), or by
a quarry server already running for the same index. --torch (or QUARRY_ENCODER=torch) embeds with
the torch model instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import textwrap

from indexer.errors import IndexIncompatible
from indexer.offline import set_offline
from indexer.paths import default_index_dir, default_seeds_dir
from indexer.sentences import PAGE_BREAK_LINE
from retriever.plugin import add_model_arguments

EXAMPLES = """\
examples:
  ask Who is the CEO of Anthropic
  ask "What did the company spend on data centers?" -k 3
  ask --json --index-dir /tmp/notes-index When is the meeting
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ask", description=__doc__, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", metavar="QUESTION", nargs="+",
                   help="the question; its words are joined, so quotes are optional")
    p.add_argument("-k", type=int, default=5, help="number of passages (1-50, default 5)")
    p.add_argument("--json", action="store_true", help="print the JSON response (same as POST /ask)")
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"index to ask (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="sentence-transformers model folder (default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--torch", action="store_true",
                   help="embed the question with the torch model, not the index's ONNX export (slower start)")
    add_model_arguments(p)
    p.add_argument("--no-server", action="store_true",
                   help="answer in this process even when a quarry server is running for the index")
    return p


def main(argv: list[str] | None = None) -> int:
    set_offline()  # before any library reads it
    argv = sys.argv[1:] if argv is None else argv
    # flags may come between the question's words; after `--` every word is the question's
    args = parser().parse_args(argv) if "--" in argv else parser().parse_intermixed_args(argv)
    args.question = " ".join(args.question)  # `ask Who is the CEO of Anthropic`: one question
    from indexer.errors import QuarryError, QueryError, SettingsError
    from retriever.settings import RetrieverSettings, check_question

    try:  # the question, -k and the options that do not go together, before anything is opened
        check_question(args.question, args.k)
        settings = RetrieverSettings.from_env(index_dir=args.index_dir, model=args.model,
                                              query_encoder="torch" if args.torch else None,
                                              cross_encoder=args.cross_encoder, reader=args.reader,
                                              reader_abstain=args.reader_abstain, answer_model=args.answer_model)
    except (QueryError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        result = _ask(args, settings)
    except QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if isinstance(result, dict):  # a running server's reply: its body is the contract
        from retriever.remote import result_from_dict

        body, result = result, result_from_dict(result)
    else:
        body = result.to_dict()
    try:
        if args.json:
            print(json.dumps(body, ensure_ascii=False, indent=2))
        else:
            print(render(result, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
        sys.stdout.flush()
    except BrokenPipeError:  # `ask ... | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _ask(args, settings):
    """The Result, or the JSON body of a running server's answer."""
    index_dir = settings.index_dir
    # a running server answers unless this question wants another model than the server may have
    wants_models = settings.cross_encoder or settings.reader
    if not (args.no_server or args.torch or args.model or wants_models) and os.path.exists(index_dir):
        from retriever.remote import ask_server

        body = ask_server(index_dir, args.question, args.k)
        if body is not None:
            return body
    from retriever.pipeline import Retriever

    if args.index_dir is None and not os.path.exists(index_dir):
        seeds = str(default_seeds_dir())
        print(f"No index yet: indexing {seeds} into {index_dir} (once) ...", file=sys.stderr)
        _build(seeds, index_dir, args)
    try:
        retriever = Retriever.open(settings=settings)
    except IndexIncompatible as e:
        from indexer.indexdir.store import FORMAT_VERSION

        # quarry's default index in an older quarry's format is made again from the folder it was made from;
        # another index, or a newer one, is left as it is (the error says how to rebuild it)
        old = e.format_version is not None and e.format_version < FORMAT_VERSION
        if args.index_dir is not None or not old or not e.source_dir or not os.path.isdir(e.source_dir):
            raise
        print(f"{index_dir} is in the index format of an older quarry ({e.format_version}): indexing "
              f"{e.source_dir} again (once) ...", file=sys.stderr)
        _build(e.source_dir, index_dir, args)
        retriever = Retriever.open(settings=settings)
    return retriever.ask(args.question, k=args.k)


def _build(source: str, index_dir, args) -> None:
    """Index ``source`` into ``index_dir`` with the model asked for, the report on stderr."""
    from indexer.build import build_index
    from indexer.encoder import SentenceTransformerEncoder

    report = build_index(source, index_dir, encoder=SentenceTransformerEncoder(args.model))
    print(report.summary(), file=sys.stderr)


# terminal escape sequences (CSI, OSC, DCS/PM/APC/SOS, two-byte ESC, 8-bit CSI), then the other control
# characters: C0 but tab and newline, DEL, C1, and the bidirectional overrides that reorder what is shown
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
                      r"|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print to a terminal: escape sequences and control characters (but newline and
    tab) removed, CR and CRLF line ends made newlines. Only for display: ``--json`` stays verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def shown(text: str) -> str:
    """A passage's text as printed: :func:`printable`, a PDF's page break read as the line break it stands
    for (the citation names the pages)."""
    return printable(text.replace(f"\n{PAGE_BREAK_LINE}\n", "\n"))


def _cite(span) -> str:
    """``file:lines``, then the page (PDF) and the section (the heading trail) when there are any."""
    lines = f"{span.start_line}" if span.start_line == span.end_line else f"{span.start_line}-{span.end_line}"
    where = f"{printable(span.source)}:{lines}"
    if getattr(span, "page", None) is not None:
        last = span.page + (getattr(span, "text", None) or "").count(PAGE_BREAK_LINE)  # runs on over a page break
        where += f", page {span.page}" if last == span.page else f", pages {span.page}-{last}"
    if getattr(span, "section", None):
        where += f", section \"{printable(span.section)}\""
    return where


# an answer that runs on over a list or a code block it introduces (retriever.answer.introduced_end) keeps its lines
_BLOCK_LINE = re.compile(r"^[ \t]*(?:```|~~~|[*+•-][ \t]|\d{1,3}[.)][ \t])|\n[ \t]*\n", re.M)


def answer_lines(text: str, width: int = 100) -> list[str]:
    """The answer for a person, indented by two: one run of words (a sentence of a hard-wrapped paragraph runs
    over lines), or its lines as they are when it holds a list, a code block or a blank line after its first
    line (dedented to the least indentation of those lines)."""
    text = shown(text)  # (a sentence may run on over a PDF's page break)
    first, _, rest = text.partition("\n")
    if not _BLOCK_LINE.search("\n" + rest):
        return textwrap.wrap(" ".join(text.split()), width, initial_indent="  ", subsequent_indent="  ")
    lines = rest.splitlines()
    cut = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    out = []
    for line in [first.strip()] + [x[cut:].rstrip() for x in lines]:
        indent = "  " + " " * (len(line) - len(line.lstrip()))
        out.extend(textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=indent) or [""])
    return out


def render(result, color: bool = False, width: int = 100) -> str:
    """The result for a person: the answer with its citation, then the passages."""
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)
    hi = (lambda s: f"\033[1;33m{s}\033[0m") if color else (lambda s: f">>{s}<<")
    dim = (lambda s: f"\033[2m{s}\033[0m") if color else (lambda s: s)
    out = []
    a = result.answer
    if a is None:
        out.append(bold("The documents do not answer this question."))
        if result.passages:
            out.append("Closest passages, for reference:")
    else:
        if getattr(a, "low_confidence", False):  # docs/confidence.md: more often wrong than right
            out.append(bold(f"Low-confidence answer ({a.score:.2f}; check it against the passages):"))
        else:
            out.append(bold(f"Answer (confidence {a.score:.2f}):"))
        out.extend(answer_lines(a.text, width))
        out.append(f"  -- {_cite(a)}  [chars {a.start_char}-{a.end_char}]")
        out.append("")
        out.append("Passages:")
    for i, p in enumerate(result.passages, 1):
        out.append(bold(f"[{i}] {_cite(p)}") + dim(f"  chars {p.start_char}-{p.end_char}, score {p.score:.4f}"))
        text = shown(p.text)
        if a is not None and a.source == p.source and p.start_char <= a.start_char and a.end_char <= p.end_char:
            i0, i1 = a.start_char - p.start_char, a.end_char - p.start_char  # cleaned piece by piece
            text = shown(p.text[:i0]) + hi(shown(p.text[i0:i1])) + shown(p.text[i1:])
        for para in text.splitlines():
            out.extend(textwrap.wrap(para, width, initial_indent="    ", subsequent_indent="    ") or [""])
    return "\n".join(out)
