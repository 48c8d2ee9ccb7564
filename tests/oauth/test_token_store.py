"""The token vault on a real SQLite state store: sealed at rest, bound to its server, keyed from
config, the environment or a 0600 key file, and honest about expiry after a restart."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from llmspell.adapters.state import SqliteStateStore
from llmspell.gateway.config import GatewayConfig
from llmspell.gateway.oauth_config import key_file, vault_for
from llmspell.protocols.mcp.token_store import (
    KEY_ENV,
    SCOPE,
    TokenKeyError,
    TokenVault,
    load_key,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

ACCESS = "access-" + "x" * 30
REFRESH = "refresh-" + "y" * 30
SECRET = "secret-" + "z" * 30


async def test_tokens_and_client_round_trip_sealed(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = SqliteStateStore(db)
    vault = TokenVault(store, Fernet.generate_key())
    storage = vault.storage("github")
    assert await storage.get_tokens() is None
    assert (await vault.status("github")).describe() == "needs login"
    await storage.set_tokens(OAuthToken(access_token=ACCESS, refresh_token=REFRESH, expires_in=60))
    await storage.set_client_info(
        OAuthClientInformationFull(
            client_id="cid", client_secret=SECRET, redirect_uris=["http://127.0.0.1:1/callback"]
        )
    )
    tokens = await storage.get_tokens()
    assert tokens is not None and tokens.access_token == ACCESS
    assert tokens.refresh_token == REFRESH
    assert tokens.expires_in is not None and 58 <= tokens.expires_in <= 60
    client = await storage.get_client_info()
    assert client is not None and client.client_secret == SECRET
    status = await vault.status("github")
    assert status.state == "authorized" and status.refreshable
    assert status.describe().startswith("authorized, expires in ")
    await store.aclose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert SCOPE.encode() in raw
    for secret in (ACCESS, REFRESH, SECRET):
        assert secret.encode() not in raw


async def test_expiry_counts_down_across_a_restart(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    store = SqliteStateStore(tmp_path / "state.db")
    await (
        TokenVault(store, key)
        .storage("s")
        .set_tokens(OAuthToken(access_token=ACCESS, refresh_token=REFRESH, expires_in=1))
    )
    await store.aclose()
    await asyncio.sleep(1.1)
    store = SqliteStateStore(tmp_path / "state.db")
    vault = TokenVault(store, key)
    tokens = await vault.storage("s").get_tokens()
    assert tokens is not None and tokens.expires_in == 0  # not the 1 s it was issued with
    assert (await vault.status("s")).state == "expired"
    await vault.storage("s").clear_tokens()
    assert await vault.storage("s").get_tokens() is None
    assert await vault.forget("s") is True
    assert await vault.forget("s") is False
    await store.aclose()


async def test_another_key_or_another_servers_record_is_refused(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    await (
        TokenVault(store, Fernet.generate_key())
        .storage("a")
        .set_tokens(OAuthToken(access_token=ACCESS))
    )
    other = TokenVault(store, Fernet.generate_key())
    with pytest.raises(TokenKeyError, match="sealed with another key"):
        await other.storage("a").get_tokens()
    await other.storage("a").set_tokens(OAuthToken(access_token=REFRESH))  # a new login
    fresh = await other.storage("a").get_tokens()
    assert fresh is not None and fresh.access_token == REFRESH
    key = Fernet.generate_key()
    vault = TokenVault(store, key)
    await vault.storage("a").set_tokens(OAuthToken(access_token=ACCESS))
    await store.set(SCOPE, "b", await store.get(SCOPE, "a"))  # copied under another name
    assert await vault.storage("b").get_tokens() is None
    await store.aclose()


def test_key_from_config_env_or_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    file = tmp_path / "sub" / "oauth.key"
    made = load_key(None, file)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert load_key(None, file) == made  # made once, then read
    given = Fernet.generate_key().decode()
    assert load_key(given, file) == given.encode()
    monkeypatch.setenv(KEY_ENV, given)
    assert load_key(None, file) == given.encode()
    with pytest.raises(TokenKeyError, match="32 url-safe base64 bytes"):
        load_key("not a key", file)


async def test_config_puts_the_key_beside_the_state_file_not_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    config = GatewayConfig.model_validate(
        {"base_dir": tmp_path, "state": {"path": "data/state.db"}}
    )
    assert key_file(config) == tmp_path / "data" / "oauth.key"
    store = SqliteStateStore(tmp_path / "data" / "state.db")
    vault = await vault_for(config, store)
    await vault.storage("s").set_tokens(OAuthToken(access_token=ACCESS))
    await store.aclose()
    key = (tmp_path / "data" / "oauth.key").read_bytes().strip()
    assert key not in (tmp_path / "data" / "state.db").read_bytes()
    monkeypatch.setenv("MY_KEY", Fernet.generate_key().decode())
    configured = GatewayConfig.model_validate(
        {"base_dir": tmp_path, "oauth": {"key": "${MY_KEY}", "key_file": "elsewhere.key"}}
    )
    assert key_file(configured) == tmp_path / "elsewhere.key"
    store = SqliteStateStore(tmp_path / "other.db")
    await vault_for(configured, store)
    await store.aclose()
    assert not (tmp_path / "elsewhere.key").exists()  # the configured key, no file made
