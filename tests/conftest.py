"""Shared fixtures: no test depends on the developer's machine (logs, colours, state)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SEED = REPO.parent / "shared" / "seeds" / "task-003-orchestration-spec.md"


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_TASK_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("CLAUDE_TASK_STATE", raising=False)


def corpus_files() -> list[Path]:
    """The shared corpus of real task documents (empty where ../shared is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")
