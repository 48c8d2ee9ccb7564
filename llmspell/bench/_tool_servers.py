"""The services the tools of `python -m llmspell.bench tools` reach, all local: the servers
started for the run on 127.0.0.1, a SQLite database, the `[tools.NAME]` settings that point the
tools at them, and the typical calls of those tools (web, messaging, database-connector,
service-checker).

`Servers` runs, in the bench's own event loop, a starlette site on uvicorn (a page with a title,
navigation and an article, more articles it links to, robots.txt, sitemap.xml, a news page that
changes on every fetch, a JSON echo endpoint, a webhook receiver and fake providers: SearXNG
`/search?format=json`, Slack `chat.postMessage`, GitHub `/repos/o/r/issues`), an aiosmtpd SMTP
server and a TCP server that accepts and closes (for service-checker). Each binds a free port
and is stopped when the run ends. The servers share the loop with the tools, so a tool's time
includes the server's side of the exchange, as it would a fast local service's.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Per:
    """An argument filled in per call: `template` formatted with the call number `i` and the
    run's facts (`port`, `site`: see `Servers.facts`), so a writing call gets a fresh name every
    time and a URL names the port the site got."""

    template: str
    integer: bool = False

    def fill(self, facts: dict[str, Any]) -> str | int:
        text = self.template.format_map(facts)
        return int(text) if self.integer else text


ARTICLES = ("gateway", "pipeline", "hooks", "sandbox", "state", "tools")
PARAGRAPH = (
    "<p>The {slug} article explains how a call travels: the gateway receives it, the pipeline "
    "validates the arguments against the tool's schema, hooks observe it before and after, and "
    "the handler runs inside the sandbox. Results come back as text, data or binary parts, and "
    "every outbound request is checked by the network policy first.</p>"
)


def _page(slug: str) -> str:
    nav = "".join(f'<li><a href="/articles/{s}">{s.title()}</a></li>' for s in ARTICLES)
    body = "\n".join(PARAGRAPH.format(slug=slug) for _ in range(8))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{slug.title()} - llmspell notes</title>"
        f"<meta name='description' content='Notes on the {slug}'>"
        f"<meta property='og:title' content='{slug.title()}'>"
        f"<link rel='canonical' href='/articles/{slug}'></head><body>"
        f"<header><nav><ul><li><a href='/'>Home</a></li>{nav}"
        f"<li><a href='https://example.org/elsewhere'>Elsewhere</a></li></ul></nav></header>"
        f"<main><article><h1>{slug.title()}</h1>{body}</article></main>"
        f"<footer><a href='/private/admin'>Admin</a> &copy; llmspell</footer></body></html>"
    )


def _sitemap(base: str) -> str:
    urls = "".join(f"<url><loc>{base}/articles/{s}</loc></url>" for s in ARTICLES)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )


ISSUES = [
    {
        "number": n,
        "title": f"Issue {n}: the pipeline drops a hook event",
        "state": "open",
        "user": {"login": f"user{n % 5}"},
        "labels": [{"name": "bug"}, {"name": "pipeline"}],
        "assignees": [{"login": "maintainer"}],
        "comments": n % 7,
        "created_at": "2024-03-10T12:00:00Z",
        "updated_at": "2024-03-11T08:30:00Z",
        "html_url": f"https://github.example/o/r/issues/{n}",
        "body": "Steps to reproduce: call a tool with a hook that raises.",
    }
    for n in range(1, 31)
]
SEARCH_HITS = [
    {
        "title": f"Result {n} about <b>MCP gateways</b>",
        "url": f"https://example.org/result/{n}",
        "content": "A gateway routes calls from remote clients to tools &amp; agents.",
    }
    for n in range(1, 21)
]


def _app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    fetches = [0]

    async def home(request: Request) -> Response:
        return HTMLResponse(_page("gateway"))

    async def article(request: Request) -> Response:
        slug = request.path_params["slug"]
        return HTMLResponse(_page(slug)) if slug in ARTICLES else PlainTextResponse("", 404)

    async def news(request: Request) -> Response:
        fetches[0] += 1
        items = "".join(f"<li>Release 1.{n} is out</li>" for n in range(fetches[0] % 5 + 3))
        return HTMLResponse(
            f"<html><head><title>News</title></head><body><h1>News</h1><ul>{items}</ul>"
            f"<p>Fetched {fetches[0]} times.</p></body></html>"
        )

    async def robots(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        text = f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n"
        return PlainTextResponse(text)

    async def sitemap(request: Request) -> Response:
        xml = _sitemap(str(request.base_url).rstrip("/"))
        return Response(xml, media_type="application/xml")

    async def echo(request: Request) -> Response:
        body = await request.body()
        sent = await request.json() if body else None
        return JSONResponse(
            {"method": request.method, "query": dict(request.query_params), "json": sent}
        )

    async def webhook(request: Request) -> Response:
        await request.body()
        return JSONResponse({"received": True})

    async def searxng(request: Request) -> Response:
        query = request.query_params.get("q", "")
        return JSONResponse({"query": query, "results": SEARCH_HITS})

    async def slack(request: Request) -> Response:
        sent = await request.json()
        return JSONResponse(
            {"ok": True, "channel": "C0BENCH", "ts": "1710072000.000100"}
            | {"message": {"text": sent.get("text")}}
        )

    async def issues(request: Request) -> Response:
        return JSONResponse(ISSUES[: int(request.query_params.get("per_page", 30))])

    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/", home),
            Route("/articles/{slug}", article),
            Route("/news", news),
            Route("/robots.txt", robots),
            Route("/sitemap.xml", sitemap),
            Route("/echo", echo, methods=every),
            Route("/hooks/receive", webhook, methods=["POST"]),
            Route("/search", searxng),
            Route("/slack/api/chat.postMessage", slack, methods=["POST"]),
            Route("/github/repos/{owner}/{repo}/issues", issues),
        ]
    )


class _Inbox:
    """The SMTP server's handler: counts what it accepts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 Message accepted"


@dataclass
class Servers:
    """The ports of the running servers, once `serving()` has started them."""

    http: int = 0
    smtp: int = 0
    tcp: int = 0
    inbox: _Inbox = field(default_factory=_Inbox)

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    @property
    def allow(self) -> tuple[str, ...]:
        """The network policy's allow list: these ports and nothing else."""
        return tuple(f"127.0.0.1:{port}" for port in (self.http, self.smtp, self.tcp))

    def facts(self) -> dict[str, Any]:
        """What `Per` templates may name: the TCP port and the site's base URL."""
        return {"port": self.tcp, "site": self.site}

    def settings(self, database: Path) -> dict[str, dict[str, Any]]:
        """The `[tools.NAME]` tables pointing the tools at these servers and `database`."""
        site = self.site
        bench = {"url": f"sqlite+aiosqlite:///{database}", "max_rows": 100}
        return {
            "database-connector": {"connections": {"bench": bench}},
            "web-search": {"provider": "searxng", "url": site},
            "webhook-caller": {"secret": "bench-webhook-secret"},
            "slack": {"token": "xoxb-bench-token", "api_url": f"{site}/slack/api"},
            "github": {"token": "ghp_bench_token", "api_url": f"{site}/github"},
            "email-sender": {
                "provider": "smtp",
                "host": "127.0.0.1",
                "port": self.smtp,
                "starttls": False,
                "from": "Bench Reports <reports@example.com>",
            },
        }


DATABASE = "bench.db"
"""The SQLite file in the bench's folder (written by `database`)."""


def database(path: Path, orders: int = 5000) -> None:
    """A SQLite file with an `orders` table (indexed by customer) for database-connector."""
    customers = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
        db.execute("CREATE INDEX orders_customer ON orders (customer)")
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            ((n, customers[n % len(customers)], (n * 7919) % 10000 / 10) for n in range(orders)),
        )


def _bound() -> socket.socket:
    """A listening socket for uvicorn on a free port. Its protocol is named: asyncio sets
    TCP_NODELAY only on accepted sockets whose `proto` is IPPROTO_TCP, and without it every
    response after the first on a kept-alive connection waits ~40 ms (Nagle and delayed ACK)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[Servers]:
    """Every server on a free port of 127.0.0.1 for the duration of the block."""
    import uvicorn
    from aiosmtpd.smtp import SMTP

    found = Servers()
    loop = asyncio.get_running_loop()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    tcp = await asyncio.start_server(accept, "127.0.0.1", 0)
    smtp = await loop.create_server(
        lambda: SMTP(found.inbox, hostname="bench.localhost"), "127.0.0.1", 0
    )
    sock = _bound()

    class Quiet(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # Ctrl-C stops the bench, not only its server

    config = uvicorn.Config(_app(), log_level="warning", access_log=False, lifespan="off")
    web = Quiet(config)
    task = asyncio.create_task(web.serve(sockets=[sock]))
    try:
        while not web.started:
            if task.done():
                task.result()
                raise RuntimeError("the bench's HTTP server stopped before it started")
            await asyncio.sleep(0.01)
        found.http = sock.getsockname()[1]
        found.smtp = smtp.sockets[0].getsockname()[1]
        found.tcp = tcp.sockets[0].getsockname()[1]
        yield found
    finally:
        web.should_exit = True
        await task
        sock.close()
        for server in (smtp, tcp):
            server.close()
            await server.wait_closed()


# -- typical calls of the tools that reach these servers ----------------------------------------


PAGE = Per("{site}/articles/gateway")
SERVED: dict[str, dict[str, Any]] = {
    "database-connector": {
        "operation": "query",
        "connection": "bench",
        "sql": "SELECT id, customer, total FROM orders WHERE customer = :customer "
        "ORDER BY total DESC LIMIT 20",
        "params": {"customer": "acme"},
    },
    "service-checker": {"operation": "tcp", "host": "127.0.0.1", "port": Per("{port}", True)},
    # web
    "web-search": {"query": "mcp gateway", "max_results": 10},
    "url-analyzer": {"url": PAGE},
    "api-tester": {
        "url": Per("{site}/echo"),
        "method": "POST",
        "query": {"page": 2},
        "json": {"name": "gateway", "tags": ["mcp", "a2a"]},
        "expect_status": 200,
    },
    "webhook-caller": {
        "url": Per("{site}/hooks/receive"),
        "payload": {"event": "deploy", "id": Per("{i}", integer=True), "ok": True},
    },
    "web-scraper": {"url": PAGE},
    "webpage-monitor": {"url": Per("{site}/news")},
    "sitemap-crawler": {"url": Per("{site}/"), "max_depth": 1, "max_pages": 10},
    # messaging
    "email-sender": {
        "to": ["ops@example.com"],
        "cc": ["lead@example.com"],
        "subject": Per("Nightly report {i}"),
        "text": "All 45 tools answered.\n",
        "html": "<p>All <b>45</b> tools answered.</p>",
        "attachments": [{"path": "corpus/notes.txt"}],
    },
    "slack": {
        "operation": "post_message",
        "channel": "#bench",
        "text": Per("Deploy {i} finished :white_check_mark:"),
    },
    "github": {"operation": "list_issues", "repo": "o/r", "labels": ["bug"]},
}
"""The typical calls that reach a service: a URL on the site is a `Per`, since its port is known
only once the servers run."""

RENDER = {"url": PAGE, "render": True}
"""web-scraper with render = true (headless Chromium), timed apart when a browser is found."""
