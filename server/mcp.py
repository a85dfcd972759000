"""``quarry mcp``: an index as tools for MCP clients (coding agents, desktop assistants), over stdio.

Two tools, with the HTTP API's JSON contract: ``ask`` (question, k) returns what POST /ask returns
(the answering sentence or null, and k passages, each a verbatim slice of a file with its lines
and characters); ``documents`` returns what GET /documents returns. The index is opened (and
checked) before the client is answered: a missing or broken index exits with one line on stderr.
A rebuilt index (quarry index, --watch) is switched to at the next call, as the HTTP server does.

Needs the official MCP Python SDK: pip install 'quarry[mcp]' (or pip install mcp).
Client configuration (e.g. a desktop assistant's mcpServers): command "quarry", args ["mcp",
"--index-dir", "/path/to/index"]; see docs/cli.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from indexer.offline import set_offline
from indexer.paths import default_index_dir
from retriever.pipeline import MAX_K, MAX_QUESTION_CHARS
from server.schemas import AskResponse, DocumentsResponse  # the tools' output schemas: the HTTP API's

log = logging.getLogger(__name__)

ASK_DOC = ("Answer a question from the user's indexed documents, extractively: returns the answering "
           "sentence (or null when the documents do not answer it) and the top k passages. Every span is "
           "a verbatim slice of a file: cite it as source:start_line-end_line. answer.score is a confidence "
           "in [0, 1].")
DOCUMENTS_DOC = ("List the indexed documents: source (the path cited), title (first heading or line), size in "
                 "bytes, sha256 and number of chunks.")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m server.mcp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"index to serve (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="sentence-transformers model folder (default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                   help="what is logged to stderr (default warning; stdout carries the protocol)")
    return p


def create(live) -> Any:
    """The MCP server answering from ``live`` (a started :class:`server.live.LiveIndex`)."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from indexer.errors import QueryError
    from retriever.commands import version

    app = MCPServer(name="quarry", version=version(),
                    instructions="Cited, extractive answers from the user's indexed documents. "
                                 "Quote answer.text and cite its source and lines.")

    async def current():
        if live.changed():  # a rebuild was swapped in: switch to it (a failure keeps the old one)
            await live.reload()
        return live.acquire()

    @app.tool(name="ask", description=ASK_DOC, structured_output=True)
    async def ask(question: Annotated[str, Field(description=f"the question, up to {MAX_QUESTION_CHARS} characters")],
                  k: Annotated[int, Field(description=f"passages to return, 1 to {MAX_K}")] = 5) -> AskResponse:
        # returned as the retriever's dict (the text content is exactly POST /ask's body); the SDK checks it
        # against AskResponse, the HTTP API's schema, for the structured content
        served = await current()
        try:
            result = await anyio.to_thread.run_sync(served.retriever.ask, question, k)
        except QueryError as e:
            raise ToolError(str(e)) from None
        finally:
            live.release(served)
        return result.to_dict()

    @app.tool(name="documents", description=DOCUMENTS_DOC, structured_output=True)
    async def documents() -> DocumentsResponse:
        served = await current()
        try:
            store = served.retriever.index.store
            # a dict, as GET /documents serializes it: the SDK checks it against DocumentsResponse, which
            # annotates this tool only for its output schema
            return {"documents": [{**d, "title": store.title(d["source"])}  # type: ignore[return-value]
                                  for d in store.documents()]}
        finally:
            live.release(served)

    return app


async def serve(settings, load: Callable) -> int:
    """Open the index, then answer MCP requests on stdin/stdout until the client closes them."""
    from indexer.errors import QuarryError
    from server.live import LiveIndex

    live = LiveIndex(settings, load)
    try:
        await live.start()
    except QuarryError as e:
        print(f"error: cannot serve {settings.index_dir}: {e}", file=sys.stderr)
        return 1
    try:
        await create(live).run_stdio_async()
    finally:
        live.close()
    return 0


def main(argv: list[str] | None = None, load: Callable | None = None) -> int:
    set_offline()  # before any library reads it
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        import mcp  # noqa: F401
    except ImportError:
        print("error: quarry mcp needs the MCP Python SDK: pip install 'quarry[mcp]' (or: pip install mcp)",
              file=sys.stderr)
        return 1
    import anyio

    from server.settings import Settings

    settings = Settings.from_env(index_dir=args.index_dir, model=args.model, access_log=False, watch_seconds=0)
    if load is None:
        from server.deps import open_retriever

        load = open_retriever
    try:
        return anyio.run(serve, settings, load)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
