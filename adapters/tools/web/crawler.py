"""`sitemap-crawler`: the pages of one site, from its sitemaps (sitemap indexes included) and
by following its links breadth-first, honouring robots.txt, within depth and page limits.

Redirects are followed by hand so each hop is checked like a link: same site, allowed by
robots.txt, and (by the policy client) allowed by the network policy. Sitemaps are parsed by
defusedxml: no entities, no DTDs, nothing fetched by the parser.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, need, tool
from ..env import ToolEnv
from . import _html

if TYPE_CHECKING:
    from urllib.robotparser import RobotFileParser


NAME = "sitemap-crawler"
AGENT = "llmspell"
MAX_TIMEOUT = 60.0
MAX_SITEMAPS = 50
MAX_SKIPPED = 1000
MAX_CRAWL_DELAY = 5.0
MAX_HOPS = 10


def _robots(page: _html.Page | None) -> tuple[RobotFileParser, str]:
    """The parser for the site's robots.txt and how it was read. As RFC 9309 says: a missing
    file (4xx) allows everything, an unreachable one (5xx, no answer) allows nothing."""
    from urllib.robotparser import RobotFileParser

    parser = RobotFileParser()
    if page is None or page.status >= 500:
        parser.parse(["User-agent: *", "Disallow: /"])
        return parser, "unreachable: nothing crawled"
    if page.status >= 400:
        parser.parse([])
        return parser, f"none ({page.status})"
    parser.parse(page.text().splitlines())
    return parser, "read"


def _locations(body: bytes, tool_name: str) -> tuple[list[str], list[str]]:
    """The page URLs and the nested sitemap URLs a sitemap (or sitemap index) lists."""
    etree = need("defusedxml.ElementTree", "web", tool_name)
    defused = need("defusedxml", "web", tool_name)
    if body[:2] == b"\x1f\x8b":
        try:
            body = zlib.decompressobj(wbits=31).decompress(body, _html.MAX_BODY)
        except zlib.error:
            return [], []
    try:
        root = etree.fromstring(body)
    except (etree.ParseError, defused.DefusedXmlException, ValueError):
        return [], []
    kind = root.tag.rpartition("}")[2]
    pages: list[str] = []
    nested: list[str] = []
    for entry in root:
        for child in entry:
            if child.tag.rpartition("}")[2] == "loc" and child.text and child.text.strip():
                (nested if kind == "sitemapindex" else pages).append(child.text.strip())
    return pages, nested


class Crawl:
    def __init__(self, env: ToolEnv, start: str, args: dict[str, Any], http: Any) -> None:
        from urllib.robotparser import RobotFileParser

        self.start = start
        self.home = _html.origin(start)
        self.http = http
        self.limit = _html.max_bytes(env.settings_for(NAME))
        self.max_pages = int(args.get("max_pages", 50))
        self.max_depth = int(args.get("max_depth", 2))
        self.pages: list[dict[str, Any]] = []
        self.skipped: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()
        self.queue: deque[tuple[str, int]] = deque()
        self.robots = RobotFileParser()
        self.delay = 0.0

    def skip(self, url: str, reason: str, detail: str | None = None) -> None:
        if url not in self.skipped and len(self.skipped) < MAX_SKIPPED:
            self.skipped[url] = {"url": url, "reason": reason} | (
                {"detail": detail} if detail else {}
            )

    def offer(self, url: str, depth: int) -> None:
        """Queue `url` unless seen, another site's, refused by robots.txt or too deep."""
        if url in self.seen or url in self.skipped:
            return
        if _html.origin(url) != self.home:
            self.skip(url, "external")
        elif not self.robots.can_fetch(AGENT, url):
            self.skip(url, "robots")
        elif depth > self.max_depth:
            self.skip(url, "limit", f"deeper than max_depth {self.max_depth}")
        else:
            self.seen.add(url)
            self.queue.append((url, depth))

    async def get(self, url: str, *, follow: bool = False) -> tuple[_html.Page | None, str]:
        """The page, or None and why (unreachable, timed out, rate limited). Only the policy's
        refusal raises: it is the caller's to see."""
        try:
            page = await _html.fetch(
                self.http, url, tool_name=NAME, limit=self.limit, follow=follow
            )
        except LLMSpellError as exc:
            if exc.code == ErrorCode.DENIED:
                raise
            return None, exc.message.removeprefix(f"{NAME}: ")
        return page, ""

    async def read_robots(self) -> str:
        scheme = self.start.split(":", 1)[0]
        host = urlsplit(self.start).netloc
        page, _ = await self.get(f"{scheme}://{host}/robots.txt", follow=True)
        self.robots, how = _robots(page)
        delay = self.robots.crawl_delay(AGENT)
        self.delay = min(float(delay), MAX_CRAWL_DELAY) if delay else 0.0
        return how

    async def read_sitemaps(self, given: str | None) -> list[str]:
        scheme = self.start.split(":", 1)[0]
        host = urlsplit(self.start).netloc
        todo = deque([given] if given else (self.robots.site_maps() or []))
        if not todo:
            todo.append(f"{scheme}://{host}/sitemap.xml")
        read: list[str] = []
        done: set[str] = set()
        while todo and len(done) < MAX_SITEMAPS:
            url = _html.absolute(self.start, todo.popleft() or "")
            if url is None or url in done:
                continue
            done.add(url)
            if _html.origin(url) != self.home:
                self.skip(url, "external")
                continue
            page, _ = await self.get(url, follow=True)
            if page is None or page.status != 200 or _html.origin(page.url) != self.home:
                continue
            read.append(url)
            pages, nested = _locations(page.body, NAME)
            todo.extend(nested)
            for found in pages:
                target = _html.absolute(url, found)
                if target is not None:
                    self.offer(target, 0)
        return read

    async def run(self, follow: bool) -> None:
        while self.queue:
            url, depth = self.queue.popleft()
            if len(self.pages) >= self.max_pages:
                self.skip(url, "limit", f"max_pages {self.max_pages} reached")
                for rest, _ in self.queue:
                    self.skip(rest, "limit", f"max_pages {self.max_pages} reached")
                self.queue.clear()
                return
            if self.pages and self.delay:
                await asyncio.sleep(self.delay)
            page, error = await self.get(url)
            entry: dict[str, Any] = {"url": url, "status": None, "title": None, "depth": depth}
            self.pages.append(entry)
            if page is None:
                entry["error"] = error
                continue
            entry["status"] = page.status
            if page.location:
                entry["redirect"] = page.location
                self.offer(page.location, depth)  # the same depth: the same link, moved
                continue
            if not page.is_html:
                entry["content_type"] = page.content_type
                continue
            doc = _html.parse(page.text(), NAME)
            entry["title"] = _html.metadata(doc, url)["title"]
            if follow and page.status < 400:
                found, _ = _html.links(doc, url)
                for link in found:
                    self.offer(link["url"], depth + 1)


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        from ..sandbox import network

        start = _html.check_url(NAME, args["url"])
        timeout = float(args.get("timeout", 10))
        async with network.client(env.sandbox.network, timeout=timeout) as http:
            crawl = Crawl(env, start, args, http)
            robots = await crawl.read_robots()
            crawl.offer(start, 0)
            sitemaps: list[str] = []
            if args.get("sitemap", True):
                sitemaps = await crawl.read_sitemaps(args.get("sitemap_url"))
            await crawl.run(args.get("follow_links", True))
        skipped = list(crawl.skipped.values())
        data = {
            "url": start,
            "robots": robots,
            "sitemaps": sitemaps,
            "pages": crawl.pages,
            "skipped": skipped,
            "skipped_truncated": len(skipped) >= MAX_SKIPPED,
        }
        if crawl.delay:
            data["crawl_delay"] = crawl.delay
        lines = [f"{len(crawl.pages)} pages from {start} (robots.txt: {robots})"]
        lines += [
            f"  [{p['depth']}] {p['status'] or '-'} {p['url']}"
            + (f" - {p['title']}" if p["title"] else "")
            for p in crawl.pages
        ]
        if skipped:
            reasons: dict[str, int] = {}
            for s in skipped:
                reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
            lines.append(
                f"skipped {len(skipped)}: " + ", ".join(f"{k} {v}" for k, v in reasons.items())
            )
        return answer("\n".join(lines), data)

    return tool(
        NAME,
        "Crawls one site: reads its sitemap.xml (and sitemap indexes) and follows its links "
        "breadth-first, honouring robots.txt, up to max_depth links from the start and "
        "max_pages pages. Returns the pages (url, status, title, depth) and what was skipped "
        "and why (robots, limit, external). Every request is checked by the network policy.",
        {
            "url": {
                "type": "string",
                "minLength": 1,
                "description": "The start page; the site is its host and port",
            },
            "sitemap": {
                "type": "boolean",
                "default": True,
                "description": "Read the sitemaps robots.txt names (else /sitemap.xml)",
            },
            "sitemap_url": {
                "type": "string",
                "minLength": 1,
                "description": "A sitemap to read instead of the ones robots.txt names",
            },
            "follow_links": {
                "type": "boolean",
                "default": True,
                "description": "Follow links within the site",
            },
            "max_depth": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "default": 2,
                "description": "Links followed from the start page and the sitemap's pages",
            },
            "max_pages": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000,
                "default": 50,
                "description": "Pages fetched at most",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 10,
                "description": "Seconds for each request",
            },
        },
        handle,
        required=["url"],
        annotations=Annotations(
            read_only=True, destructive=False, idempotent=True, open_world=True
        ),
    )
