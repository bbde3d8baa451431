"""Shared fixtures: no test depends on the developer's machine (logs, colours, state)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_TASK_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("CLAUDE_TASK_STATE", raising=False)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as the CLI and the MCP SDK do."""
    return "asyncio"
