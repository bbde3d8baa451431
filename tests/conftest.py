"""Shared fixtures: no test depends on the developer's machine (logs, colours, state)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_TASK_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
    monkeypatch.setenv("CLAUDE_TASK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("CLAUDE_TASK_STATE", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Converted documents are kept out of the user's cache from the start: module-scoped
    fixtures run commands before the per-test environment above is set."""
    patch = pytest.MonkeyPatch()
    patch.setenv("CLAUDE_TASK_CACHE_DIR", str(tmp_path_factory.mktemp("session-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as the CLI and the MCP SDK do."""
    return "asyncio"


# PostgreSQL: the store and board tests run on both engines ----------------------------------

REQUIRE_POSTGRES = "CLAUDE_TASK_REQUIRE_POSTGRES"  # set by .ci/run: a missing server fails


@pytest.fixture(autouse=True)
def _isolated_board(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLAUDE_TASK_DB", "CLAUDE_TASK_REPOSITORY", "FEATURE_PRD_AUTO_APPROVE_REVIEW"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (tests/postgres_server.py); skipped where
    PostgreSQL or psycopg is missing, failed instead when $CLAUDE_TASK_REQUIRE_POSTGRES=1."""
    try:
        import psycopg  # noqa: F401

        server = PostgresServer().start()
    except (ImportError, RuntimeError, OSError) as exc:
        if os.environ.get(REQUIRE_POSTGRES) == "1":
            pytest.fail(f"PostgreSQL is required here (${REQUIRE_POSTGRES}=1): {exc}")
        pytest.skip(f"no PostgreSQL to test against: {exc}")
    yield server
    server.stop()


_schemas = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_schema(f"test_{next(_schemas)}")
