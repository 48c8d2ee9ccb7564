"""A Python MCP server on the `mcp` SDK, as an upstream for federation tests and the proxy
benchmark: `python -m llmspell.conformance.peers.mcp_server [--http PORT]` (stdio by default).

Its `sessions` tool reports how many distinct client sessions have called it, which is how the
tests prove the gateway reuses one upstream session for many calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import zlib

import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image

app = MCPServer("py-peer", instructions="A test upstream for llmspell.")
_seen: set[str] = set()
"""Every distinct session (Mcp-Session-Id; one for stdio) that called a tool."""
_counts = {"calls": 0, "cancelled": 0}


def _note(ctx: Context) -> None:
    _seen.add((ctx.headers or {}).get("mcp-session-id", "stdio"))
    _counts["calls"] += 1


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (red pixels), built here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@app.tool(annotations=types.ToolAnnotations(read_only_hint=True))
def echo(message: str, ctx: Context) -> str:
    """Echo the message back."""
    _note(ctx)
    return f"Echo: {message}"


@app.tool()
def add(a: int, b: int, ctx: Context) -> dict[str, int]:
    """Add two integers; the answer is structured content."""
    _note(ctx)
    return {"sum": a + b}


@app.tool()
async def slow(steps: int, delay: float, ctx: Context) -> str:
    """Report progress once per step, sleeping `delay` seconds between steps."""
    _note(ctx)
    try:
        for i in range(steps):
            await ctx.report_progress(i + 1, steps, f"step {i + 1}")
            await asyncio.sleep(delay)
    except asyncio.CancelledError:
        _counts["cancelled"] += 1
        raise
    return f"done after {steps} steps"


@app.tool()
def image(ctx: Context) -> Image:
    """A 4x3 red PNG."""
    _note(ctx)
    return Image(data=png(), format="png")


@app.tool()
async def ask_model(prompt: str, ctx: Context) -> str:
    """Ask the connected client's model (sampling) and return its answer."""
    _note(ctx)
    reply = await ctx.session.create_message(
        [types.SamplingMessage(role="user", content=types.TextContent(text=prompt))],
        max_tokens=50,
    )
    content = reply.content
    return f"model said: {content.text if isinstance(content, types.TextContent) else content}"


@app.tool()
def sessions(ctx: Context) -> dict[str, int]:
    """Distinct client sessions, tool calls and cancelled calls seen so far (this call too)."""
    _note(ctx)
    return {"sessions": len(_seen), **_counts, "pid": os.getpid()}


@app.tool()
def whoami(ctx: Context) -> str:
    """The Authorization header this call came with (to prove configured headers arrive)."""
    _note(ctx)
    return (ctx.headers or {}).get("authorization", "")


@app.tool()
def traceparent(ctx: Context) -> str:
    """The W3C trace context this call came with in `_meta` (to prove tracing passes it on)."""
    meta = ctx.request_context.meta or {}
    return str(meta.get("traceparent", ""))


@app.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` and announce it (notifications/tools/list_changed)."""
    _note(ctx)

    def grown() -> str:
        return f"I am {name}"

    app.add_tool(grown, name=name, description=f"added at run time: {name}")
    await ctx.notify_tools_changed()  # 2026-07-28 listeners
    await ctx.session.send_tool_list_changed()  # handshake-era sessions
    return f"added {name}"


@app.tool()
def crash(ctx: Context) -> str:
    """Exit the process at once, as a crashing server would."""
    os._exit(3)


@app.prompt()
def greet(name: str) -> str:
    """Greet someone by name."""
    return f"Say hello to {name}."


@app.resource("peer://info", mime_type="text/plain")
def info() -> str:
    """What this server is."""
    return "py-peer test upstream"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http", type=int, metavar="PORT", help="serve Streamable HTTP on PORT")
    ns = parser.parse_args()
    if ns.http is None:
        app.run("stdio")
        return
    import uvicorn

    asgi = app.streamable_http_app(host="127.0.0.1")
    uvicorn.run(asgi, host="127.0.0.1", port=ns.http, log_level="warning")


if __name__ == "__main__":
    main()
