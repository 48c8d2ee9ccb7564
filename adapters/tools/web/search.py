"""`web-search`: one result shape ([{title, url, snippet}]) over the provider the operator
chose in `[tools.web-search]`:

    [tools.web-search]
    provider = "duckduckgo"   # or "searxng", "brave", "tavily"
    url = "https://search.example.org"   # base URL: required for searxng, else an override
    api_key = "..."           # brave, tavily; or BRAVE_API_KEY / TAVILY_API_KEY

The key comes from config or the environment, never from a call, and never appears in a
result, a log line or an error message. Every request goes through the network policy.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, need, tool
from ..env import ToolEnv

NAME = "web-search"
PROVIDERS = ("duckduckgo", "searxng", "brave", "tavily")
DEFAULT_URLS = {
    "duckduckgo": "https://html.duckduckgo.com",
    "brave": "https://api.search.brave.com",
    "tavily": "https://api.tavily.com",
}
KEY_VARIABLES = {"brave": "BRAVE_API_KEY", "tavily": "TAVILY_API_KEY"}
MAX_RESULTS = 50
MAX_TIMEOUT = 60.0
MAX_BODY = 5 * 1024 * 1024
USER_AGENT = "Mozilla/5.0 (compatible; llmspell web-search)"
_TAG = re.compile(r"<[^>]+>")


def _plain(text: Any) -> str:
    """Provider snippets carry markup (`<strong>`) and entities: plain text, one line."""
    return " ".join(html.unescape(_TAG.sub("", str(text or ""))).split())


def _hit(title: Any, url: Any, snippet: Any) -> dict[str, str]:
    return {"title": _plain(title), "url": str(url or ""), "snippet": _plain(snippet)}


def _not_configured(message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.NOT_CONFIGURED, f"{NAME}: {message}")


class _Provider:
    def __init__(self, settings: Mapping[str, Any], env: ToolEnv) -> None:
        self.name = str(settings.get("provider", "duckduckgo")).lower()
        if self.name not in PROVIDERS:
            raise _not_configured(
                f"unknown provider {self.name!r} in [tools.{NAME}] (one of {', '.join(PROVIDERS)})"
            )
        base = settings.get("url") or DEFAULT_URLS.get(self.name)
        if not base:
            raise _not_configured(f"set [tools.{NAME}] url to the {self.name} instance to use")
        self.base = str(base).rstrip("/")
        self.key: str | None = None
        if self.name in KEY_VARIABLES:
            variable = KEY_VARIABLES[self.name]
            self.key = env.credential(NAME, "api_key", variable)
            if not self.key:
                raise _not_configured(
                    f"{self.name} needs an API key: set [tools.{NAME}] api_key or {variable}"
                )


def _json(body: bytes, provider: str) -> Any:
    import json

    try:
        return json.loads(body)
    except ValueError:
        raise LLMSpellError(
            ErrorCode.PROVIDER_ERROR, f"{NAME}: {provider} answered with something not JSON"
        ) from None


def _searxng(data: Any) -> list[dict[str, str]]:
    rows = data.get("results", []) if isinstance(data, dict) else []
    return [_hit(r.get("title"), r.get("url"), r.get("content")) for r in rows if r.get("url")]


def _brave(data: Any) -> list[dict[str, str]]:
    web = data.get("web", {}) if isinstance(data, dict) else {}
    rows = web.get("results", []) if isinstance(web, dict) else []
    return [_hit(r.get("title"), r.get("url"), r.get("description")) for r in rows if r.get("url")]


def _tavily(data: Any) -> list[dict[str, str]]:
    rows = data.get("results", []) if isinstance(data, dict) else []
    return [_hit(r.get("title"), r.get("url"), r.get("content")) for r in rows if r.get("url")]


def _class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _ddg_url(href: str) -> str:
    """DuckDuckGo links go through its redirector (`//duckduckgo.com/l/?uddg=<target>`)."""
    parts = urlsplit(href)
    if parts.path.startswith("/l/"):
        target = parse_qs(parts.query).get("uddg")
        if target:
            return target[0]
    return "https:" + href if href.startswith("//") else href


def _duckduckgo(body: bytes) -> list[dict[str, str]]:
    lxml_html = need("lxml.html", "web", NAME)
    if not body.strip():
        return []
    document = lxml_html.document_fromstring(body)
    found = []
    for result in document.xpath(f"//div[{_class('result')}]"):
        if result.xpath(f"self::*[{_class('result--ad')}]"):
            continue
        links = result.xpath(f".//a[{_class('result__a')}]")
        if not links or not links[0].get("href"):
            continue
        snippets = result.xpath(f".//*[{_class('result__snippet')}]")
        snippet = snippets[0].text_content() if snippets else ""
        found.append(_hit(links[0].text_content(), _ddg_url(links[0].get("href")), snippet))
    return found


async def _search(
    provider: _Provider, env: ToolEnv, query: str, count: int, seconds: float
) -> list[dict[str, str]]:
    import httpx

    from ..sandbox import network  # httpx only when a search runs

    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    request: dict[str, Any]
    if provider.name == "searxng":
        request = {"method": "GET", "url": "/search", "params": {"q": query, "format": "json"}}
    elif provider.name == "brave":
        assert provider.key is not None
        headers["X-Subscription-Token"] = provider.key
        params = {"q": query, "count": min(count, 20)}
        request = {"method": "GET", "url": "/res/v1/web/search", "params": params}
    elif provider.name == "tavily":
        headers["Authorization"] = f"Bearer {provider.key}"
        body = {"query": query, "max_results": min(count, 20)}
        request = {"method": "POST", "url": "/search", "json": body}
    else:
        headers["Accept"] = "text/html"
        request = {"method": "POST", "url": "/html/", "data": {"q": query}}
    secrets = [provider.key]
    try:
        async with (
            asyncio.timeout(network.seconds_left(seconds)),
            network.client(
                env.sandbox.network,
                base_url=provider.base,
                headers=headers,
                timeout=network.seconds_left(seconds),
                follow_redirects=True,
            ) as http,
            http.stream(**request) as response,
        ):
            body_bytes, _ = await network.read_capped(response, MAX_BODY)
    except TimeoutError:
        raise LLMSpellError(
            ErrorCode.TIMEOUT, f"{NAME}: {provider.name} did not answer within {seconds}s"
        ) from None
    except (httpx.HTTPError, LLMSpellError) as exc:
        raise network.failure(NAME, exc, secrets, what=f"{provider.name}:") from None
    except httpx.InvalidURL:
        raise _not_configured(f"[tools.{NAME}] url is not a URL") from None
    if response.status_code >= 400:
        detail = network.scrub(_plain(body_bytes[:300].decode("utf-8", "replace")), secrets)
        code = ErrorCode.RATE_LIMITED if response.status_code == 429 else ErrorCode.PROVIDER_ERROR
        if response.status_code in (401, 403):
            detail = "the API key was refused" + (f" ({detail})" if detail else "")
        raise LLMSpellError(
            code,
            f"{NAME}: {provider.name} answered {response.status_code}"
            + (f": {detail}" if detail else ""),
            data={"status": response.status_code, "provider": provider.name},
        )
    if provider.name == "duckduckgo":
        hits = _duckduckgo(body_bytes)
    else:
        data = _json(body_bytes, provider.name)
        hits = {"searxng": _searxng, "brave": _brave, "tavily": _tavily}[provider.name](data)
    return [
        {k: network.scrub(v, secrets) for k, v in hit.items()} for hit in hits[:count]
    ]  # a provider that echoes the key still does not hand it on


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        provider = _Provider(env.settings_for(NAME), env)
        query = args["query"]
        count = int(args.get("max_results", 10))
        hits = await _search(provider, env, query, count, float(args.get("timeout", 20.0)))
        lines = [f"{len(hits)} result(s) for {query!r} ({provider.name})"]
        lines += [
            f"{i}. {h['title']} <{h['url']}>\n   {h['snippet']}" for i, h in enumerate(hits, 1)
        ]
        return answer(
            "\n".join(lines), {"query": query, "provider": provider.name, "results": hits}
        )

    return tool(
        NAME,
        "Searches the web and returns [{title, url, snippet}] from the provider configured in "
        "[tools.web-search] (DuckDuckGo by default; SearXNG, Brave or Tavily).",
        {
            "query": {"type": "string", "minLength": 1, "maxLength": 2000},
            "max_results": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "default": 10,
                "description": "At most this many results (Brave and Tavily give 20 at most)",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 20,
                "description": "Seconds for the search",
            },
        },
        handle,
        required=["query"],
        annotations=Annotations(
            read_only=True, destructive=False, idempotent=True, open_world=True
        ),
        output_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "provider": {"type": "string"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "title": {"type": "string"},
                            "url": {"type": "string"},
                            "snippet": {"type": "string"},
                        },
                        "required": ["title", "url", "snippet"],
                    },
                },
            },
            "required": ["query", "provider", "results"],
        },
    )
