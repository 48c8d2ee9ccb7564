"""The network policy's decisions, and the transport that applies them to every request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from llmspell.adapters.tools.sandbox import network
from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.sandbox import NetworkPolicy, ProcessPolicy


def refusal(policy: NetworkPolicy, host: str, port: int = 443, *addresses: str) -> str:
    with pytest.raises(LLMSpellError) as info:
        policy.check(host, port, addresses)
    assert info.value.code == ErrorCode.DENIED
    return info.value.message


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "[::1]",
        "fe80::1%eth0",
    ],
)
def test_private_addresses_are_refused(address: str) -> None:
    assert "private address" in refusal(NetworkPolicy(), address)
    assert "private address" in refusal(NetworkPolicy(), "example.com", 443, "8.8.8.8", address)
    NetworkPolicy(allow_private=True).check(address, 443)


def test_public_addresses_pass() -> None:
    policy = NetworkPolicy()
    for address in ("8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        policy.check(address, 443)
    policy.check("example.com", 443, ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])


def test_the_refusal_says_how_to_allow() -> None:
    assert refusal(NetworkPolicy(), "db.local", 5432, "10.1.2.3") == (
        "outbound connection refused: db.local resolves to 10.1.2.3, which is a private "
        'address; add "db.local:5432" to [tools.network] allow or set allow_private = true '
        "to reach it"
    )
    assert '"[::1]:80"' in refusal(NetworkPolicy(), "::1", 80)


def test_allow_list_globs_and_ports() -> None:
    policy = NetworkPolicy(allow=("api.example.com", "*.trusted.org", "localhost:8080"))
    policy.check("API.example.com.", 443, ["93.184.215.14"])
    policy.check("a.b.trusted.org", 80, ["93.184.215.14"])
    policy.check("localhost", 8080, ["127.0.0.1"])  # exact entry: private allowed
    assert "not on the allow list" in refusal(policy, "example.com")
    assert "not on the allow list" in refusal(policy, "localhost", 8081)
    assert "not on the allow list" in refusal(policy, "trusted.org")
    # a glob lets the name through but never a private address behind it
    assert "private address" in refusal(policy, "evil.trusted.org", 443, "10.0.0.1")


def test_deny_list_wins() -> None:
    policy = NetworkPolicy(allow=("*.example.com",), deny=("admin.example.com", "*:25"))
    assert "on the deny list" in refusal(policy, "admin.example.com")
    assert "on the deny list" in refusal(policy, "mail.example.com", 25)
    policy.check("www.example.com", 443, ["93.184.215.14"])
    assert "deny list" in refusal(NetworkPolicy(deny=("[::1]:80",)), "::1", 80)


def test_process_policy_matches_exactly() -> None:
    policy = ProcessPolicy(allow=("git", "/usr/bin/ls"))
    assert policy.allows("git") and policy.allows("/usr/bin/ls")
    assert not policy.allows("/usr/bin/git") and not policy.allows("ls")
    assert not ProcessPolicy().allows("sh")


async def test_checked_refuses_before_resolving() -> None:
    with pytest.raises(LLMSpellError) as info:
        await network.checked(NetworkPolicy(deny=("*.invalid",)), "x.invalid", 80)
    assert "deny list" in info.value.message  # not a resolution failure: no query was sent
    assert await network.checked(NetworkPolicy(allow_private=True), "localhost", 80)
    with pytest.raises(LLMSpellError) as info:
        await network.checked(NetworkPolicy(), "localhost", 80)
    assert "localhost resolves to" in info.value.message


# -- the transport -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def redirecting(location: str) -> AsyncIterator[int]:
    """An HTTP server on 127.0.0.1 answering every request with a 302 to `location`."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


class Recording(httpx.AsyncBaseTransport):
    """Records what reaches the inner transport, i.e. what would open a connection."""

    def __init__(self) -> None:
        self.inner = network.PolicyTransport(NetworkPolicy(allow_private=True))
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(str(request.url))
        return await self.inner.handle_async_request(request)


async def test_a_redirect_to_a_private_address_is_refused_before_connecting() -> None:
    async with redirecting("http://10.0.0.1/admin") as port:
        recording = Recording()
        policy = NetworkPolicy(allow=(f"127.0.0.1:{port}",))
        transport = network.PolicyTransport(policy, inner=recording)
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as http:
            with pytest.raises(LLMSpellError) as info:
                await http.get(f"http://127.0.0.1:{port}/start")
        assert info.value.code == ErrorCode.DENIED
        assert "10.0.0.1:80 is not on the allow list" in info.value.message
        assert recording.sent == [f"http://127.0.0.1:{port}/start"]

        # with no allow list, the private rule refuses the hop
        async with network.client(NetworkPolicy(), follow_redirects=True) as http:
            with pytest.raises(LLMSpellError) as info:
                await http.get(f"http://127.0.0.1:{port}/start")
            assert "127.0.0.1 is a private address" in info.value.message


async def test_the_policy_client_follows_an_allowed_redirect_and_stops_at_a_private_one() -> None:
    async with redirecting("http://169.254.169.254/latest/meta-data/") as port:
        policy = NetworkPolicy(allow=(f"127.0.0.1:{port}", "169.254.169.254:80"), deny=())
        glob_only = NetworkPolicy(allow=(f"127.0.0.1:{port}", "169.254.169.*"))
        async with network.client(glob_only, follow_redirects=True) as http:
            with pytest.raises(LLMSpellError) as info:
                await http.get(f"http://127.0.0.1:{port}/")
            assert "169.254.169.254 is a private address" in info.value.message
        async with network.client(policy, follow_redirects=False) as http:
            response = await http.get(f"http://127.0.0.1:{port}/")
            assert response.status_code == 302


def test_client_keeps_its_transport() -> None:
    with pytest.raises(TypeError):
        network.client(NetworkPolicy(), transport=httpx.AsyncHTTPTransport())


async def test_connections_go_to_the_checked_address() -> None:
    """The default transport's connect step resolves and checks again, then connects to the
    address it checked, not to whatever a second lookup would return (DNS rebinding)."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        transport = network.PolicyTransport(NetworkPolicy(allow_private=True))
        backend = transport.inner._pool._network_backend  # type: ignore[attr-defined]
        stream = await backend.connect_tcp("localhost", port)
        assert stream.get_extra_info("server_addr")[:2] == ("127.0.0.1", port)
        await stream.aclose()
        strict = network.PolicyTransport(NetworkPolicy())
        backend = strict.inner._pool._network_backend  # type: ignore[attr-defined]
        with pytest.raises(LLMSpellError) as info:
            await backend.connect_tcp("localhost", port)
        assert "localhost resolves to 127.0.0.1" in info.value.message
