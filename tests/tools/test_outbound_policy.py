"""The outbound policy through the web tools (not only the transport): the allow list, the
private-address rule, redirects into private space, and per-host rates under a burst.
Servers listen on 127.0.0.1 only; other addresses appear only as strings refused before any
connection is attempted."""

from __future__ import annotations

import asyncio
import time

import pytest
from llmspell.adapters.tools import register_builtins
from llmspell.gateway.tools_config import ToolsConfig
from llmspell.runtime import ErrorCode, LLMSpellError, Runtime
from llmspell.runtime.sandbox import NetworkPolicy, Sandbox
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from .test_web_a import serve


def under(policy: NetworkPolicy) -> Runtime:
    rt = Runtime()
    register_builtins(rt.catalog, Sandbox(network=policy))
    return rt


async def refusal(rt: Runtime, tool: str, **args: object) -> LLMSpellError:
    with pytest.raises(LLMSpellError) as info:
        await rt.call(tool, dict(args))
    return info.value


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def test_a_host_off_the_allow_list_is_refused() -> None:
    async with serve({"/": ok}) as server:
        rt = under(NetworkPolicy(allow=(f"127.0.0.1:{server.port}",)))
        err = await refusal(rt, "api-tester", url="http://example.com/")
        assert err.code == ErrorCode.DENIED
        assert err.message == (
            "api-tester: GET http://example.com/: outbound connection refused: example.com:80 "
            f"is not on the allow list (127.0.0.1:{server.port}); add it to [tools.network] "
            "allow in llmspell.toml"
        )
        other = await refusal(rt, "url-analyzer", url=f"http://127.0.0.1:{server.port + 1}/")
        assert other.code == ErrorCode.DENIED and "is not on the allow list" in other.message
        assert (await rt.call("api-tester", {"url": f"{server.base}/"})).data["body"] == "ok"
    assert len(server.arrivals) == 1


async def test_private_addresses_are_refused_by_default() -> None:
    async with serve({"/": ok}) as server:
        rt = under(NetworkPolicy())
        for tool in ("api-tester", "url-analyzer"):
            err = await refusal(rt, tool, url=f"{server.base}/")
            assert err.code == ErrorCode.DENIED
            assert "127.0.0.1 is a private address" in err.message
            assert f'add "127.0.0.1:{server.port}" to [tools.network] allow' in err.message
            err = await refusal(rt, tool, url="http://169.254.169.254/latest/meta-data/")
            assert err.code == ErrorCode.DENIED
            assert err.message.startswith(f"{tool}: ")
            assert "169.254.169.254 is a private address" in err.message
        err = await refusal(rt, "webhook-caller", url="http://[::1]:9/hook", payload={})
        assert err.code == ErrorCode.DENIED and "::1 is a private address" in err.message
    assert server.arrivals == []


async def test_a_redirect_into_private_space_is_refused() -> None:
    async def to_metadata(request: Request) -> Response:
        return RedirectResponse("http://10.0.0.1/admin", 302)

    async with serve({"/": ok}) as elsewhere:

        async def to_other_port(request: Request) -> Response:
            return RedirectResponse(f"{elsewhere.base}/", 301)

        async with serve({"/private": to_metadata, "/local": to_other_port}) as server:
            rt = under(NetworkPolicy(allow=(f"127.0.0.1:{server.port}",)))
            err = await refusal(rt, "url-analyzer", url=f"{server.base}/private")
            assert err.code == ErrorCode.DENIED
            assert err.message == (
                "url-analyzer: http://10.0.0.1/admin (redirect 1): outbound connection refused: "
                f"10.0.0.1:80 is not on the allow list (127.0.0.1:{server.port}); add it to "
                "[tools.network] allow in llmspell.toml"
            )
            err = await refusal(rt, "api-tester", url=f"{server.base}/local", follow_redirects=True)
            assert err.code == ErrorCode.DENIED
            assert f"127.0.0.1:{elsewhere.port} is not on the allow list" in err.message
            # without an allow list the private rule stops the hop
            open_rt = under(NetworkPolicy(allow=(f"127.0.0.1:{server.port}", "*")))
            err = await refusal(open_rt, "url-analyzer", url=f"{server.base}/private")
            assert "10.0.0.1 is a private address" in err.message
            # not followed, the redirect is just an answer
            result = await rt.call("api-tester", {"url": f"{server.base}/private"})
            assert result.data["status"] == 302
    assert elsewhere.arrivals == []


# -- per-host rates ----------------------------------------------------------------------------


async def test_a_per_host_rate_holds_under_a_burst() -> None:
    async with serve({"/": ok}) as server:
        entry = f"127.0.0.1:{server.port}"
        rt = under(NetworkPolicy(allow=(entry,), rate=((entry, 2, 1.0),)))
        start = time.monotonic()
        results = await asyncio.gather(
            *(rt.call("api-tester", {"url": f"{server.base}/"}) for _ in range(6))
        )
        elapsed = time.monotonic() - start
        arrived = [a.time - start for a in server.arrivals]
    assert [r.data["status"] for r in results] == [200] * 6
    assert len(arrived) == 6
    # a bucket of 2 draining at 2/s: 2 at once, then one every 0.5 s
    assert elapsed >= 1.9, arrived
    for t in arrived:  # in any one-second window: the burst of 2 plus 2 drained
        assert sum(t <= u < t + 0.98 for u in arrived) <= 4, arrived


async def test_a_wait_past_the_deadline_is_rate_limited() -> None:
    async with serve({"/": ok}) as server:
        entry = f"127.0.0.1:{server.port}"
        rt = under(NetworkPolicy(allow=(entry,), rate=(("127.0.0.*", 99, 1), (entry, 1, 10))))
        args: dict[str, object] = {"url": f"{server.base}/"}
        await rt.call("api-tester", args)  # the bucket's one slot
        start = time.monotonic()
        err = await refusal_within(rt, args, 0.4)
        assert 0.3 < time.monotonic() - start < 1.0  # it waited, up to the deadline
        assert err.code == ErrorCode.RATE_LIMITED
        assert err.message == (
            f"api-tester: GET {server.base}/: outbound requests to 127.0.0.1:{server.port} are "
            f"over their rate (1 per 10 s, [tools.network] rate '{entry}') and no turn comes "
            "before the call's deadline"
        )
        assert err.data["retry_after"] > 0

        # with another call already waiting, a short call fails at once
        waiting = asyncio.create_task(rt.call("api-tester", args, timeout=30))
        await asyncio.sleep(0.1)
        start = time.monotonic()
        err = await refusal_within(rt, args, 3)
        assert time.monotonic() - start < 0.5 and err.code == ErrorCode.RATE_LIMITED
        assert err.data["retry_after"] >= 5
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

        # the host's budget is shared by every tool
        with pytest.raises(LLMSpellError) as info:
            await rt.call("url-analyzer", args, timeout=0.2)
        assert info.value.code == ErrorCode.RATE_LIMITED
        assert info.value.message.startswith(f"url-analyzer: {server.base}/: outbound requests")
    assert len(server.arrivals) == 1


async def refusal_within(rt: Runtime, args: dict[str, object], seconds: float) -> LLMSpellError:
    with pytest.raises(LLMSpellError) as info:
        await rt.call("api-tester", args, timeout=seconds)
    return info.value


def test_rates_come_from_config_and_the_most_specific_entry_wins() -> None:
    config = ToolsConfig.model_validate(
        {
            "network": {
                "rate": {"*": "10/second", "api.github.com": "60/minute", "*.x.org": "5/hour"}
            }
        }
    )
    policy = config.sandbox([]).network
    assert policy.rate == (
        ("*", 10.0, 1.0),
        ("api.github.com", 60.0, 60.0),
        ("*.x.org", 5.0, 3600.0),
    )
    assert policy.rate_for("API.github.com.", 443) == ("api.github.com", 60.0, 60.0)
    assert policy.rate_for("a.x.org", 443) == ("*.x.org", 5.0, 3600.0)
    assert policy.rate_for("example.com", 80) == ("*", 10.0, 1.0)
    assert NetworkPolicy().rate_for("example.com", 80) is None
    with pytest.raises(ValidationError, match="write it as CALLS/PERIOD"):
        ToolsConfig.model_validate({"network": {"rate": {"*": "ten a second"}}})
    with pytest.raises(ValidationError, match="at least 1 request per period"):
        ToolsConfig.model_validate({"network": {"rate": {"*": "0.5/second"}}})
