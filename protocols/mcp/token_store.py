"""OAuth tokens and client registrations for upstream MCP servers, kept in the state store
(scope `oauth`, one key per server) and encrypted at rest with Fernet, so a copy of the
database gives no token away. The key never lives in that database: it comes from config or
`LLMSPELL_TOKEN_KEY`, else from a 0600 key file generated once beside the state file.

`StateTokenStorage` is the SDK's `TokenStorage` for one server; `TokenVault` hands those out and
answers what `llmspell mcp status|logout` ask. Nothing here logs a token."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken
from llmspell.runtime.state import StateStore
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

SCOPE = "oauth"
KEY_ENV = "LLMSPELL_TOKEN_KEY"
VERSION = 1


class TokenKeyError(ValueError):
    """The token key is unusable (wrong format), or stored tokens were sealed with another."""


def fernet_key(text: str) -> bytes:
    """A configured key as Fernet takes it: 32 url-safe base64 bytes; refuses anything else."""
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    raise TokenKeyError(
        "the token key must be 32 url-safe base64 bytes, as "
        "cryptography.fernet.Fernet.generate_key() makes them"
    )


def load_key(configured: str | None, key_file: Path) -> bytes:
    """The key from config, else `LLMSPELL_TOKEN_KEY`, else `key_file` (created with mode 0600
    on first use). Blocking file work: call it through `asyncio.to_thread` on a loop."""
    given = configured or os.environ.get(KEY_ENV)
    if given:
        return fernet_key(given)
    try:
        return fernet_key(key_file.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return fernet_key(key_file.read_text(encoding="ascii"))
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key


AuthState = Literal["authorized", "expired", "needs login"]


@dataclass(frozen=True)
class TokenStatus:
    """What `llmspell mcp status` says about one server's stored tokens (never the tokens)."""

    state: AuthState
    expires_in: float | None = None
    """Seconds left on the access token; None when it does not say."""
    refreshable: bool = False
    registered: bool = False
    """A client registration (or pre-registered id) is stored."""

    def describe(self) -> str:
        if self.state == "needs login":
            return "needs login"
        if self.state == "expired":
            return "expired, will refresh" if self.refreshable else "expired: needs login"
        if self.expires_in is None:
            return "authorized"
        return f"authorized, expires in {int(self.expires_in)} s"


class TokenVault:
    """Sealed records in the `oauth` scope: `{"v": 1, "sealed": FERNET}`, whose plain text is
    `{"server", "tokens", "expires_at", "client", "saved_at"}`. The server's name is sealed in
    too, so a record copied under another server's key is refused rather than used."""

    def __init__(self, store: StateStore, key: bytes) -> None:
        self.store = store
        self._fernet = Fernet(key)

    def storage(self, server: str) -> StateTokenStorage:
        return StateTokenStorage(self, server)

    async def read(self, server: str) -> dict[str, Any]:
        return self._open(server, await self.store.get(SCOPE, server))

    def _open(self, server: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not isinstance(value.get("sealed"), str):
            return {}
        try:
            plain = self._fernet.decrypt(value["sealed"].encode())
        except InvalidToken:
            raise TokenKeyError(
                f"the stored OAuth tokens of {server!r} were sealed with another key "
                f"(check [oauth] key / {KEY_ENV}), or run `llmspell mcp login {server}` again"
            ) from None
        record: dict[str, Any] = json.loads(plain)
        return record if record.get("server") == server else {}

    async def write(self, server: str, **fields: Any) -> None:
        """Merge `fields` into the server's record, atomically."""

        async def merge(old: Any) -> dict[str, Any]:
            try:
                record = self._open(server, old)
            except TokenKeyError:  # sealed with a key no longer held: start afresh
                record = {}
            record.update(fields, server=server, saved_at=time.time())
            sealed = self._fernet.encrypt(json.dumps(record).encode()).decode()
            return {"v": VERSION, "sealed": sealed}

        await self.store.update(SCOPE, server, merge)

    async def forget(self, server: str) -> bool:
        """Delete the server's tokens and client registration; True when there were any."""
        return await self.store.delete(SCOPE, server)

    async def stamp(self, server: str) -> float | None:
        """When the record was last saved: a login elsewhere (the CLI) changes it."""
        return (await self.read(server)).get("saved_at")

    async def status(self, server: str) -> TokenStatus:
        record = await self.read(server)
        tokens, client = record.get("tokens"), record.get("client")
        if not tokens:
            return TokenStatus("needs login", registered=bool(client))
        refreshable = bool(tokens.get("refresh_token")) and bool(client)
        expires_at = record.get("expires_at")
        if expires_at is None:
            return TokenStatus("authorized", None, refreshable, bool(client))
        left = expires_at - time.time()
        state: AuthState = "authorized" if left > 0 else "expired"
        return TokenStatus(state, max(0.0, left), refreshable, bool(client))


class StateTokenStorage:
    """The SDK's `TokenStorage` for one server. The access token's expiry is kept as a time, so
    tokens read back after a restart say how long they have left (`expires_in`), not how long
    they had when issued."""

    def __init__(self, vault: TokenVault, server: str) -> None:
        self.vault = vault
        self.server = server

    async def get_tokens(self) -> OAuthToken | None:
        record = await self.vault.read(self.server)
        tokens = record.get("tokens")
        if not tokens:
            return None
        expires_at = record.get("expires_at")
        if expires_at is not None:
            tokens = {**tokens, "expires_in": max(0, int(expires_at - time.time()))}
        return OAuthToken.model_validate(tokens)

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = None if tokens.expires_in is None else time.time() + tokens.expires_in
        await self.vault.write(
            self.server, tokens=tokens.model_dump(mode="json"), expires_at=expires_at
        )

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        client = (await self.vault.read(self.server)).get("client")
        return OAuthClientInformationFull.model_validate(client) if client else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        client = client_info.model_dump(mode="json", exclude_none=True)
        await self.vault.write(self.server, client=client)

    async def clear_tokens(self) -> None:
        """Drop the tokens, keep the client registration (a revoked grant; logout forgets all)."""
        await self.vault.write(self.server, tokens=None, expires_at=None)

    async def stamp(self) -> float | None:
        return await self.vault.stamp(self.server)


async def open_vault(store: StateStore, configured: str | None, key_file: Path) -> TokenVault:
    """A vault over `store` with the key from config, the environment or `key_file`."""
    key = await asyncio.to_thread(load_key, configured, key_file)
    return TokenVault(store, key)
