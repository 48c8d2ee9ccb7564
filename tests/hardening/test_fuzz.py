"""Hostile JSON-RPC against one live gateway: wrong types in every field, huge ids, nesting deeper
than Python's own recursion limit (sent as raw text), odd unicode (lone surrogates, NULs, RTL
marks, invalid UTF-8), missing and stray fields, empty and huge batches, non-JSON bodies and wrong
Content-Types. Sent to MCP (handshake era with and without a session from a real `initialize`,
and the 2026-07-28 per-request path the SDK client uses) and to A2A (JSON-RPC at `/a2a/`,
HTTP+JSON at `/a2a/message:send`).

Every reply must be well formed: the JSON-RPC reply the input calls for (an error with a
standard, MCP or A2A code, or a result when the input happens to be valid), or a 4xx with a JSON
body when the input is refused at the HTTP level; never a 5xx, a hang or a dropped connection.
The gateway must keep serving: every `CHECK_EVERY` cases and at the end of each run a real
`calculator` call through the SDK client works and `/healthz` is 200.

Each request goes on a fresh connection, so a connection the gateway drops fails that one
request and the next starts clean. The default run is 2,000 cases; --run-slow adds a `slow`
variant of each test with five times as many (10,000 more).
"""

from __future__ import annotations

import json
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic_core
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mcp_types import JSONRPCNotification, JSONRPCRequest, jsonrpc_message_adapter
from mcpserver.conftest import RunningGateway, gateway
from pydantic import ValidationError

from .conftest import FUZZ_CONFIG, assert_serving, base_of, write_config

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

MAX_BODY = 65536  # FUZZ_CONFIG's [http] max_body
CHECK_EVERY = 250
MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
STANDARD_CODES = {-32700, -32600, -32601, -32602, -32603}
A2A_CODES = set(range(-32009, -32000))  # TaskNotFound (-32001) ... VersionNotSupported (-32009)


# -- what is sent --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text spliced into a body as it is: numbers Python cannot print, NaN, deep nesting."""

    text: str


def dump(value: Any, ascii_only: bool = True) -> str:
    """JSON text for `value`, with `Raw` pieces verbatim. With `ascii_only` false, strings go
    unescaped, so lone surrogates become invalid UTF-8 once encoded with surrogatepass."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{dump(v, ascii_only)}"
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def nested(kind: str, depth: int) -> Raw:
    """Arrays up to 100,000 deep (200 KB); objects up to 10,000 (50 KB)."""
    if kind == "[":
        return Raw("[" * depth + "]" * depth)
    depth = min(depth, 10_000)
    return Raw('{"a":' * depth + "0" + "}" * depth)


SURPRISES = (
    *("\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\x00", "\x7f", "\u202e", "\u200f"),
    *("\u2066", "\ufeff", "\uffff", "\U0010ffff", "😀", "e\u0301", "\r\n", "\\", '"', ""),
)
ALL_CHARACTERS = st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"])  # C: Cs too


def text(max_size: int = 24) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(ALL_CHARACTERS, max_size=max_size),
        st.sampled_from(SURPRISES),
        st.lists(st.sampled_from(SURPRISES), max_size=6).map("".join),
    )


LONG_TEXT = st.builds(
    operator.mul, st.sampled_from(("x", "\ud800", "\u202e", "\x00", "😀")), st.integers(500, 12_000)
)
TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-0", "1.0", "1E2", "0x10", "01", "+1", ".5")
RAW = st.one_of(
    st.sampled_from([Raw(t) for t in (*TOKENS, "'x'", "undefined", "tru", "nul")]),
    st.integers(20, 6_000).map(lambda n: Raw("9" * n)),  # over 4,300 digits: past Python's limit
    st.builds(
        nested,
        st.sampled_from("[{"),
        st.sampled_from((2, 64, 199, 200, 201, 256, 990, 1_001, 3_000, 10_000, 100_000)),
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(2**63, 2**256),
    st.integers(-(2**256), -(2**63)),
    st.floats(),  # NaN and the infinities come out as the non-JSON tokens NaN and Infinity
    text(),
    LONG_TEXT,
    RAW,
)
HOSTILE = st.recursive(
    SCALARS,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text(8), kids, max_size=4),
    max_leaves=8,
)
VALID_ID = st.integers(-(2**53), 2**53) | st.text(max_size=12)


@st.composite
def mostly(
    draw: Any, good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = HOSTILE, odds: int = 3
) -> Any:
    """`good` about `odds` times for each `bad` one (a weighted `one_of`: hypothesis drops the
    repeats from `one_of(good, good, good, bad)`)."""
    return draw(bad) if draw(st.integers(0, odds)) == odds else draw(good)


@st.composite
def envelope(draw: Any, methods: list[str], params: Callable[[str], Any]) -> dict[str, Any]:
    """A JSON-RPC message: each member usually right, sometimes hostile, sometimes missing."""
    method = draw(mostly(st.sampled_from(methods), odds=7))
    members: dict[str, Any] = {
        "jsonrpc": mostly(st.just("2.0"), odds=9),
        "id": mostly(VALID_ID, odds=7),
        "method": st.just(method),
        "params": mostly(params(method), odds=5) if isinstance(method, str) else HOSTILE,
    }
    message = {key: draw(s) for key, s in members.items() if draw(st.integers(0, 19)) < 19}
    if draw(st.integers(0, 19)) == 19:
        message[draw(text(8))] = draw(HOSTILE)
    return message


JUNK = (
    *(b"", b" ", b"{", b"}", b"[", b'{"jsonrpc":', b"\xff\xfe\x00", b"\x00" * 8, b"\t\r\n"),
    b"\xef\xbb\xbf{}",  # a UTF-8 BOM
    b"<?xml version='1.0'?><a/>",
    b"jsonrpc=2.0&id=1&method=ping",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",  # a gzip header
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}',
    b'{"jsonrpc":"2.0","jsonrpc":"1.0","id":1,"id":{},"method":"ping"}',
    b'"\\ud800"',
)
CONTENT_TYPES = (
    *(None, "", "text/plain", "application/json; charset=utf-8", "APPLICATION/JSON"),
    *("application/json-rpc", "application/x-www-form-urlencoded", "application/xml"),
    *("multipart/form-data; boundary=x", "application/problem+json", "text/json"),
    "application/json, text/plain",
)


@dataclass(frozen=True)
class Case:
    body: bytes
    content_type: str | None

    def headers(self, **extra: str) -> dict[str, str]:
        media = {} if self.content_type is None else {"Content-Type": self.content_type}
        return {**media, **extra}


@st.composite
def cases(draw: Any, messages: st.SearchStrategy[Any]) -> Case:
    other = st.sampled_from(("batch", "huge", "junk", "cut", "value"))
    kind = draw(mostly(st.just("one"), other, odds=5))
    if kind == "junk":
        body = draw(st.sampled_from(JUNK) | st.binary(max_size=48))
    else:
        ascii_only = draw(st.sampled_from((True, True, True, False)))
        if kind == "huge":  # one message many times over, up to about 300 KB
            one = dump(draw(messages), ascii_only)
            copies = min(draw(st.integers(50, 3_000)), max(1, 300_000 // max(len(one), 1)))
            encoded = "[" + ",".join([one] * copies) + "]"
        else:
            if kind == "one":
                value = draw(messages)
            elif kind == "batch":
                value = draw(st.lists(messages, max_size=5))
            else:
                value = draw(messages if kind == "cut" else HOSTILE)
            encoded = dump(value, ascii_only)
        body = encoded.encode("utf-8", "surrogatepass")
        if kind == "cut":
            body = body[: draw(st.integers(0, max(len(body) - 1, 0)))]
    content_type = draw(mostly(st.just("application/json"), st.sampled_from(CONTENT_TYPES), 9))
    return Case(body, content_type)


# -- MCP messages --------------------------------------------------------------------------------

MCP_METHODS = [
    *("ping", "tools/list", "tools/call", "tools/call", "tools/call", "initialize"),
    *("resources/list", "resources/read", "resources/templates/list", "prompts/list"),
    *("prompts/get", "completion/complete", "logging/setLevel", "resources/subscribe"),
    *("notifications/initialized", "notifications/cancelled", "notifications/progress"),
    *("notifications/roots/list_changed", "tasks/list", "nope/nope", ""),
]
TOOLS = ("calculator", "text-manipulator", "json-processor", "uuid-generator", "echoer", "nope")
EXPRESSIONS = ("1+1", "2**10", "sqrt(16)", "1/0", "9**9**9", "x", "(" * 60 + "1" + ")" * 60)
DICTS = st.dictionaries(text(8), HOSTILE, max_size=3)


def mcp_params(method: str) -> st.SearchStrategy[Any]:
    if method == "tools/call":
        calc = st.fixed_dictionaries(
            {"expression": mostly(st.sampled_from(EXPRESSIONS), text())},
            optional={"variables": HOSTILE},
        )
        return st.fixed_dictionaries(
            {"name": mostly(st.sampled_from(TOOLS), text()), "arguments": mostly(calc, DICTS)}
        )
    if method == "initialize":
        return st.fixed_dictionaries(
            {
                "protocolVersion": mostly(st.sampled_from((HANDSHAKE, "2024-11-05", MODERN))),
                "capabilities": mostly(st.just({})),
                "clientInfo": mostly(st.just({"name": "fuzz", "version": "1"})),
            }
        )
    if method == "logging/setLevel":
        return st.fixed_dictionaries({"level": mostly(st.sampled_from(("debug", "emergency")))})
    if method in ("resources/read", "resources/subscribe", "prompts/get"):
        uri = st.sampled_from(("file:///etc/passwd", "llmspell://x", "http://127.0.0.1:1/"))
        return st.fixed_dictionaries({"uri": mostly(uri, text()), "name": text()})
    if method == "notifications/cancelled":
        return st.fixed_dictionaries({"requestId": mostly(VALID_ID), "reason": text()})
    return st.one_of(st.just({}), DICTS)


MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def modern_params(method: str) -> st.SearchStrategy[Any]:
    """The 2026-07-28 path wants the protocol envelope in every request's `_meta`."""

    def with_meta(params: Any, meta: Any) -> Any:
        return {**params, "_meta": meta} if isinstance(params, dict) else params

    return st.builds(with_meta, mcp_params(method), mostly(st.just(MODERN_META)))


# -- A2A messages --------------------------------------------------------------------------------

A2A_METHODS = [
    *("SendMessage", "SendMessage", "SendMessage", "SendStreamingMessage", "GetTask"),
    *("ListTasks", "CancelTask", "SubscribeToTask", "GetExtendedAgentCard"),
    *("GetTaskPushNotificationConfig", "ListTaskPushNotificationConfigs"),
    *("DeleteTaskPushNotificationConfig", "message/send", "tasks/get", "NoSuchMethod"),
]
PART = st.one_of(
    st.fixed_dictionaries({"text": mostly(text())}),
    st.fixed_dictionaries({"data": HOSTILE}),
    st.fixed_dictionaries(
        {"raw": mostly(st.sampled_from(("AAAA", "!!!", ""))), "mediaType": mostly(text())}
    ),
    st.fixed_dictionaries({"url": mostly(st.sampled_from(("http://127.0.0.1:1/x", "data:,x")))}),
    HOSTILE,
)
A2A_MESSAGE = st.fixed_dictionaries(
    {
        "messageId": mostly(st.uuids().map(str)),
        "role": mostly(st.sampled_from(("ROLE_USER", "ROLE_AGENT", "ROLE_UNSPECIFIED", "user"))),
        "parts": mostly(st.lists(PART, min_size=1, max_size=3)),
    },
    optional={
        "contextId": text(),
        "taskId": text(),
        "metadata": mostly(
            st.fixed_dictionaries(
                {"skill": st.sampled_from(("echoer", "calculator", "text-manipulator", "nope"))}
            )
        ),
        "extensions": st.lists(text(), max_size=2),
    },
)
SEND_PARAMS = st.fixed_dictionaries(
    {"message": mostly(A2A_MESSAGE)},
    optional={
        "configuration": mostly(
            st.fixed_dictionaries(
                {},
                optional={"blocking": st.booleans(), "historyLength": mostly(st.integers())},
            )
        ),
        "metadata": HOSTILE,
    },
)


def a2a_params(method: str) -> st.SearchStrategy[Any]:
    if method in ("SendMessage", "SendStreamingMessage", "message/send"):
        return SEND_PARAMS
    if method in ("GetTask", "CancelTask", "SubscribeToTask", "tasks/get"):
        return st.fixed_dictionaries({"id": mostly(text())}, optional={"historyLength": HOSTILE})
    if method == "ListTasks":
        return st.fixed_dictionaries({}, optional={"pageSize": HOSTILE, "contextId": text()})
    return st.one_of(st.just({}), DICTS)


# -- what must come back -------------------------------------------------------------------------


def strict_json(data: bytes | str) -> Any:
    """JSON as RFC 8259 has it: NaN and Infinity in a reply are malformed."""

    def refuse(token: str) -> Any:
        raise ValueError(f"non-JSON token {token} in a reply")

    return json.loads(data, parse_constant=refuse)


def replies(response: httpx.Response) -> list[Any]:
    """The JSON-RPC messages of a JSON or an SSE reply."""
    media = response.headers.get("content-type", "")
    if media.startswith("text/event-stream"):
        # SSE ends lines with CR, LF or CRLF only: str.splitlines would also split on U+0085
        # or U+2028 inside the JSON.
        lines = re.split(r"\r\n|\r|\n", response.text)
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        return [strict_json(d) for d in data if d]
    assert media.startswith("application/json"), (response.status_code, media, response.text)
    return [strict_json(response.content)]


def valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_error(error: Any, codes: Callable[[int], bool]) -> int:
    assert isinstance(error, dict), error
    code, message = error.get("code"), error.get("message")
    assert isinstance(code, int) and not isinstance(code, bool), error
    assert isinstance(message, str), error
    assert codes(code), f"code {code} is neither standard nor the protocol's: {error}"
    return code


def mcp_code(code: int) -> bool:
    """Standard codes, and the server range where MCP puts its own (-32002, -32020, -32042)."""
    return code in STANDARD_CODES or -32099 <= code <= -32000


def a2a_code(code: int) -> bool:
    return code in STANDARD_CODES or code in A2A_CODES


def check_reply(message: Any, rid: Any, codes: Callable[[int], bool], loose_id: bool) -> str:
    """One JSON-RPC response: `jsonrpc`, the request's id (or null when `loose_id`), and
    exactly one of a result and a well-formed error. Returns what it was, for the tally."""
    assert isinstance(message, dict), message
    assert message.get("jsonrpc") == "2.0", message
    assert "id" in message, message
    if loose_id:
        assert message["id"] is None or message["id"] == rid, (message, rid)
    else:
        assert message["id"] == rid, (message, rid)
    assert ("result" in message) != ("error" in message), message
    if "error" in message:
        return f"error {check_error(message['error'], codes)}"
    return "result"


def refusal(response: httpx.Response, status: int, code: int = -32600) -> str:
    """A JSON-RPC error with a null id, sent with an HTTP error status."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    [message] = replies(response)
    check_reply(message, None, mcp_code, loose_id=False)
    assert message["error"]["code"] == code, message
    return f"{status} {code}"


def mcp_media_ok(content_type: str | None) -> bool:
    """application/json in any case, with any parameters (protocols/mcp/http.py)."""
    return (content_type or "").partition(";")[0].strip().lower() == "application/json"


def a2a_media_refused(content_type: str | None) -> bool:
    """protocols/a2a/server.py: JSON or +json is let through, and so is no type at all."""
    media = (content_type or "").partition(";")[0].strip().lower()
    return bool(media) and media != "application/json" and not media.endswith("+json")


UNPARSABLE = object()


def loads(body: bytes) -> Any:
    """The body as Python's json module reads it, or UNPARSABLE."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return UNPARSABLE


def nesting(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def capped(response: httpx.Response) -> str:
    """An oversize body on A2A: gateway/limits.py answers 413 in the HTTP+JSON error shape
    (AIP-193: `{"error": {"code": 413, "status": ..., "message": ...}}`)."""
    assert response.status_code == 413, (response.status_code, response.text[:300])
    body = strict_json(response.content)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and error.get("code") == 413, body
    assert isinstance(error.get("message"), str), body
    return "413"


# -- the runs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with gateway(config=write_config(tmp, FUZZ_CONFIG), cwd=tmp) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        yield client


def run(
    name: str,
    running: RunningGateway,
    strategy: st.SearchStrategy[Case],
    examples: int,
    check: Callable[[Case], str],
) -> Counter[str]:
    """`examples` hypothesis cases through `check`, the gateway checked as it goes."""
    tally: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(case: Case) -> None:
        tally[check(case)] += 1
        if tally.total() % CHECK_EVERY == 0:
            assert_serving(running.url)

    one()
    assert_serving(running.url)
    assert running.process.poll() is None
    print(f"\n{name}: {tally.total()} cases: {dict(tally.most_common())}")
    assert tally.total() >= examples
    return tally


def legacy_check(
    http: httpx.Client, url: str, session: dict[str, str] | None
) -> Callable[[Case], str]:
    """The handshake-era path: what the SDK's parser and message model say, precisely."""

    def check(case: Case) -> str:
        response = http.post(
            url, content=case.body, headers=case.headers(Accept=ACCEPT, **(session or {}))
        )
        assert response.status_code < 500, response.text
        if not mcp_media_ok(case.content_type):
            return refusal(response, 415)
        if len(case.body) > MAX_BODY:
            return refusal(response, 413)
        try:
            decoded = pydantic_core.from_json(case.body)  # the SDK's parser
        except ValueError:
            return refusal(response, 400, -32700)
        if not isinstance(decoded, dict):
            return refusal(response, 400)
        request = "method" in decoded and "id" in decoded
        if request and not valid_id(decoded["id"]):
            return refusal(response, 400)  # was 202: taken for a notification, never answered
        try:
            jsonrpc_message_adapter.validate_python(decoded, by_name=False)
        except ValidationError:
            assert response.status_code == 400, response.text
            [message] = replies(response)
            rid = decoded.get("id") if valid_id(decoded.get("id")) else None
            check_reply(message, rid, mcp_code, loose_id=False)
            assert message["error"]["code"] == -32600, message
            return "400 -32600"
        if session is None and not (request and decoded["method"] == "initialize"):
            return refusal(response, 400)  # no session
        if not request:
            assert response.status_code == 202, (response.status_code, response.text)
            assert response.content == b""
            return "202"
        assert response.status_code == 200, (response.status_code, response.text)
        [answer] = [m for m in replies(response) if "result" in m or "error" in m]
        outcome = check_reply(answer, decoded["id"], mcp_code, loose_id=False)
        opened = response.headers.get("mcp-session-id")
        if session is None and opened:
            closed = http.delete(url, headers={"mcp-session-id": opened, "Accept": ACCEPT})
            assert closed.status_code == 200, closed.text
        return outcome

    return check


@pytest.fixture(scope="module")
def session(fuzz_gateway: RunningGateway, http: httpx.Client) -> dict[str, str]:
    """The headers of a handshake-era session: a real initialize, then initialized."""
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE,
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "1"},
        },
    }
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    opened = http.post(fuzz_gateway.url, json=init, headers=headers)
    assert opened.status_code == 200, opened.text
    found = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": HANDSHAKE}
    done = http.post(
        fuzz_gateway.url,
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers={**headers, **found},
    )
    assert done.status_code == 202
    return found


def test_mcp_with_a_session(
    fuzz_gateway: RunningGateway, http: httpx.Client, session: dict[str, str], scale: int
) -> None:
    strategy = cases(envelope(MCP_METHODS, mcp_params))
    check = legacy_check(http, fuzz_gateway.url, session)
    run("MCP with a session", fuzz_gateway, strategy, 600 * scale, check)


def test_mcp_without_a_session(
    fuzz_gateway: RunningGateway, http: httpx.Client, scale: int
) -> None:
    """Only `initialize` may open a session; each one opened here is closed again."""
    strategy = cases(envelope(["initialize"] * 10 + MCP_METHODS, mcp_params))
    check = legacy_check(http, fuzz_gateway.url, None)
    run("MCP without a session", fuzz_gateway, strategy, 400 * scale, check)


def test_mcp_per_request_path(fuzz_gateway: RunningGateway, http: httpx.Client, scale: int) -> None:
    """2026-07-28: no session, the protocol envelope in `_meta` and routing headers."""
    url = fuzz_gateway.url

    def check(case: Case) -> str:
        decoded = loads(case.body)  # this path's parser
        routing = {"MCP-Protocol-Version": MODERN}
        if isinstance(decoded, dict):
            method, params = decoded.get("method"), decoded.get("params")
            if method == "subscriptions/listen":  # a stream that stays open by design
                return "skipped"
            if isinstance(method, str) and method.isascii() and method.isprintable():
                routing["Mcp-Method"] = method
            name = params.get("name") if isinstance(params, dict) else None
            if isinstance(name, str) and name.isascii() and name.isprintable():
                routing["Mcp-Name"] = name
        response = http.post(url, content=case.body, headers=case.headers(Accept=ACCEPT, **routing))
        assert response.status_code < 500, response.text
        if not mcp_media_ok(case.content_type):
            return refusal(response, 415)
        if len(case.body) > MAX_BODY:
            return refusal(response, 413)
        if decoded is UNPARSABLE:
            return refusal(response, 400, -32700)
        if response.status_code == 400 and nesting(case.body) >= 500:
            # json.loads recurses, so how deep it gets depends on how deep its caller's stack
            # already is: deeper in the gateway than here.
            [message] = replies(response)
            if message.get("error", {}).get("code") == -32700:
                return refusal(response, 400, -32700)
        if isinstance(decoded, dict) and "id" not in decoded:
            try:
                JSONRPCNotification.model_validate(decoded)
            except ValidationError:
                return refusal(response, 400)
            assert response.status_code == 202, (response.status_code, response.text)
            return "202"
        try:
            request = JSONRPCRequest.model_validate(decoded)
        except ValidationError:
            return refusal(response, 400)
        [answer] = [m for m in replies(response) if "result" in m or "error" in m]
        outcome = check_reply(answer, request.id, mcp_code, loose_id=False)
        if outcome == "result":
            assert response.status_code == 200, response.text
        else:
            assert response.status_code in (200, 400, 404), (response.status_code, response.text)
        return outcome

    strategy = cases(envelope(MCP_METHODS, modern_params))
    run("MCP 2026-07-28", fuzz_gateway, strategy, 300 * scale, check)


def test_a2a_jsonrpc(fuzz_gateway: RunningGateway, http: httpx.Client, scale: int) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/"

    def check(case: Case) -> str:
        response = http.post(url, content=case.body, headers=case.headers(**{"A2A-Version": "1.0"}))
        assert response.status_code < 500, response.text
        if len(case.body) > MAX_BODY:
            return capped(response)
        if a2a_media_refused(case.content_type):
            assert response.status_code == 415, response.text
            [message] = replies(response)
            check_reply(message, None, a2a_code, loose_id=False)
            assert message["error"]["code"] == -32005, message
            return "415 -32005"
        assert response.status_code == 200, (response.status_code, response.text)
        decoded = loads(case.body)
        rid = decoded.get("id") if isinstance(decoded, dict) else None
        outcomes = [
            check_reply(m, rid if valid_id(rid) else None, a2a_code, loose_id=True)
            for m in replies(response)
        ]
        assert outcomes, response.text
        return outcomes[-1] if len(outcomes) == 1 else f"stream of {min(len(outcomes), 5)}+"

    strategy = cases(envelope(A2A_METHODS, a2a_params))
    run("A2A JSON-RPC", fuzz_gateway, strategy, 450 * scale, check)


def test_a2a_http_json(fuzz_gateway: RunningGateway, http: httpx.Client, scale: int) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/message:send"

    def check(case: Case) -> str:
        response = http.post(url, content=case.body, headers=case.headers(**{"A2A-Version": "1.0"}))
        assert response.status_code < 500, response.text
        if len(case.body) > MAX_BODY:
            return capped(response)
        assert response.headers.get("content-type", "").startswith("application/json")
        body = strict_json(response.content)
        assert isinstance(body, dict), body
        if a2a_media_refused(case.content_type):
            assert response.status_code == 415, response.text
        if response.status_code == 200:
            assert body.keys() & {"task", "message"}, body
            return "200"
        assert 400 <= response.status_code < 500, response.text
        error = body.get("error")
        assert isinstance(error, dict), body
        assert error.get("code") == response.status_code, body
        assert isinstance(error.get("status"), str) and isinstance(error.get("message"), str), body
        return f"{response.status_code} {error['status']}"

    bodies = cases(mostly(SEND_PARAMS, st.one_of(HOSTILE, envelope(A2A_METHODS, a2a_params))))
    run("A2A HTTP+JSON", fuzz_gateway, bodies, 250 * scale, check)


# -- bugs the fuzz found in the A2A layer (fixed in protocols/a2a/http.py and executor.py) ----


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/a2a/", b'{"jsonrpc":"2.0","id":"\\ud800","method":"GetTask","params":{"id":"x"}}'),
        ("/a2a/message:send", b'{"message":null,"metadata":"\\ud800"}'),
    ],
)
def test_a2a_lone_surrogates_are_answered(
    fuzz_gateway: RunningGateway, http: httpx.Client, path: str, body: bytes
) -> None:
    url = f"{base_of(fuzz_gateway.url)}{path}"
    headers = {"Content-Type": "application/json", "A2A-Version": "1.0"}
    response = http.post(url, content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text


def test_a2a_http_json_nan_is_a_400(fuzz_gateway: RunningGateway, http: httpx.Client) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/message:send"
    body = b'{"message":{"messageId":"n","role":"ROLE_USER","parts":[{"data":{"x":NaN}}]}}'
    response = http.post(
        url, content=body, headers={"Content-Type": "application/json", "A2A-Version": "1.0"}
    )
    assert response.status_code == 400, (response.status_code, response.text)


@pytest.mark.parametrize(
    "message",
    [
        {"messageId": "a", "role": "ROLE_AGENT", "parts": [{"text": "hi"}]},
        {"messageId": "b", "role": "ROLE_USER", "parts": [{"text": "hi"}, {"text": ""}]},
    ],
)
def test_a2a_non_user_message_is_a_400(
    fuzz_gateway: RunningGateway, http: httpx.Client, message: dict[str, Any]
) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/message:send"
    response = http.post(url, json={"message": message}, headers={"A2A-Version": "1.0"})
    assert response.status_code == 400, (response.status_code, response.text)


def test_a2a_http_json_invalid_utf8_is_a_400(
    fuzz_gateway: RunningGateway, http: httpx.Client
) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/message:send"
    body = b'{"message":{"messageId":"u","role":"ROLE_USER","parts":[{"text":"\xff"}]}}'
    headers = {"Content-Type": "application/json", "A2A-Version": "1.0"}
    response = http.post(url, content=body, headers=headers)
    assert response.status_code == 400, (response.status_code, response.text)


def test_a2a_http_json_415_says_415(fuzz_gateway: RunningGateway, http: httpx.Client) -> None:
    url = f"{base_of(fuzz_gateway.url)}/a2a/message:send"
    part = {"raw": "AAAA", "mediaType": "video/x-nope"}
    message = {"messageId": "v", "role": "ROLE_USER", "parts": [part]}
    response = http.post(url, json={"message": message}, headers={"A2A-Version": "1.0"})
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == 415, response.text


def test_gateway_survived(fuzz_gateway: RunningGateway) -> None:
    assert fuzz_gateway.process.poll() is None
    assert_serving(fuzz_gateway.url)
