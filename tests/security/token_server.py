"""A minimal OAuth token endpoint for the token-exchange test (RFC 8693), on loopback:
`python token_server.py PORT`. It trades any subject token for `exchanged-<first 8 chars>`,
checks the client's credentials, and counts the exchanges it did (GET /count)."""

from __future__ import annotations

import base64
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

exchanges: list[dict[str, str]] = []


async def token(request: Request) -> JSONResponse:
    form = dict(await request.form())
    basic = request.headers.get("authorization", "")
    client = base64.b64decode(basic.removeprefix("Basic ")).decode() if basic else ""
    if client != "gateway:s3cret":
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    exchanges.append({k: str(v) for k, v in form.items()})
    return JSONResponse(
        {
            "access_token": f"exchanged-{str(form['subject_token'])[:8]}",
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": 300,
        }
    )


async def count(request: Request) -> JSONResponse:
    return JSONResponse({"count": len(exchanges), "last": exchanges[-1] if exchanges else None})


app = Starlette(routes=[Route("/token", token, methods=["POST"]), Route("/count", count)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
