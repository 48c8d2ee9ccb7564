"""Shared fixtures. Tests run against real engines, real files and real subprocesses."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tools.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the long fuzz/load tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    marker = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(marker)


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for `llmspell` subprocesses: the source tree first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture
def llmspell_cmd() -> list[str]:
    return [sys.executable, "-m", "llmspell"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL server for the session's store suites (tests/tools/postgres.py)."""
    from tools.postgres import running_postgres

    with running_postgres() as server:
        yield server
