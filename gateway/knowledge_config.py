"""`[knowledge]` in `llmspell.toml`: where the RAG collections live and what a new collection
is made of unless a script, agent or command says otherwise. Kept out of config.py, which has
one field for it.

    [knowledge]
    path = ".llmspell/vectors"        # relative to the config file
    backend = "disk"                  # memory | disk | chroma | weaviate
    embedding = "local/wordllama"     # offline/hash, openai/text-embedding-3-small...
    chroma = { url = "http://127.0.0.1:8000" }
    weaviate = { url = "http://127.0.0.1:8080", grpc_port = 50051 }
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PATH = ".llmspell/vectors"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChromaConfig(_Section):
    url: str = "http://127.0.0.1:8000"
    tenant: str = "default_tenant"
    database: str = "default_database"
    timeout: float = Field(default=30.0, gt=0)


class WeaviateConfig(_Section):
    url: str = "http://127.0.0.1:8080"
    grpc_host: str | None = None
    grpc_port: int = Field(default=50051, gt=0, lt=65536)
    api_key: str | None = None
    """`${NAME}` reads the environment, so the key need not sit in the file."""
    timeout: float = Field(default=30.0, gt=0)


class KnowledgeConfig(_Section):
    """The collections' ledger and disk store directory, and a new collection's defaults."""

    path: str = DEFAULT_PATH
    """The directory of the ledger (`knowledge.db`) and the disk backend's files, relative to
    the config file."""
    backend: Literal["memory", "disk", "chroma", "weaviate"] = "disk"
    embedding: str = Field(default="local/wordllama", min_length=3)
    """`provider/model` of a new collection's embedder."""
    chroma: ChromaConfig | None = None
    weaviate: WeaviateConfig | None = None

    def store_options(self) -> dict[str, dict[str, Any]]:
        """The server backends' constructor options, by backend name (`${ENV}` expanded)."""
        from llmspell.protocols.mcp.spec import expand_env

        options: dict[str, dict[str, Any]] = {}
        if self.chroma is not None:
            options["chroma"] = self.chroma.model_dump()
        if self.weaviate is not None:
            options["weaviate"] = {
                k: v for k, v in self.weaviate.model_dump().items() if v is not None
            }
        return {name: expand_env(values) for name, values in options.items()}


__all__ = ["ChromaConfig", "KnowledgeConfig", "WeaviateConfig"]
