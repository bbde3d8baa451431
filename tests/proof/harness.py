"""What the proof suites share: a project of their own, the state as `task_status --json` reports
it, and the side effects steps leave in `ran/`.

Not a test module: the suites import it, it imports no test. Every step of a proof document
appends one line to `ran/<step id>` when it runs, so how often a step ran is counted from what it
did, not from what the executor recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import COMMAND_SERVER, stdio, write_mcp_json


def make_project(root: Path, document: str, name: str = "proof.md") -> Path:
    """A project under `root`: `.mcp.json` with the command server, `ran/`, the document."""
    root.mkdir(parents=True, exist_ok=True)
    write_mcp_json(root, {"commands": stdio(COMMAND_SERVER)})
    (root / "ran").mkdir(exist_ok=True)
    path = root / name
    path.write_text(document, encoding="utf-8")
    return path


def status(project: Path, doc: Path) -> dict[str, Any]:
    """What `task_status --json` prints for the document's latest run (read in this process:
    the suites look after every kill, and a process each time would double their time)."""
    from claude_task_cli.report_operations import status_json

    data: dict[str, Any] = json.loads(status_json(str(doc), start=project))
    return data


def steps_in(report: dict[str, Any], state: str) -> set[str]:
    return {s["id"] for s in report["steps"] if s["state"] == state}


def ran(project: Path) -> dict[str, int]:
    """How many times each step ran, from the lines it appended to `ran/<id>`."""
    return {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (project / "ran").iterdir()
    }


def progress(log: Path, word: str) -> set[str]:
    """The step ids the executor's progress lines reported with `word` (`completed`, ...)."""
    found = set()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == word:
            found.add(parts[1])
    return found
