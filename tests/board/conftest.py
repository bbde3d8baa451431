"""Board fixtures: a project with task documents written by the test, and a board on each engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from claude_task_cli.board import Board
from claude_task_cli.store.engines import parse_url

# A task as a test writes it: its title, and the numbers of the tasks it depends on.
TaskLine = tuple[str, Sequence[int]]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (it has .git) with docs/tasks/, as the working directory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDE_TASK_REPOSITORY", "repo")
    return tmp_path


@pytest.fixture
def write_doc(project: Path) -> Callable[..., Path]:
    """`write_doc("900_x", [("Title", [deps]), ...], priorities={1: "HIGH"}, markers={2: "✅
    Complete"})` writes docs/tasks/900_x.md: one task per entry, numbered from 1, each with one
    step, depending on exactly the tasks listed (`none` when empty)."""

    def write(
        stem: str,
        tasks: Sequence[TaskLine],
        *,
        priorities: dict[int, str] | None = None,
        markers: dict[int, str] | None = None,
        numbers: Sequence[int] | None = None,
        steps: dict[int, str] | None = None,
    ) -> Path:
        lines = [
            f"# Task {stem.split('_', maxsplit=1)[0]}: Board test {stem}",
            "",
            "## Implementation Tasks",
        ]
        for index, (title, deps) in enumerate(tasks):
            number = numbers[index] if numbers else index + 1
            marker = (markers or {}).get(number, "")
            lines += ["", f"### Task {number}: {title}{' ' + marker if marker else ''}", ""]
            if priorities and number in priorities:
                lines += [f"**Priority**: {priorities[number]}", ""]
            depends = ", ".join(f"Task {d}" for d in deps) if deps else "none"
            lines += [f"**Depends on**: {depends}", "", "**Implementation Steps**:"]
            lines.append(f"- [ ] {number}.1 {(steps or {}).get(number, 'Do ' + title.lower())}")
        path = project / "docs" / "tasks" / f"{stem}.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def board(db_url: str) -> Iterator[Board]:
    """A board on a fresh database of each engine."""
    with Board.open(parse_url(db_url)) as opened:
        yield opened
