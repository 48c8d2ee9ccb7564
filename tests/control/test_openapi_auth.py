"""The control API behind `[auth]` as `/mcp` is, with the token's subject as the caller the
policy sees; and its OpenAPI document, valid and listing exactly the routes served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from llmspell.gateway import api
from llmspell.runtime import Runtime
from mcpserver.conftest import RunningGateway, gateway
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

CI, OTHER = "ci-key-0123456789abcdef", "other-key-0123456789abcdef"
CONFIG = f"""
name = "secured"

[a2a]
enabled = false

[auth.api_keys.ci]
key = "{CI}"

[auth.api_keys.other]
key = "{OTHER}"

[[policy.rules]]
effect = "deny"
components = ["calculator"]
subjects = ["key:other"]
"""


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    folder: Path = tmp_path_factory.mktemp("secured")
    (folder / "llmspell.toml").write_text(CONFIG)
    with gateway(config=folder / "llmspell.toml", cwd=folder) as running:
        yield running


def base(running: RunningGateway) -> str:
    return running.url.removesuffix("/mcp")


def test_no_token_is_401_as_on_mcp(secured: RunningGateway) -> None:
    root = base(secured)
    mcp = httpx.post(secured.url, json={})
    assert mcp.status_code == 401
    for path in ("/api/v1/components", "/api/v1/jobs", "/api/v1/openapi.json"):
        refused = httpx.get(f"{root}{path}")
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"] == mcp.headers["www-authenticate"]
    called = httpx.post(f"{root}/api/v1/tools/calculator", json={"input": {"expression": "1"}})
    assert called.status_code == 401
    wrong = httpx.get(f"{root}/api/v1/components", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


def test_a_good_token_works_and_is_the_caller(secured: RunningGateway) -> None:
    root = f"{base(secured)}/api/v1"
    body = {"input": {"expression": "2+2"}}
    ci = httpx.post(
        f"{root}/tools/calculator", json=body, headers={"Authorization": f"Bearer {CI}"}
    )
    assert ci.status_code == 200, ci.text
    assert ci.json()["text"] == "4"
    # The policy denies calculator to key:other only, so the subject is the token's.
    other = httpx.post(f"{root}/tools/calculator", json=body, headers={"X-API-Key": OTHER})
    assert other.status_code == 403, other.text
    assert "key:other may not call" in other.json()["error"]["message"]
    listed = httpx.get(f"{root}/components", headers={"X-API-Key": OTHER}).json()
    assert "calculator" not in {c["name"] for c in listed}
    assert "calculator" in {
        c["name"] for c in httpx.get(f"{root}/components", headers={"X-API-Key": CI}).json()
    }


def served_operations() -> set[tuple[str, str]]:
    """Every (METHOD, path) the API's mount routes, as the gateway mounts it."""
    mount = api.mount(Runtime(), None, title="t", version="0")
    assert isinstance(mount, Mount)
    found = set()
    for route in mount.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, f"{mount.path}{route.path}"))
    return found


def documented(document: dict[str, object]) -> set[tuple[str, str]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {(m.upper(), p) for p, item in paths.items() for m in item}


def test_the_openapi_document_validates_and_matches_the_routes(secured: RunningGateway) -> None:
    root = base(secured)
    document = httpx.get(f"{root}/api/v1/openapi.json", headers={"X-API-Key": CI}).json()
    validate(document)  # OpenAPI 3.1, by openapi-spec-validator
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    assert document["servers"] == [{"url": root}]
    served = served_operations()
    assert len(served) == 11
    assert documented(document) == served
    # And the running gateway serves each of them (no router 404 for any path).
    for method, path in served:
        url = f"{root}{path.replace('{name}', 'missing')}"
        reply = httpx.request(method, url, headers={"X-API-Key": CI}, json={"input": {}})
        assert reply.status_code != 405, (method, path)
        body = reply.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        assert error.get("code") != "not_found", (method, path)


def test_without_auth_the_document_declares_no_security() -> None:
    document = api.openapi.document(title="open", version="1")
    validate(document)
    assert "securitySchemes" not in document["components"]
    assert "security" not in document
    responses = document["paths"]["/api/v1/tools/{name}"]["post"]["responses"]
    assert {"200", "400", "403", "404", "413", "422", "504"} <= set(responses)
    assert "401" not in responses
