"""`quarry mcp`: a real MCP client session (the SDK's stdio client) against the server in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from retriever.pipeline import Retriever
from tests.conftest import ROOT, TINY, FakeEncoder
from tests.serving import tiny_index

pytest.importorskip("mcp")


async def _session(index_dir, calls):
    """Start ``python -m tests.fake_cli mcp`` (server.mcp.main with the fake encoder); run ``calls(session)``."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                   args=["-m", "tests.fake_cli", "mcp", "--index-dir", str(index_dir)])
    with anyio.fail_after(120):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)


def test_mcp_tools_answer_with_the_http_contract(tiny_corpus, tmp_path):
    idx = tiny_index(tiny_corpus, tmp_path / "idx")
    question = "How many moons does Mars have?"

    async def calls(session):
        tools = (await session.list_tools()).tools
        asked = await session.call_tool("ask", {"question": question, "k": 2})
        default_k = await session.call_tool("ask", {"question": question})
        empty = await session.call_tool("ask", {"question": "   "})
        bad_k = await session.call_tool("ask", {"question": question, "k": 51})
        docs = await session.call_tool("documents", {})
        return tools, asked, default_k, empty, bad_k, docs

    tools, asked, default_k, empty, bad_k, docs = anyio.run(_session, idx, calls)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"ask", "documents"}
    assert set(by_name["ask"].input_schema["properties"]) == {"question", "k"}
    assert by_name["ask"].input_schema["required"] == ["question"]
    assert set(by_name["ask"].output_schema["properties"]) == {"question", "answer", "passages"}

    retriever = Retriever.open(idx, encoder=FakeEncoder())
    expected = retriever.ask(question, k=2).to_dict()  # what POST /ask returns for it
    assert not asked.is_error
    assert asked.structured_content == expected
    assert json.loads(asked.content[0].text) == expected
    assert asked.structured_content["answer"]["source"] == "space.txt"
    assert "Phobos and Deimos" in asked.structured_content["answer"]["text"]
    assert len(asked.structured_content["passages"]) == 2
    assert len(default_k.structured_content["passages"]) == min(5, retriever.index.n_chunks)

    assert empty.is_error and "the question is empty" in empty.content[0].text
    assert bad_k.is_error and "k must be an integer from 1 to 50" in bad_k.content[0].text
    store = retriever.index.store  # what GET /documents returns: each document with its title
    assert docs.structured_content == {"documents": [{**d, "title": store.title(d["source"])}
                                                     for d in store.documents()]}
    assert sorted(d["source"] for d in docs.structured_content["documents"]) == sorted(TINY)
    retriever.index.close()


def test_mcp_switches_to_a_rebuilt_index(tiny_corpus, tmp_path):
    idx = tiny_index(tiny_corpus, tmp_path / "idx")

    async def calls(session):
        before = await session.call_tool("documents", {})
        (tiny_corpus / "birds.txt").write_text("Penguins cannot fly but they swim well.\n")
        tiny_index(tiny_corpus, idx)  # an incremental update, swapped in atomically
        after = await session.call_tool("documents", {})
        asked = await session.call_tool("ask", {"question": "Which birds cannot fly?", "k": 1})
        return before, after, asked

    before, after, asked = anyio.run(_session, idx, calls)
    assert "birds.txt" not in {d["source"] for d in before.structured_content["documents"]}
    assert "birds.txt" in {d["source"] for d in after.structured_content["documents"]}
    assert asked.structured_content["passages"][0]["source"] == "birds.txt"


def test_mcp_without_an_index_exits_with_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tests.fake_cli", "mcp", "--index-dir", str(tmp_path / "nope")],
                         cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stdout == ""  # stdout is the protocol's: nothing else is ever written there
    assert out.stderr.startswith(f"error: cannot serve {tmp_path / 'nope'}: no index at")


@pytest.mark.model
def test_quarry_mcp_with_the_real_model(seeds_index):
    """`quarry mcp` as a client starts it: the index's ONNX export embeds the question."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    async def run():
        params = StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                       args=["-m", "retriever.commands", "mcp", "--index-dir", str(seeds_index)])
        with anyio.fail_after(240):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                init = await session.initialize()
                return init, await session.call_tool("ask", {"question": "How much will big tech spend on AI "
                                                                         "data centers this year?", "k": 3})

    init, asked = anyio.run(run)
    assert init.server_info.name == "quarry"
    answer = asked.structured_content["answer"]
    assert "$800 billion" in answer["text"] and answer["source"].startswith("000_")
    assert len(asked.structured_content["passages"]) == 3
