"""The console in a real browser: Debian's headless Chromium driven by Playwright against a live
gateway with a federated upstream and a Lua workflow (`conftest.console`). Log in, browse and
search the catalog, try tools (text, an image, a schema error), watch another client's call
arrive in the activity feed, watch an upstream go down and come back, and save a screenshot of
each page (checked not blank) under a temp directory."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from .conftest import ADMIN, VIEWER, Console

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WAIT = 10_000
"""Milliseconds a page may take to show what a test waits for."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():  # a failure, not a skip: CI must notice a missing browser
        pytest.fail("chromium is not installed: apt-get install chromium (make test does)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Under pytest's temp directory, or `$LLMSPELL_CONSOLE_SHOTS` (to refresh the docs' PNG)."""
    chosen = os.environ.get("LLMSPELL_CONSOLE_SHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("console-screenshots")


def log_in(page: Any, console: Console, key: str) -> None:
    page.goto(f"{console.ui}/catalog")
    page.wait_for_url("**/ui/login?next=/catalog")
    page.fill("#credential", key)
    page.click("button[type=submit]")


@pytest.fixture
def page(browser: Any, console: Console) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        opened = context.new_page()
        opened.set_default_timeout(WAIT)
        log_in(opened, console, ADMIN)
        opened.wait_for_url("**/ui/catalog")
        yield opened
    finally:
        context.close()


def not_blank(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as shot:
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} colours)"


def test_a_wrong_key_is_refused_and_the_right_one_logs_in(browser: Any, console: Console) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT)
        log_in(page, console, "wrong-key-wrong-key-wrong")
        assert "unknown API key" in page.locator("#login-error").inner_text()
        assert "/ui/login" in page.url
        assert not [c for c in context.cookies() if c["name"] == "llmspell_console"]
        page.fill("#credential", ADMIN)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/catalog")
        (cookie,) = [c for c in context.cookies() if c["name"] == "llmspell_console"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
        assert not cookie["secure"]  # plain http on loopback
        assert page.evaluate("document.cookie").find("llmspell_console") == -1  # HttpOnly
    finally:
        context.close()


def test_the_catalog_lists_every_kind_and_search_narrows_it(page: Any, shots: Path) -> None:
    rows = page.locator("#catalog tbody tr")
    names = rows.locator("td.name code").all_inner_texts()
    for expected in ("calculator", "image-processor", "peer.echo", "shout", "peer.greet"):
        assert expected in names, expected
    assert "peer://info" in names
    assert "MCP server peer" in page.locator("tr:has(code:text-is('peer.echo'))").inner_text()
    assert "script" in page.locator("tr:has(code:text-is('shout'))").inner_text()
    calculator = page.locator("tr:has(code:text-is('calculator'))")
    calculator.locator("details.schema summary").click()
    assert '"expression"' in calculator.locator("details.schema pre").first.inner_text()
    assert "read_only: true" in calculator.inner_text()  # its annotations
    page.screenshot(path=shots / "catalog.png", full_page=False)
    not_blank(shots / "catalog.png")
    total = rows.count()

    page.fill("#search", "peer.")
    visible = page.locator("#catalog tbody tr:visible")
    assert 0 < visible.count() < total
    assert all("peer" in n for n in visible.locator("td.name code").all_inner_texts())
    page.fill("#search", "")
    page.check("input[name=kind][value=workflow]")
    assert page.locator("#catalog tbody tr:visible td.name code").all_inner_texts() == ["shout"]


def test_try_it_runs_calculator_and_shows_a_schema_error(page: Any, shots: Path) -> None:
    page.goto(page.url.replace("/catalog", "/try/tool/calculator"))
    page.fill("[name='input.expression']", "2 ** 10")
    page.click("#run")
    page.wait_for_selector("#result[data-status='200']")
    assert "1024" in page.locator("#result").inner_text()
    page.screenshot(path=shots / "try.png")
    not_blank(shots / "try.png")

    page.fill("[name='input.expression']", "")  # required: the schema refuses it
    page.click("#run")
    page.wait_for_selector("#result[data-status='422']")
    assert "invalid_arguments" in page.locator("#result .code").inner_text()


def test_an_image_result_renders_inline(page: Any) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 40)).save(out, format="PNG")
    page.goto(page.url.replace("/catalog", "/try/tool/image-processor"))
    page.select_option("[name='input.operation']", label="resize")
    page.fill("[name='input.data']", base64.b64encode(out.getvalue()).decode())
    page.fill("[name='input.width']", "40")
    page.fill("[name='input.height']", "30")
    page.select_option("[name='input.keep_aspect']", "false")
    page.click("#run")
    page.wait_for_selector("#result")
    assert page.locator("#result img.media").count() == 1, page.locator("#result").inner_text()
    image = page.wait_for_selector("#result img.media")
    page.wait_for_function("document.querySelector('#result img.media').complete")
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [40, 30]


def test_a_workflow_runs_from_its_form(page: Any) -> None:
    page.goto(page.url.replace("/catalog", "/try/workflow/shout"))
    page.fill("[name='input.text']", "hello console")
    page.click("#run")
    page.wait_for_selector("#result[data-status='200']")
    assert "HELLO CONSOLE" in page.locator("#result").inner_text()


def test_a_form_post_without_the_csrf_token_is_refused(page: Any) -> None:
    page.goto(page.url.replace("/catalog", "/try/tool/calculator"))
    status = page.evaluate(
        """async () => (await fetch(location.href, {method: "POST",
             headers: {"Content-Type": "application/x-www-form-urlencoded"},
             body: "input.expression=1%2B1"})).status"""
    )
    assert status == 403


def mcp_call(console: Console) -> None:
    """Another client: `tools/call` over MCP with its own key, from its own thread and loop."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def call() -> None:
        async with (
            httpx.AsyncClient(headers={"X-API-Key": VIEWER}, timeout=20) as http,
            Client(streamable_http_client(console.running.url, http_client=http)) as client,  # type: ignore[arg-type]
        ):
            result = await client.call_tool("calculator", {"expression": "6*7"})
            assert not result.is_error

    asyncio.run(call())


def test_the_activity_feed_shows_another_clients_call(
    page: Any, console: Console, shots: Path
) -> None:
    page.goto(page.url.replace("/catalog", "/activity"))
    page.wait_for_selector("#feed-state:text('live')")
    failure: list[BaseException] = []

    def run() -> None:
        try:
            mcp_call(console)
        except BaseException as exc:  # reported below, on the test's thread
            failure.append(exc)

    caller = threading.Thread(target=run)
    caller.start()
    caller.join(30)
    assert not failure, failure
    called = time.monotonic()
    row = "#activity-rows tr:has(td:text-is('call.finished')):has(td:text-is('calculator'))"
    page.wait_for_selector(row, timeout=2000)
    assert time.monotonic() - called < 2.0
    assert "key:viewer" in page.locator(row).first.inner_text()
    page.fill("#activity-filter", "no-such-component")
    assert page.locator("#activity-rows tr:visible").count() == 0
    page.fill("#activity-filter", "")
    page.screenshot(path=shots / "activity.png")
    not_blank(shots / "activity.png")


def test_jobs_say_when_no_scheduler_runs(page: Any, shots: Path) -> None:
    page.goto(page.url.replace("/catalog", "/jobs"))
    assert "no_scheduler" in page.locator("main").inner_text()
    page.screenshot(path=shots / "jobs.png")
    not_blank(shots / "jobs.png")


def test_metrics_show_calls_per_component_and_charts(page: Any, shots: Path) -> None:
    page.goto(page.url.replace("/catalog", "/try/tool/calculator"))
    page.fill("[name='input.expression']", "1+1")
    page.click("#run")
    page.wait_for_selector("#result[data-status='200']")
    page.goto(page.url.replace("/try/tool/calculator", "/metrics"))
    row = page.locator("#metrics tr[data-name='calculator']")
    calls = int(row.locator("td").nth(1).inner_text())
    assert calls >= 1
    assert "ms" in row.locator("td").nth(3).inner_text()  # p50 since start
    # Two samples 5 s apart draw the charts (a flat line has no height: attached, not visible).
    page.wait_for_selector("#charts:not([hidden]) polyline", state="attached", timeout=12_000)
    assert "ms" in row.locator("td.recent").inner_text() or "no calls" in row.inner_text()
    page.screenshot(path=shots / "metrics.png")
    not_blank(shots / "metrics.png")


def test_an_upstream_killed_turns_down_and_recovers(
    page: Any, console: Console, shots: Path
) -> None:
    page.goto(page.url.replace("/catalog", "/upstreams"))
    page.wait_for_selector("tr[data-name='peer'][data-state='ready']")
    page.screenshot(path=shots / "upstreams.png")
    not_blank(shots / "upstreams.png")
    console.peer.kill()
    try:
        page.wait_for_selector("tr[data-name='peer'][data-state='down']", timeout=20_000)
    finally:
        console.peer.start()
    page.wait_for_selector("tr[data-name='peer'][data-state='ready']", timeout=30_000)
