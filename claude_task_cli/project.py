"""Where a project's things live: its root, its state database, and its task documents.

TASK as a user writes it resolves to a document path (`locate_document`). Accepted, in this order:
a path to a `.md` or converted `.json` file; a document id or stem found under `docs/tasks/` of the
project (the seed's usage table writes `execute_task 003_test_mcp`): `003_test_mcp` matches
`003_test_mcp.md`, `003` matches the one document whose stem starts with `003_` (or is `003`) or
whose title line says `Task 003:`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from claude_task_cli.errors import InputError

STATE_ENV = "CLAUDE_TASK_STATE"
REPOSITORY_ENV = "CLAUDE_TASK_REPOSITORY"
STATE_DIR = ".claude-task"
TASKS_DIR = Path("docs") / "tasks"
_TITLE_ID = re.compile(rb"^\s*#\s+task\s+#?0*(\d+[a-z]?)\b", re.I)


def project_root(start: Path) -> Path:
    """The nearest ancestor of `start` holding `.mcp.json`, else `.git`, else `start` itself."""
    here = start.resolve()
    for marker in (".mcp.json", ".git"):
        for directory in (here, *here.parents):
            if (directory / marker).exists():
                return directory
    return here


def repository_name(root: Path) -> str:
    """The repository a project root is known as wherever it is checked out (the board's
    documents, the runs on a shared server): `$CLAUDE_TASK_REPOSITORY`, else its folder's name."""
    return os.environ.get(REPOSITORY_ENV) or root.name


def default_state_path(start: Path | None = None) -> Path:
    """`$CLAUDE_TASK_STATE`, else `<project root of start (default cwd)>/.claude-task/state.db`."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit)
    return project_root(start or Path.cwd()) / STATE_DIR / "state.db"


class ProjectPaths:
    """Resolves paths from tool arguments, refusing any that lead outside the project root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def inside(self, value: str) -> Path:
        """`value` (relative to the root, or absolute) as an absolute path inside the root."""
        given = Path(value)
        resolved = (given if given.is_absolute() else self.root / given).resolve()
        if not resolved.is_relative_to(self.root):
            raise InputError(value, f"outside the project root {self.root}; refused")
        return resolved

    def task(self, task: str) -> str:
        """TASK as a path inside the root, or an id looked up under the root's docs/tasks/."""
        given = Path(task)
        looks_like_path = (
            given.is_absolute()
            or "/" in task
            or given.suffix.lower() in (".md", ".json")
            or (self.root / given).exists()
        )
        if looks_like_path:
            path = self.inside(task)
            if not path.is_file():
                raise InputError(task, "is a directory" if path.is_dir() else "no such file")
            return str(path)
        found = locate_document(task, self.root)
        return str(self.inside(str(found.resolve())))


def project_tasks_dir(start: Path) -> Path | None:
    """The nearest `docs/tasks/` at or above `start`."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / TASKS_DIR
        if candidate.is_dir():
            return candidate
    return None


def locate_document(task: str, start: Path) -> Path:
    """Resolve TASK to an existing document file; one-line InputError otherwise."""
    given = Path(task)
    if given.is_file():
        return given
    if given.is_dir():
        raise InputError(task, "is a directory: name one task document")
    if given.suffix.lower() in (".md", ".json") or "/" in task:
        raise InputError(task, "no such file")
    folder = project_tasks_dir(start)
    if folder is None:
        raise InputError(task, "no such file, and no docs/tasks/ directory to look it up in")
    matches = _matches(task, folder)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(task, f"no task document with that id or name in {folder}")
    names = ", ".join(m.name for m in matches)
    raise InputError(task, f"ambiguous: matches {names}; name the file")


def _matches(task: str, folder: Path) -> list[Path]:
    documents = sorted(p for p in folder.rglob("*.md") if p.is_file())
    exact = [p for p in documents if p.stem == task]
    if exact:
        return exact
    wanted = task.lstrip("0") or "0"
    by_stem = [p for p in documents if _stem_id(p) == wanted]
    if by_stem:
        return by_stem
    return [p for p in documents if _title_id(p) == wanted]


def _stem_id(path: Path) -> str | None:
    head = path.stem.split("_", 1)[0]
    return (head.lstrip("0") or "0").lower() if head.isalnum() else None


def _title_id(path: Path) -> str | None:
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                match = _TITLE_ID.match(raw.lstrip(b"\xef\xbb\xbf"))
                return match.group(1).decode().lower().lstrip("0") or "0" if match else None
    return None
