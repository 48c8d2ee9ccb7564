"""`[oauth]`: where the key that seals upstream OAuth tokens comes from. The tokens themselves
live in the state store (`protocols/mcp/token_store.py`); the key never does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from .stores_config import expanded

if TYPE_CHECKING:
    from llmspell.protocols.mcp.token_store import TokenVault
    from llmspell.runtime.state import StateStore

    from .config import GatewayConfig

KEY_FILE = "oauth.key"


class OAuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = None
    """Fernet key (32 url-safe base64 bytes), usually `"${LLMSPELL_TOKEN_KEY}"`; unset: the
    environment's `LLMSPELL_TOKEN_KEY`, else a key file made once (mode 0600)."""
    key_file: str | None = None
    """Where that generated key is kept; default `oauth.key` beside the SQLite state file
    (`.llmspell/oauth.key` for the other backends), relative to the config file."""


def key_file(config: GatewayConfig) -> Path:
    if config.oauth.key_file:
        return config._resolve(config.oauth.key_file)
    database = config.state_database()
    folder = database.parent if database is not None else config._resolve(".llmspell")
    return folder / KEY_FILE


async def vault_for(config: GatewayConfig, store: StateStore) -> TokenVault:
    """The token vault over the runtime's state store, keyed as `[oauth]` says."""
    from llmspell.protocols.mcp.token_store import open_vault

    key = expanded(config.oauth.key, "[oauth] key") if config.oauth.key else None
    return await open_vault(store, key, key_file(config))
