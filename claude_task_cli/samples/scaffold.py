"""`claude-task init`: set up a project, idempotently, and say what to run next.

- `.mcp.json`: the built-in command server and claude-task's own MCP server (plus the servers of
  the sample written) are added under their names; entries already there are kept as they are,
  whatever they say, and so is the rest of the file.
- `docs/tasks/<sample>.md`: the sample (default: the starter); an existing file is never
  overwritten, even when it differs (it is the user's now).
- `.gitignore`: `.claude-task/` (the state directory) is added when no line ignores it.

Nothing is written when nothing would change, so a second `init` reports every file unchanged.
"""

from __future__ import annotations

import difflib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from claude_task_cli.errors import InputError, OptionError, OutputError
from claude_task_cli.project import STATE_DIR, TASKS_DIR
from claude_task_cli.samples import BASE_SERVERS, SAMPLES, SERVER_ENTRIES, Sample, sample_text

Action = Literal["created", "updated", "unchanged", "kept"]
CLAUDE_MCP_ADD = "claude mcp add claude-task -- claude-task serve"


@dataclass(frozen=True)
class FileChange:
    """What `init` did to one file: `kept` is a file left alone although it differs."""

    path: str  # relative to the project directory, with `/`
    action: Action
    detail: str = ""


@dataclass(frozen=True)
class InitOutcome:
    """Every file `init` looked at, and what the user runs next."""

    root: Path
    sample: str
    files: list[FileChange]
    next_commands: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    claude_mcp_add: str = CLAUDE_MCP_ADD

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "sample": self.sample,
            "files": [{"path": f.path, "action": f.action, "detail": f.detail} for f in self.files],
            "next": [{"command": c, "shows": why} for c, why in self.next_commands],
            "notes": self.notes,
            "claudeMcpAdd": self.claude_mcp_add,
        }


def init_project(root: Path, sample_name: str = "starter") -> InitOutcome:
    """Set up `root` (created if missing) for claude-task with the sample `sample_name`."""
    sample = SAMPLES.get(sample_name)
    if sample is None:
        near = difflib.get_close_matches(sample_name, SAMPLES, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise OptionError(
            f"--example: no sample named {sample_name!r} ({hint}samples: {', '.join(SAMPLES)})"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(root, f"cannot create: {exc.strerror or exc}") from exc
    servers = list(dict.fromkeys([*BASE_SERVERS, *sample.servers]))
    changes = [
        _mcp_json(root / ".mcp.json", servers),
        _document(root, sample),
        _gitignore(root / ".gitignore"),
    ]
    notes = []
    if sample.install is not None:
        notes.append(f"this sample needs a server installed beside claude-task: {sample.install}")
    if shutil.which("claude-task") is None:
        notes.append(
            "claude-task is not on PATH: an MCP client will not find the `claude-task` server "
            "entry of .mcp.json until it is (or until the entry names the interpreter: "
            '"command": "/path/to/python", "args": ["-m", "claude_task_cli", "serve"])'
        )
    return InitOutcome(root, sample.name, changes, next_commands(sample), notes)


def next_commands(sample: Sample) -> list[tuple[str, str]]:
    """The three commands to try after `init`, each with what it shows."""
    path = (TASKS_DIR / sample.file_name).as_posix()
    return [
        (f"claude-task convert_task {path} --preview", "the steps, wave by wave; runs nothing"),
        (f"claude-task execute_task {sample.name}", "runs it; pauses at the step for a person"),
        (
            f"claude-task record_step {sample.name} {sample.person_step} --done",
            "that step done: the run completes",
        ),
    ]


def _mcp_json(path: Path, servers: list[str]) -> FileChange:
    data: dict[str, Any] = {"mcpServers": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, f"cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise InputError(
                path, f"not valid JSON (line {exc.lineno}: {exc.msg}); fix it, then run init again"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.setdefault("mcpServers", {}), dict):
            raise InputError(path, 'expected an object with an "mcpServers" object')
    declared: dict[str, Any] = data["mcpServers"]
    added = [name for name in servers if name not in declared]
    kept = [name for name in servers if name in declared and declared[name] != SERVER_ENTRIES[name]]
    for name in added:
        declared[name] = SERVER_ENTRIES[name]
    detail = "; ".join(
        part
        for part in (
            f"added {', '.join(added)}" if added else "",
            f"kept your {', '.join(kept)}" if kept else "",
        )
        if part
    )
    if not added:
        return FileChange(".mcp.json", "unchanged", detail)
    action: Action = "updated" if path.exists() else "created"
    _write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return FileChange(".mcp.json", action, detail)


def _document(root: Path, sample: Sample) -> FileChange:
    relative = (TASKS_DIR / sample.file_name).as_posix()
    path = root / TASKS_DIR / sample.file_name
    text = sample_text(sample.name)
    if path.exists():
        same = path.read_bytes() == text.encode("utf-8")
        if same:
            return FileChange(relative, "unchanged")
        return FileChange(relative, "kept", "differs from the sample; left as it is")
    _write(path, text)
    return FileChange(relative, "created", sample.summary)


def _gitignore(path: Path) -> FileChange:
    line = f"{STATE_DIR}/"
    existed = path.exists()
    text = path.read_text(encoding="utf-8") if existed else ""
    if STATE_DIR in {entry.strip().strip("/") for entry in text.splitlines()}:
        return FileChange(".gitignore", "unchanged")
    separator = "" if not text or text.endswith("\n") else "\n"
    _write(path, f"{text}{separator}{line}\n")
    return FileChange(".gitignore", "updated" if existed else "created", f"ignores {line}")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from exc
