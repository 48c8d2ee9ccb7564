"""A small local web for the research example and its test: a SearXNG-format search endpoint
(`GET /search?q=...&format=json`) and the three articles it finds, as HTML pages with
navigation around the text, so the scraper has something to leave out.

    python -m llmspell.conformance.peers.research_site --port 8790

`examples/research.toml` points `web-search` at it, so `examples/research.lua` runs offline.
"""

from __future__ import annotations

import argparse
import html

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

ARTICLES = {
    "gateways": (
        "Protocol gateways",
        "A protocol gateway speaks MCP to assistants and A2A to agents. It folds remote tools "
        "into one catalog, applies one policy to every call and keeps a trace of each. "
        "Operators like gateways because one place decides who may call what.",
    ),
    "sandboxes": (
        "Tool sandboxes",
        "A sandbox keeps tools inside their roots. Paths are resolved before use, commands run "
        "only from an allow list, and outbound connections pass one network policy. Private "
        "addresses are refused unless an operator allows them. The sandbox is what makes a "
        "process tool safe to expose to a model. Every refusal names what was refused and why.",
    ),
    "workflows": (
        "Workflows",
        "Workflows chain tools and agents: sequential steps, branches, loops, parallel fan-out "
        "and streams. Each step is a gated call with its own timeout and retry.",
    ),
}


def _page(slug: str) -> str:
    title, text = ARTICLES[slug]
    sentences = "".join(f"<p>{html.escape(s.strip())}.</p>" for s in text.split(". ") if s)
    return (
        f"<!doctype html><html lang='en'><head><title>{html.escape(title)}</title>"
        f"<meta name='description' content='{html.escape(text[:80])}'></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About</a> | Subscribe to our newsletter"
        f"</nav><article><h1>{html.escape(title)}</h1>{sentences}</article>"
        "<footer>Copyright the research site. Cookies settings.</footer></body></html>"
    )


def app(base: str = "") -> Starlette:
    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "").lower()
        root = base or str(request.base_url).rstrip("/")
        words = set(query.split())
        hits = [
            {"title": title, "url": f"{root}/articles/{slug}", "content": text[:120]}
            for slug, (title, text) in ARTICLES.items()
            if not words or words & set(text.lower().replace(".", " ").split())
        ]
        return JSONResponse({"query": query, "results": hits})

    async def article(request: Request) -> Response:
        slug = request.path_params["slug"]
        if slug not in ARTICLES:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        return HTMLResponse(_page(slug))

    return Starlette(
        routes=[Route("/search", search), Route("/articles/{slug}", article)],
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    ns = parser.parse_args()
    uvicorn.run(app(), host="127.0.0.1", port=ns.port, log_level="warning")


if __name__ == "__main__":
    main()
