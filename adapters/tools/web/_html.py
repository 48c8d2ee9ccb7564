"""What the page tools share: fetching a URL through the policy client under a size cap,
decoding and parsing HTML, readable Markdown, links and metadata, and rendering a page in a
headless Chromium whose every request goes through a local proxy that applies the policy.

lxml, readability-lxml, markdownify and defusedxml are the `web` extra: imported when a call
needs them (`need()`), so the tools list without them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from llmspell.runtime import ErrorCode, LLMSpellError

from .._common import need, refuse

MiB = 1024 * 1024
MAX_BODY = 5 * MiB
"""Bytes of a fetched body kept by default (`[tools.NAME] max_bytes`); the rest is not read."""
USER_AGENT = "llmspell-web/1.0 (+https://github.com/llmspell)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
DROPPED = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed")


def check_url(tool_name: str, url: str) -> str:
    """`url` when it is an absolute http(s) URL (fragment dropped), else a refusal."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise refuse(tool_name, f"{url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse(tool_name, f"{url!r} is not an http:// or https:// URL")
    return urldefrag(parts.geturl())[0]


def max_bytes(settings: Mapping[str, Any]) -> int:
    value = settings.get("max_bytes", MAX_BODY)
    return int(value) if isinstance(value, int) and value > 0 else MAX_BODY


def origin(url: str) -> tuple[str, int]:
    """Host and effective port: what decides whether two URLs are the same site."""
    parts = urlsplit(url)
    return (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))


def absolute(base: str, href: str) -> str | None:
    """`href` resolved against `base`, without its fragment; None unless http(s)."""
    try:
        url = urldefrag(urljoin(base, href.strip()))[0]
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


# -- fetching ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Page:
    url: str
    """The final URL, after redirects."""
    status: int
    reason: str
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool
    redirects: list[str] = field(default_factory=list)
    location: str | None = None
    """A redirect's target when redirects are not followed."""

    @property
    def is_html(self) -> bool:
        return self.content_type in HTML_TYPES or (
            not self.content_type and self.body.lstrip()[:1] == b"<"
        )

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith("text/") or self.content_type in (
            "application/json",
            "application/xml",
        )

    def text(self) -> str:
        """The body decoded: the header's charset, else a `<meta charset>`, else UTF-8."""
        declared = self.charset
        if declared is None and self.is_html:
            found = META_CHARSET.search(self.body[:4096])
            declared = found.group(1).decode("ascii") if found else None
        for encoding in (declared, "utf-8"):
            if encoding:
                with contextlib.suppress(LookupError):
                    return self.body.decode(encoding, errors="replace")
        return self.body.decode("utf-8", errors="replace")


def named(tool_name: str, exc: LLMSpellError) -> LLMSpellError:
    """The error with the tool's name in front, code and data kept (DENIED stays DENIED)."""
    if exc.message.startswith(f"{tool_name}: "):
        return exc
    return LLMSpellError(exc.code, f"{tool_name}: {exc.message}", data=exc.data)


async def fetch(http: Any, url: str, *, tool_name: str, limit: int, follow: bool = True) -> Page:
    """GET `url` with `http` (a policy client), keeping at most `limit` bytes of the body.
    A refusal by the policy raises DENIED; an unreachable or failing server UNAVAILABLE."""
    import httpx

    try:
        async with http.stream(
            "GET", url, follow_redirects=follow, headers={"User-Agent": USER_AGENT}
        ) as response:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                room = limit - len(body)
                body += chunk[:room]
                if len(chunk) > room:
                    truncated = True
                    break
            mime = response.headers.get("content-type", "")
            kind, _, params = mime.partition(";")
            charset = re.search(r"charset=[\"']?([\w.:-]+)", params, re.IGNORECASE)
            location = response.headers.get("location") if response.is_redirect else None
            return Page(
                url=str(response.url),
                status=response.status_code,
                reason=response.reason_phrase,
                content_type=kind.strip().lower(),
                charset=charset.group(1) if charset else None,
                body=bytes(body),
                truncated=truncated,
                redirects=[str(r.url) for r in response.history],
                location=absolute(str(response.url), location) if location else None,
            )
    except LLMSpellError as exc:
        raise named(tool_name, exc) from None
    except httpx.TimeoutException:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE, f"{tool_name}: {url} timed out", data={"url": url}
        ) from None
    except httpx.TooManyRedirects:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE, f"{tool_name}: {url} redirects too many times", data={"url": url}
        ) from None
    except httpx.HTTPError as exc:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{tool_name}: {url} is unreachable: {exc or type(exc).__name__}",
            data={"url": url},
        ) from None


# -- parsing -----------------------------------------------------------------------------------


def parse(html: str, tool_name: str) -> Any:
    """An lxml HTML document (never fetching anything it references)."""
    lxml_html = need("lxml.html", "web", tool_name)
    parser = lxml_html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8"), parser=parser)
    except Exception:  # lxml's ParserError on an empty document, and its kin
        return lxml_html.document_fromstring(b"<html><body></body></html>", parser=parser)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def metadata(doc: Any, url: str) -> dict[str, Any]:
    """Title, description, canonical URL, language, Open Graph and Twitter card fields."""
    found: dict[str, Any] = {"title": None, "description": None, "canonical": None}
    title = doc.find(".//title")
    if title is not None:
        found["title"] = _one_line(title.text_content()) or None
    found["language"] = doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang")
    og: dict[str, str] = {}
    twitter: dict[str, str] = {}
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = _one_line(meta.get("content"))
        equiv = (meta.get("http-equiv") or "").strip().lower()
        if equiv == "content-language" and not found["language"]:
            found["language"] = content or None
        if not key or not content:
            continue
        if key.startswith("og:"):
            og.setdefault(key[3:], content)
        elif key.startswith("twitter:"):
            twitter.setdefault(key[8:], content)
        elif key in ("description", "author", "keywords") and not found.get(key):
            found[key] = content
    for link in doc.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            found["canonical"] = absolute(url, link.get("href"))
            break
    found["language"] = _one_line(found["language"]) or None
    found["og"] = og
    if twitter:
        found["twitter"] = twitter
    return found


def base_url(doc: Any, url: str) -> str:
    base = doc.find(".//base[@href]")
    return absolute(url, base.get("href")) or url if base is not None else url


def links(doc: Any, url: str, limit: int = 1000) -> tuple[list[dict[str, Any]], bool]:
    """The page's http(s) links, absolute and without fragments, each once (first text kept),
    marked internal when on the page's own host and port; and whether the list was cut."""
    base = base_url(doc, url)
    home = origin(url)
    seen: dict[str, dict[str, Any]] = {}
    for anchor in doc.iter("a", "area"):
        href = anchor.get("href")
        target = absolute(base, href) if href else None
        if target is None:
            continue
        if target in seen:
            if not seen[target]["text"]:
                seen[target]["text"] = _one_line(anchor.text_content())
            continue
        if len(seen) >= limit:
            return list(seen.values()), True
        seen[target] = {
            "url": target,
            "text": _one_line(anchor.text_content()),
            "internal": origin(target) == home,
        }
        rel = (anchor.get("rel") or "").lower().split()
        if "nofollow" in rel:
            seen[target]["nofollow"] = True
    return list(seen.values()), False


def _markdown(html: str, tool_name: str) -> str:
    markdownify = need("markdownify", "web", tool_name)
    text = markdownify.markdownify(html, heading_style="ATX", strip=list(DROPPED))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def visible_markdown(doc: Any, tool_name: str) -> str:
    """The whole body as Markdown, without scripts, styles and other invisible parts."""
    lxml_html = need("lxml.html", "web", tool_name)
    body = doc.find(".//body")
    root = body if body is not None else doc
    for element in list(root.iter(*DROPPED)):
        element.drop_tree()
    return _markdown(lxml_html.tostring(root, encoding="unicode"), tool_name)


def readable(html: str, url: str, tool_name: str) -> tuple[str | None, str]:
    """Readability's main content as Markdown, and its title."""
    readability = need("readability", "web", tool_name)
    try:
        document = readability.Document(html, url=url)
        summary = document.summary(html_partial=True)
        title = _one_line(document.short_title()) or None
    except Exception:  # readability's Unparseable and lxml errors on odd markup
        return None, visible_markdown(parse(html, tool_name), tool_name)
    return title, _markdown(summary, tool_name)


# -- rendering ---------------------------------------------------------------------------------
