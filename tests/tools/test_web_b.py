"""web-scraper, webpage-monitor and sitemap-crawler against a real site on 127.0.0.1 (a
Starlette app on uvicorn); other addresses appear only as redirect targets that must be
refused before any connection. Rendering runs the real headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest
import uvicorn
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.web import crawler
from llmspell.runtime import ErrorCode, Runtime
from llmspell.runtime.sandbox import NetworkPolicy, Sandbox
from llmspell.runtime.state import MemoryStateStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .conftest import call, refused

ARTICLE = """<!doctype html>
<html lang="en-GB"><head>
<title>Tending Moss Gardens</title>
<meta name="description" content="How to keep a moss garden green.">
<meta property="og:title" content="Tending Moss Gardens (OG)">
<meta property="og:type" content="article">
<link rel="canonical" href="/article">
</head><body>
<nav class="menu"><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/shop">Shop
 nav-only-marker</a></nav>
<div class="sidebar">Sidebar advertising boilerplate-marker, subscribe now!</div>
<article class="post">
<h1>Tending Moss Gardens</h1>
<p>Moss grows best in shade, on compacted acidic soil that stays damp but never waterlogged.
Gardeners who fight moss in their lawns are often surprised how easily it takes over once
they stop raking and simply let the conditions that favour it persist through a wet winter.</p>
<p>Water a new moss garden lightly every day for the first three weeks, preferably with
rainwater, since the lime in tap water slowly raises the soil's pH beyond what moss enjoys.
After that, a misting during dry spells keeps the cushions plump and a vivid green colour.</p>
<p>Remove fallen leaves with a soft broom: leaves left lying block the light, hold moisture
against the moss in the wrong way and invite the fungal rot that browns whole patches of it.
See <a href="docs/one">the first guide</a> and <a href="https://example.org/moss">elsewhere</a>.
</p>
</article>
<footer>Copyright footer-marker 2024. <a href="/privacy">Privacy</a></footer>
</body></html>"""

JS_PAGE = """<!doctype html><html><head><title>JS</title></head><body>
<p id="x">placeholder</p>
<script>document.getElementById('x').textContent='rendered by js'</script>
</body></html>"""


def page(title: str, *links: str, body: str = "") -> HTMLResponse:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return HTMLResponse(
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}"
        f"<ul>{anchors}</ul></body></html>"
    )


@dataclass
class Site:
    port: int = 0
    counter: int = 1
    hits: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Any:
        async def robots(request: Request) -> Response:
            return PlainTextResponse(
                f"User-agent: *\nDisallow: /private\n\nSitemap: {self.base}/sitemap.xml\n"
            )

        async def sitemap_index(request: Request) -> Response:
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{self.base}/sitemap-pages.xml</loc></sitemap>"
                "</sitemapindex>"
            )
            return Response(xml, media_type="application/xml")

        async def sitemap_pages(request: Request) -> Response:
            urls = ["/", "/article", "/from-sitemap", "/private/report"]
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{self.base}{u}</loc></url>" for u in urls)
                + "</urlset>"
            )
            return Response(xml, media_type="application/xml")

        async def home(request: Request) -> Response:
            return page(
                "Home",
                "article",
                "./about",
                "/docs/one#part",
                "/private/hidden",
                "https://example.org/elsewhere",
                "mailto:someone@example.org",
            )

        async def counter(request: Request) -> Response:
            return page("Counter", body=f"<p>intro line</p><p>visits: {self.counter}</p>")

        async def slow(request: Request) -> Response:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 30)
            return page("Slow at last")

        routes = [
            Route("/slow", slow),
            Route("/robots.txt", robots),
            Route("/sitemap.xml", sitemap_index),
            Route("/sitemap-pages.xml", sitemap_pages),
            Route("/", home),
            Route("/article", lambda r: HTMLResponse(ARTICLE)),
            Route("/about", lambda r: page("About", "/docs/two")),
            Route("/from-sitemap", lambda r: page("From the sitemap")),
            Route("/docs/one", lambda r: page("Doc one", "/docs/deep")),
            Route("/docs/two", lambda r: page("Doc two", "/docs/deep")),
            Route("/docs/deep", lambda r: page("Deep", "/docs/deeper")),
            Route("/docs/deeper", lambda r: page("Deeper")),
            Route("/private/{rest:path}", lambda r: page("Secret")),
            Route("/old", lambda r: RedirectResponse("/article", status_code=301)),
            Route("/away", lambda r: RedirectResponse("http://10.0.0.1/admin", status_code=302)),
            Route("/counter", counter),
            Route("/js", lambda r: HTMLResponse(JS_PAGE)),
        ]
        app = Starlette(routes=routes)

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.hits.append(scope["path"])
            await app(scope, receive, send)

        return recording


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    found = Site()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    found.port = sock.getsockname()[1]
    config = uvicorn.Config(
        found.app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield found
    finally:
        found.release.set()
        server.should_exit = True
        await task
        sock.close()


def web(site: Site, **settings: Any) -> Runtime:
    runtime = Runtime()
    sandbox = Sandbox(network=NetworkPolicy(allow=(f"127.0.0.1:{site.port}",)))
    register_builtins(runtime.catalog, sandbox, settings=settings, state=MemoryStateStore())
    return runtime


# -- web-scraper -------------------------------------------------------------------------------


async def test_scraper_returns_the_article_as_markdown_with_links_and_metadata(site: Site) -> None:
    result = await call(web(site), "web-scraper", url=f"{site.base}/article")
    data = result.data
    markdown = data["markdown"]
    assert data["status"] == 200 and data["final_url"] == f"{site.base}/article"
    assert markdown.startswith("# Tending Moss Gardens")
    assert "Moss grows best in shade" in markdown and "vivid green colour" in markdown
    assert f"[the first guide]({site.base}/docs/one)" in markdown
    for boilerplate in ("nav-only-marker", "boilerplate-marker", "footer-marker"):
        assert boilerplate not in markdown
    assert "<p>" not in markdown
    meta = data["metadata"]
    assert meta["title"] == "Tending Moss Gardens"
    assert meta["description"] == "How to keep a moss garden green."
    assert meta["og"] == {"title": "Tending Moss Gardens (OG)", "type": "article"}
    assert meta["canonical"] == f"{site.base}/article"
    assert meta["language"] == "en-GB"
    links = {link["url"]: link for link in data["links"]}
    assert links[f"{site.base}/docs/one"] == {
        "url": f"{site.base}/docs/one",
        "text": "the first guide",
        "internal": True,
    }
    assert links[f"{site.base}/about"]["text"] == "About us"
    assert links["https://example.org/moss"]["internal"] is False
    assert all(url.startswith(("http://", "https://")) for url in links)
    assert result.text.startswith(f"{site.base}/article (200)")


async def test_scraper_full_content_keeps_the_navigation(site: Site) -> None:
    result = await call(
        web(site), "web-scraper", url=f"{site.base}/article", content="full", links=False
    )
    assert "nav-only-marker" in result.data["markdown"]
    assert "Moss grows best" in result.data["markdown"]
    assert "links" not in result.data


async def test_scraper_follows_a_redirect(site: Site) -> None:
    result = await call(web(site), "web-scraper", url=f"{site.base}/old")
    assert result.data["final_url"] == f"{site.base}/article"
    assert result.data["redirects"] == [f"{site.base}/old"]
    assert "Moss grows best" in result.data["markdown"]


async def test_scraper_refuses_a_redirect_to_a_private_address(site: Site) -> None:
    err = await refused(web(site), "web-scraper", url=f"{site.base}/away")
    assert err.code == ErrorCode.DENIED
    assert err.message.startswith("web-scraper: outbound connection refused: 10.0.0.1:80")
    assert "not on the allow list" in err.message
    assert site.hits == ["/away"]


async def test_scraper_refuses_loopback_by_default(site: Site) -> None:
    runtime = Runtime()
    register_builtins(runtime.catalog, Sandbox())
    err = await refused(runtime, "web-scraper", url=f"{site.base}/article")
    assert err.code == ErrorCode.DENIED and "127.0.0.1 is a private address" in err.message
    err = await refused(runtime, "web-scraper", url=f"{site.base}/js", render=True)
    assert err.code == ErrorCode.DENIED and "127.0.0.1 is a private address" in err.message
    assert site.hits == []


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "not a url"])
async def test_scraper_refuses_what_is_not_http(site: Site, url: str) -> None:
    err = await refused(web(site), "web-scraper", url=url)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert "is not an http:// or https:// URL" in err.message


async def test_scraper_renders_javascript_with_chromium(site: Site) -> None:
    runtime = web(site)
    plain = await call(runtime, "web-scraper", url=f"{site.base}/js", content="full")
    assert "rendered by js" not in plain.data["markdown"]
    assert "placeholder" in plain.data["markdown"]
    rendered = await call(
        runtime, "web-scraper", url=f"{site.base}/js", content="full", render=True, timeout=45
    )
    assert rendered.data["rendered"] is True
    assert "rendered by js" in rendered.data["markdown"]
    assert "placeholder" not in rendered.data["markdown"]


async def test_the_browser_goes_through_the_policy(site: Site) -> None:
    err = await refused(web(site), "web-scraper", url=f"{site.base}/away", render=True, timeout=45)
    assert err.code == ErrorCode.DENIED
    assert "10.0.0.1:80 is not on the allow list" in err.message
    assert site.hits == ["/away"]


def browsers() -> list[psutil.Process]:
    """Chromium processes started by this test process (found by their profile directory)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("llmspell-browser-" in arg for arg in child.cmdline()):
                found.append(child)
    return found


async def no_browsers(within: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        alive = [p for p in browsers() if p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_browser_that_runs_out_of_time_is_killed(site: Site) -> None:
    err = await refused(web(site), "web-scraper", url=f"{site.base}/slow", render=True, timeout=4)
    assert err.code == ErrorCode.TIMEOUT and "did not finish" in err.message
    assert "/slow" in site.hits
    assert await no_browsers()


async def test_cancelling_a_render_kills_the_browser(site: Site) -> None:
    runtime = web(site)
    task = asyncio.create_task(
        call(runtime, "web-scraper", url=f"{site.base}/slow", render=True, timeout=45)
    )
    for _ in range(300):
        if "/slow" in site.hits:
            break
        await asyncio.sleep(0.05)
    assert "/slow" in site.hits and browsers()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await no_browsers()


async def test_render_without_a_browser_says_how_to_get_one(site: Site) -> None:
    runtime = web(site, **{"web-scraper": {"browser": "/nonexistent/chromium"}})
    err = await refused(runtime, "web-scraper", url=f"{site.base}/js", render=True)
    assert err.code == ErrorCode.NOT_CONFIGURED
    assert "needs Chromium or Chrome" in err.message and "browser" in err.message


async def test_the_body_is_capped(site: Site) -> None:
    runtime = web(site, **{"web-scraper": {"max_bytes": 600}})
    result = await call(runtime, "web-scraper", url=f"{site.base}/article", content="full")
    assert result.data["body_truncated"] is True
    assert "vivid green" not in result.data["markdown"]


# -- webpage-monitor ---------------------------------------------------------------------------


async def test_monitor_reports_first_snapshot_then_no_change_then_the_diff(site: Site) -> None:
    store = MemoryStateStore()
    runtime = Runtime()
    sandbox = Sandbox(network=NetworkPolicy(allow=(f"127.0.0.1:{site.port}",)))
    register_builtins(runtime.catalog, sandbox, state=store)
    url = f"{site.base}/counter"

    first = await call(runtime, "webpage-monitor", url=url)
    assert first.data["first_snapshot"] is True and first.data["changed"] is False
    assert first.data["last_seen"] is None
    assert "first snapshot" in first.text

    second = await call(runtime, "webpage-monitor", url=url)
    assert second.data["first_snapshot"] is False and second.data["changed"] is False
    assert second.data["last_seen"] == first.data["fetched_at"]
    assert second.data["diff"] == "" and "no change" in second.text

    site.counter = 2
    third = await call(runtime, "webpage-monitor", url=url)
    assert third.data["changed"] is True
    assert "+visits: 2" in third.data["diff"].splitlines()
    assert "-visits: 1" in third.data["diff"].splitlines()
    assert " intro line" in third.data["diff"].splitlines()
    assert third.data["added"] == 1 and third.data["removed"] == 1
    assert "+visits: 2" in third.text

    kept = await store.get("tool:webpage-monitor", url)
    assert "visits: 2" in kept["text"] and kept["fetched_at"] == third.data["fetched_at"]
    assert await store.keys("tool:webpage-monitor") == [url]


async def test_monitor_without_a_store_keeps_memory(site: Site) -> None:
    runtime = Runtime()
    sandbox = Sandbox(network=NetworkPolicy(allow_private=True))
    register_builtins(runtime.catalog, sandbox)
    url = f"{site.base}/counter"
    assert (await call(runtime, "webpage-monitor", url=url)).data["first_snapshot"] is True
    assert (await call(runtime, "webpage-monitor", url=url)).data["changed"] is False


async def test_monitor_refuses_a_redirect_to_a_private_address(site: Site) -> None:
    err = await refused(web(site), "webpage-monitor", url=f"{site.base}/away")
    assert err.code == ErrorCode.DENIED and "10.0.0.1:80" in err.message


async def test_monitor_takes_no_snapshot_of_an_error_page(site: Site) -> None:
    err = await refused(web(site), "webpage-monitor", url=f"{site.base}/missing")
    assert err.code == ErrorCode.UNAVAILABLE and "answered 404" in err.message


def test_annotations(site: Site) -> None:
    tools = {c.name: c for c in web(site).catalog.list() if c.category == "web"}
    for name in ("web-scraper", "sitemap-crawler"):
        a = tools[name].annotations
        assert (a.read_only, a.destructive, a.open_world) == (True, False, True)
    a = tools["webpage-monitor"].annotations
    assert (a.read_only, a.destructive, a.idempotent, a.open_world) == (False, False, False, True)


# -- sitemap-crawler ---------------------------------------------------------------------------


async def test_crawler_reads_the_sitemap_and_follows_links_within_robots(site: Site) -> None:
    result = await call(web(site), "sitemap-crawler", url=f"{site.base}/", max_depth=1)
    data = result.data
    pages = {p["url"].removeprefix(site.base): p for p in data["pages"]}
    assert data["robots"] == "read"
    assert data["sitemaps"] == [f"{site.base}/sitemap.xml", f"{site.base}/sitemap-pages.xml"]
    # the start and the sitemap's pages at depth 0, their links at depth 1
    assert {u: p["depth"] for u, p in pages.items()} == {
        "/": 0,
        "/article": 0,
        "/from-sitemap": 0,
        "/about": 1,
        "/docs/one": 1,
        "/shop": 1,  # the article's links
        "/privacy": 1,
    }
    assert pages["/article"]["title"] == "Tending Moss Gardens"
    assert pages["/shop"]["status"] == 404 and pages["/privacy"]["status"] == 404
    assert all(p["status"] == 200 for u, p in pages.items() if u not in ("/shop", "/privacy"))
    skipped = {s["url"].removeprefix(site.base): s for s in data["skipped"]}
    assert skipped["/private/report"]["reason"] == "robots"
    assert skipped["/private/hidden"]["reason"] == "robots"
    assert skipped["https://example.org/elsewhere"]["reason"] == "external"
    assert skipped["https://example.org/moss"]["reason"] == "external"
    assert skipped["/docs/two"]["reason"] == "limit"
    assert skipped["/docs/deep"]["reason"] == "limit"
    assert not any(hit.startswith("/private") for hit in site.hits)
    assert "7 pages" in result.text


async def test_crawler_respects_max_pages(site: Site) -> None:
    result = await call(web(site), "sitemap-crawler", url=f"{site.base}/", max_pages=2)
    assert len(result.data["pages"]) == 2
    limited = [s for s in result.data["skipped"] if s["reason"] == "limit"]
    assert limited and all("max_pages 2" in s["detail"] for s in limited)
    fetched = [h for h in site.hits if h not in ("/robots.txt", "/sitemap.xml")]
    assert fetched == ["/sitemap-pages.xml", "/", "/article"]


async def test_crawler_without_sitemap_follows_links_and_redirects(site: Site) -> None:
    result = await call(
        web(site), "sitemap-crawler", url=f"{site.base}/old", sitemap=False, max_depth=3
    )
    pages = [p["url"].removeprefix(site.base) for p in result.data["pages"]]
    assert pages[:3] == ["/old", "/article", "/"]
    assert result.data["pages"][0]["status"] == 301
    assert result.data["pages"][0]["redirect"] == f"{site.base}/article"
    assert {"/docs/deep", "/docs/deeper"} <= set(pages)
    assert "/sitemap.xml" not in site.hits


async def test_crawler_refuses_a_site_outside_the_policy(site: Site) -> None:
    runtime = Runtime()
    register_builtins(runtime.catalog, Sandbox())
    err = await refused(runtime, "sitemap-crawler", url=f"{site.base}/")
    assert err.code == ErrorCode.DENIED and "private address" in err.message


def test_sitemaps_are_parsed_without_entities() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol2;</loc></url></urlset>"""
    assert crawler._locations(bomb, crawler.NAME) == ([], [])
    external = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>&e;</loc></url></urlset>"""
    assert crawler._locations(external, crawler.NAME) == ([], [])
    plain = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc> http://a.example/1 </loc><lastmod>2024-01-01</lastmod></url></urlset>"""
    assert crawler._locations(plain, crawler.NAME) == (["http://a.example/1"], [])
