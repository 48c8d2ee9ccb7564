"""The stock `mcp` SDK server serving one trivial tool, the yardstick for the gateway's
throughput: `python -m llmspell.bench._sdk_server PORT` (the SDK's high-level server,
Streamable HTTP in stateless JSON mode, under uvicorn: the SDK's fastest configuration)."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

app = MCPServer("sdk-bench")


@app.tool()
def calculator(expression: str) -> str:
    """Multiply `a*b` (the gateway's `calculator` is called with "6*7")."""
    a, _, b = expression.partition("*")
    return str(int(a) * int(b or 1))


def main() -> None:
    import uvicorn

    asgi = app.streamable_http_app(host="127.0.0.1", json_response=True, stateless_http=True)
    uvicorn.run(asgi, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")


if __name__ == "__main__":
    main()
