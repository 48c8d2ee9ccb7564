"""The throw-away PostgreSQL server of `llmspell.bench._postgres`, for tests: what keeps it from
starting (no binaries, a failed initdb) FAILS the test, never skips it, so a CI machine missing
PostgreSQL is noticed. Use it as a session fixture (tests/conftest.py `postgres`):

    @pytest.fixture(scope="session")
    def pg() -> Iterator[PostgresServer]:
        with running_postgres() as server:
            yield server
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from llmspell.bench._postgres import PostgresServer, PostgresUnavailable
from llmspell.bench._postgres import running_postgres as _running

__all__ = ["PostgresServer", "running_postgres"]


@contextlib.contextmanager
def running_postgres(
    *, user: str = "llmspell", database: str = "llmspell"
) -> Iterator[PostgresServer]:
    try:
        server = _running(user=user, database=database)
        started = server.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield started
    finally:
        server.__exit__(None, None, None)
