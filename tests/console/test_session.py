"""The console's login, cookie and CSRF rules over plain HTTP against a live gateway: what a
browser cannot be trusted to show (a cookie's flags, a forged post, the cookie outside `/ui`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from mcpserver.conftest import gateway

from .conftest import ADMIN, HIDDEN, VIEWER, Console


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@contextmanager
def logged_in(console: Console, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console.ui, timeout=30) as client:
        form = client.get("/login")
        data = {"csrf": csrf_of(form), "credential": key, "next": "/catalog"}
        reply = client.post("/login", data=data)
        assert reply.status_code == 303, reply.text
        yield client


@pytest.fixture
def admin(console: Console) -> Iterator[httpx.Client]:
    with logged_in(console, ADMIN) as client:
        yield client


def test_a_page_without_a_session_redirects_to_the_login(console: Console) -> None:
    reply = httpx.get(f"{console.ui}/catalog", headers={"Accept": "text/html"})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/ui/login?next=/catalog"
    assert httpx.get(f"{console.ui}/catalog").status_code == 401  # not a page: no redirect


def test_the_login_cookie_is_httponly_strict_and_kept_to_the_console(console: Console) -> None:
    with httpx.Client(base_url=console.ui) as client:
        token = csrf_of(client.get("/login"))
        reply = client.post("/login", data={"csrf": token, "credential": ADMIN})
    assert reply.status_code == 303
    cookie = next(
        v for k, v in reply.headers.multi_items() if k == "set-cookie" and "console=" in v
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/ui"} <= flags, cookie
    assert "secure" not in flags  # plain http on loopback: a Secure cookie would never return


def test_a_wrong_key_is_refused_and_sets_no_session(console: Console) -> None:
    with httpx.Client(base_url=console.ui) as client:
        token = csrf_of(client.get("/login"))
        reply = client.post("/login", data={"csrf": token, "credential": "not-a-key-at-all"})
        assert reply.status_code == 401
        assert "unknown API key" in reply.text
        assert "llmspell_console" not in client.cookies
        assert client.get("/catalog").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(admin: httpx.Client) -> None:
    page = admin.get("/try/tool/calculator")
    assert page.status_code == 200
    forged = admin.post("/try/tool/calculator", data={"input.expression": "1+1"})
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf"
    wrong = admin.post("/try/tool/calculator", data={"csrf": "x" * 43, "input.expression": "1"})
    assert wrong.status_code == 403
    made = admin.post(
        "/try/tool/calculator", data={"csrf": csrf_of(page), "input.expression": "6*7"}
    )
    assert made.status_code == 200 and "42" in made.text


def test_the_cookie_opens_only_the_console(console: Console, admin: httpx.Client) -> None:
    session = admin.cookies["llmspell_console"]
    api = httpx.get(
        f"{console.base}/api/v1/components", headers={"Cookie": f"llmspell_console={session}"}
    )
    assert api.status_code == 401
    assert admin.get("/catalog").status_code == 200


def test_a_hidden_tool_is_not_listed_and_cannot_be_tried(console: Console) -> None:
    with logged_in(console, VIEWER) as viewer, logged_in(console, ADMIN) as admin:
        assert f"<code>{HIDDEN}</code>" not in viewer.get("/catalog").text
        assert f"<code>{HIDDEN}</code>" in admin.get("/catalog").text
        assert viewer.get(f"/try/tool/{HIDDEN}").status_code == 404
        token = csrf_of(viewer.get("/try/tool/calculator"))
        refused = viewer.post(f"/try/tool/{HIDDEN}", data={"csrf": token, "input.text": "a"})
        assert refused.status_code == 404


def test_headers_still_work_for_the_console(console: Console) -> None:
    reply = httpx.get(f"{console.ui}/upstreams", headers={"X-API-Key": ADMIN})
    assert reply.status_code == 200, console.running.output()[-3000:]
    assert 'data-name="peer"' in reply.text


def test_without_auth_the_console_is_open_but_still_wants_csrf(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text('name = "open"\n[a2a]\nenabled = false\n')
    with (
        gateway(config=config, cwd=tmp_path) as running,
        httpx.Client(base_url=running.url.removesuffix("/mcp") + "/ui", timeout=30) as client,
    ):
        page = client.get("/catalog")
        assert page.status_code == 200 and "<code>calculator</code>" in page.text
        assert (
            client.post("/try/tool/calculator", data={"input.expression": "1"}).status_code == 403
        )
        token = csrf_of(client.get("/try/tool/calculator"))
        done = client.post("/try/tool/calculator", data={"csrf": token, "input.expression": "2**5"})
        assert "32" in done.text


def test_logging_out_forgets_the_session(console: Console) -> None:
    with logged_in(console, ADMIN) as client:
        page = client.get("/catalog")
        assert page.status_code == 200
        out = client.post("/logout", data={"csrf": csrf_of(page)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert "llmspell_console" not in client.cookies
        assert client.get("/catalog").status_code == 401
