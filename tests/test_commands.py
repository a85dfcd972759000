"""The `quarry` command: help and version, subcommands, `ask` without quotes, `quarry status`, the port check."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import pytest

from indexer.schema import Result
from retriever import cli as ask_cli
from retriever.commands import COMMANDS, main
from tests.conftest import ROOT, TINY
from tests.serving import tiny_index

HEAVY = ("torch", "sentence_transformers", "transformers", "faiss", "numpy", "onnxruntime", "tokenizers",
         "fastapi", "starlette", "uvicorn", "mcp", "watchfiles", "pydantic")


def test_quarry_help_imports_no_heavy_module():
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "retriever.commands", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    for name in COMMANDS:
        assert f"\n  {name} " in out.stdout
    assert "examples:" in out.stdout
    # -X importtime writes one line per imported module: "import time: self | cumulative | name"
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert "retriever" in imported  # the list is real
    assert not imported & set(HEAVY), imported & set(HEAVY)


def test_version(capsys):
    assert main(["--version"]) == 0
    try:
        expected = package_version("quarry")
    except PackageNotFoundError:
        expected = "unknown"
    assert capsys.readouterr().out == f"quarry {expected}\n"


def test_unknown_command_suggests_one(capsys):
    assert main(["idnex", "docs"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'idnex'" in err and "did you mean `quarry index`?" in err
    assert main([]) == 2  # no command: the usage
    assert "usage: quarry" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_subcommand_has_help_under_its_quarry_name(name, capsys):
    assert main([name, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: quarry {name}")


def test_subcommand_usage_error_is_an_exit_status(capsys):
    assert main(["ask"]) == 2  # no question
    assert "usage: quarry ask" in capsys.readouterr().err


def test_ask_joins_unquoted_words(monkeypatch, capsys):
    seen = []

    def fake_ask(args, settings=None):
        seen.append((args.question, args.k))
        return Result(args.question, None, ())

    monkeypatch.setattr(ask_cli, "_ask", fake_ask)
    assert main(["ask", "Who", "is", "the", "CEO", "-k", "3", "of", "Anthropic", "--json"]) == 0
    assert seen == [("Who is the CEO of Anthropic", 3)]
    assert json.loads(capsys.readouterr().out)["question"] == "Who is the CEO of Anthropic"
    assert ask_cli.main(["What is a cat?"]) == 0  # one quoted argument still works
    assert seen[-1] == ("What is a cat?", 5)
    assert ask_cli.main(["-k", "2", "--", "what", "does", "--json", "do"]) == 0  # after --: all words
    assert seen[-1] == ("what does --json do", 2)
    assert ask_cli.main(["-5", "means", "what"]) == 0
    assert seen[-1] == ("-5 means what", 5)
    assert ask_cli.main(["What is a cat?"]) == 0
    assert seen[-1] == ("What is a cat?", 5)
    assert ask_cli.main(["  ", " "]) == 2
    assert "the question is empty" in capsys.readouterr().err


def test_status_of_an_index(tiny_corpus, tmp_path, capsys):
    idx = tiny_index(tiny_corpus, tmp_path / "idx")
    assert main(["status", str(idx)]) == 0
    out = capsys.readouterr().out
    assert f"index: {idx}\n" in out
    assert f"built from: {tiny_corpus.resolve()}\n" in out
    assert f"documents: {len(TINY)}, chunks: " in out and "model fake-bow" in out
    assert "questions embedded with torch" in out
    assert main(["status", "--index-dir", str(idx), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["documents"] == len(TINY) and s["source_dir"] == str(tiny_corpus.resolve())
    assert s["chunks"] >= len(TINY) and s["model"] == "fake-bow" and s["updated_at"]


def test_status_without_an_index(tmp_path, capsys):
    assert main(["status", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.startswith(f"error: no index at {tmp_path / 'nope'}")
    assert main(["status", str(tmp_path / "a"), "--index-dir", str(tmp_path / "b")]) == 2


def test_server_refuses_a_busy_port_before_loading_anything(tmp_path):
    from server.__main__ import port_problem

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert "already in use" in port_problem("127.0.0.1", port)
        # the index does not exist either: the port is checked first, so the port is what is reported
        out = subprocess.run([sys.executable, "-m", "server", "--index-dir", str(tmp_path / "no-index"),
                              "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip() == (f"error: port {port} is already in use on 127.0.0.1 (another server?): stop it, "
                                  f"or pick another port with --port N (--port 0 picks a free one)")
    assert port_problem("127.0.0.1", port) is None  # free again
    assert port_problem("127.0.0.1", 0) is None
