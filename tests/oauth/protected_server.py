"""An MCP server protected by the MCP authorization spec, on the SDK's own resource-server
support: RFC 9728 protected resource metadata naming the authorization server, 401 with
`WWW-Authenticate: Bearer resource_metadata=...`, and every bearer token checked by
introspection at the authorization server (tests/oauth/auth_server.py).

    python tests/oauth/protected_server.py PORT AS_URL
"""

from __future__ import annotations

import sys
import time

import httpx
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer


class Introspection:
    """The SDK's `TokenVerifier`: asks the authorization server whether a token is active."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def verify_token(self, token: str) -> AccessToken | None:
        async with httpx.AsyncClient(timeout=5) as http:
            reply = (await http.post(self.endpoint, data={"token": token})).json()
        if not reply.get("active"):
            return None
        return AccessToken(
            token=token,
            client_id=reply["client_id"],
            scopes=(reply.get("scope") or "").split(),
            expires_at=reply.get("exp"),
            resource=reply.get("aud"),
        )


def build(port: int, issuer: str) -> MCPServer:
    server = MCPServer(
        "protected",
        token_verifier=Introspection(f"{issuer}/introspect"),
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=f"http://127.0.0.1:{port}/mcp",
            required_scopes=["mcp"],
            validate_token_resource=False,
        ),
    )

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return f"echo: {text}"

    @server.tool()
    def clock() -> str:
        """The server's time, to tell calls apart."""
        return str(time.time())

    return server


def main() -> None:
    port, issuer = int(sys.argv[1]), sys.argv[2]
    app = build(port, issuer).streamable_http_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
