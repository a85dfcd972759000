"""The README's commands, flags and variables are the ones the code has (a check that keeps it true)."""

from __future__ import annotations

import importlib
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
PACKAGES = ("indexer", "retriever", "server", "eval")
INTERNAL = {"QUARRY_SERVER_WORKER", "QUARRY_HTTP_LIMITS"}  # set by the server for its own worker processes

# how a README command line starts -> the module whose parser() takes its options
PROGRAMS = {
    ("ask",): "retriever.cli",
    ("quarry", "ask"): "retriever.cli",
    ("quarry", "index"): "indexer.cli",
    ("quarry", "serve"): "server.__main__",
    ("quarry", "status"): "indexer.status",
    ("quarry", "eval"): "eval.cli",
    ("quarry", "mcp"): "server.mcp",
    ("python", "-m", "indexer"): "indexer.cli",
    ("python", "-m", "server"): "server.__main__",
    ("python", "-m", "eval"): "eval.cli",
}


def _code_variables() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= set(re.findall(r"QUARRY_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    return found - INTERNAL


def _settings_table() -> set[str]:
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(QUARRY_[A-Z_]+)`", section, re.M))


def test_every_variable_the_code_reads_is_in_the_settings_table():
    missing = _code_variables() - _settings_table()
    assert not missing, f"README's Settings table lacks {sorted(missing)}"


def test_every_variable_in_the_settings_table_is_read_by_the_code():
    unknown = _settings_table() - _code_variables()
    assert not unknown, f"README's Settings table names variables no code reads: {sorted(unknown)}"


def test_the_command_table_is_the_quarry_command():
    from retriever.commands import COMMANDS

    section = README.split("The one command has every part:", 1)[1].split("\n\n`quarry --help`", 1)[0]
    listed = re.findall(r"^\| `quarry (\w+)", section, re.M)
    assert listed == list(COMMANDS), "README's command table is not `quarry --help`'s commands, in order"


def _command_lines() -> list[list[str]]:
    """Every shell line of the README's ```sh blocks (comments cut, `.venv/bin/` prefixes dropped)."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:
                    continue
                words = [w.removeprefix(".venv/bin/") for w in words]
                if words:
                    lines.append(words)
    return lines


def _options(module: str) -> set[str]:
    parser = importlib.import_module(module).parser()
    return set(parser._option_string_actions)


def test_every_flag_shown_in_the_readme_is_accepted():
    checked = 0
    for words in _command_lines():
        for prefix, module in PROGRAMS.items():
            if tuple(words[:len(prefix)]) == prefix and not (prefix == ("ask",) and words[:2] == ["ask", "quarry"]):
                flags = {w.split("=", 1)[0] for w in words[len(prefix):] if w.startswith("-")}
                unknown = flags - _options(module)
                assert not unknown, f"README line {' '.join(words)!r}: {module} has no {sorted(unknown)}"
                checked += 1
                break
    assert checked >= 8, "the README's command lines were not found"


def _module_commands() -> set[str]:
    """Every ``python -m MODULE`` of this project's packages that the README or a doc shows."""
    pattern = r"python -m ((?:" + "|".join(PACKAGES) + r")(?:\.[a-z_][a-z0-9_]*)*)\b"
    return {m for text in (README, *DOCS.values()) for m in re.findall(pattern, text)}


def test_the_module_commands_in_readme_and_docs_find_their_module():
    assert "eval.bench.perf" in _module_commands()  # the pattern sees dotted names
    stale = []
    for name in sorted(_module_commands()):
        try:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations is not None:
                spec = importlib.util.find_spec(name + ".__main__")
        except ModuleNotFoundError:  # a parent package that does not exist
            spec = None
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        # a module of this checkout (an editable install of another checkout would find its own), runnable
        if origin is None or not origin.is_relative_to(ROOT) or not (
                origin.name == "__main__.py" or '__name__ == "__main__"' in origin.read_text(encoding="utf-8")):
            stale.append(name)
    assert not stale, f"README or docs show `python -m` of modules that do not run: {stale}"


@pytest.mark.parametrize("name", sorted(re.findall(r"\]\((docs/[\w.-]+\.md)\)", README)))
def test_every_doc_the_readme_links_exists(name):
    assert (ROOT / name).is_file(), f"README links {name}, which does not exist"
