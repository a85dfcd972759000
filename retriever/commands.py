"""quarry: one command for asking, indexing, serving, evaluating and the MCP server.

Each subcommand is the module's own command line (``quarry ask`` is ``ask``, ``quarry index`` is
``python -m indexer``, ...), imported only when it runs: ``quarry --help`` loads no model, index
or web framework.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

# name -> (module whose main(argv) runs it, one line for the help)
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("retriever.cli", "ask a question: the answering sentence and the cited passages"),
    "index": ("indexer.cli", "build or update an index over a folder (--watch: keep it up to date)"),
    "serve": ("server.__main__", "serve an index over HTTP: the page at /, POST /ask, /docs"),
    "status": ("indexer.status", "show an index: its folder, files, chunks, model, when it was built"),
    "eval": ("eval.cli", "measure answer quality against gold questions"),
    "mcp": ("server.mcp", "serve an index to MCP clients (coding agents, desktop assistants) over stdio"),
}

EXAMPLES = """\
examples:
  quarry index ~/notes                  index a folder (again: only what changed)
  quarry index ~/notes --watch          ... and re-index whenever a file changes (Ctrl-C stops)
  quarry ask Who founded the company    quotes are optional
  quarry ask --json -k 3 "What is X?"   the JSON the HTTP API returns
  quarry serve --port 8000              the page at http://127.0.0.1:8000/
  quarry status                         what the default index holds
  quarry mcp                            for an MCP client's config (see docs/cli.md)

ask, index, serve, status and mcp take --index-dir DIR (default: $QUARRY_INDEX_DIR or
~/.cache/quarry/index).
`quarry COMMAND --help` describes a command; `ask` is short for `quarry ask`.
"""


def version() -> str:
    """The installed package's version (``unknown`` when quarry runs from a checkout that is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("quarry")
    except PackageNotFoundError:
        return "unknown"


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: quarry [--version] [--help] COMMAND [ARGS ...]", "", __doc__.strip().splitlines()[0], "",
             "commands:"]
    lines += [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
    return "\n".join(lines) + "\n\n" + EXAMPLES


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        if len(argv) > 1 and argv[0] == "help" and argv[1] in COMMANDS:  # `quarry help ask`
            return run(argv[1], ["--help"])
        print(usage(), end="")
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"quarry {version()}")
        return 0
    if argv[0] not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f" (did you mean `quarry {close[0]}`?)" if close else ""
        print(f"quarry: unknown command {argv[0]!r}{hint}; commands: {', '.join(COMMANDS)}. "
              f"To ask a question: quarry ask {' '.join(argv)}", file=sys.stderr)
        return 2
    return run(argv[0], argv[1:])


def run(name: str, argv: list[str]) -> int:
    """Import the subcommand's module now and run its ``main(argv)``; its help says ``quarry NAME``."""
    module = importlib.import_module(COMMANDS[name][0])
    _name_prog(module, f"quarry {name}")
    try:
        return module.main(argv) or 0
    except SystemExit as e:  # argparse's --help and usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)


class _NamedParser:
    """A module's ``parser()`` whose parser is named ``prog``."""

    def __init__(self, build: Callable[..., argparse.ArgumentParser], prog: str):
        self.build, self.prog = build, prog

    def __call__(self, *args: Any, **kwargs: Any) -> argparse.ArgumentParser:
        p = self.build(*args, **kwargs)
        p.prog = self.prog
        return p


def _name_prog(module: ModuleType, prog: str) -> None:
    """The module's ``parser()`` builds its parser with ``prog`` (``quarry ask``, not ``ask``)."""
    build = getattr(module, "parser", None)
    if build is None or isinstance(build, _NamedParser):
        return
    vars(module)["parser"] = _NamedParser(build, prog)


if __name__ == "__main__":
    sys.exit(main())
