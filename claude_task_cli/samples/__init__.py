"""What a new project starts with: the sample task documents shipped in the package, the servers
they need in `.mcp.json`, and `claude-task init` that writes them (`scaffold.py`).

```python
sample_text("starter")            # the starter document's markdown (package data)
SAMPLES["clock"].servers          # ("time", "commands"): the .mcp.json entries it calls
SERVER_ENTRIES["time"]            # the entry `init` writes for the time server
```

Every sample runs from a plain install once its servers are installed: the starter needs nothing
but claude-task itself (the built-in command server and a step for a person).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

PYTHON = "${CLAUDE_TASK_PYTHON:-python3}"  # execute_task sets it to its own interpreter

SERVER_ENTRIES: dict[str, dict[str, Any]] = {
    "commands": {"command": PYTHON, "args": ["-m", "claude_task_cli.mcp.command_server"]},
    "claude-task": {"command": "claude-task", "args": ["serve"]},
    "time": {"command": PYTHON, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
    "git": {"command": PYTHON, "args": ["-m", "mcp_server_git"], "cwd": "."},
}
BASE_SERVERS = ("commands", "claude-task")  # what every project gets from `init`


@dataclass(frozen=True)
class Sample:
    """A shipped sample: its file under `docs/tasks/`, the servers it calls, what to install for
    them, and the step a person records (for the printed next commands)."""

    name: str
    summary: str
    servers: tuple[str, ...]
    install: str | None
    person_step: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.md"


SAMPLES: dict[str, Sample] = {
    sample.name: sample
    for sample in (
        Sample(
            "starter",
            "commands and tool calls through the built-in command server, a step for a person",
            ("commands",),
            None,
            "2.1",
        ),
        Sample(
            "clock",
            "the reference time server: the clock, a time zone conversion, checked answers",
            ("time", "commands"),
            "pip install mcp-server-time",
            "2.1",
        ),
        Sample(
            "git",
            "the reference git server, read-only, on this project's repository",
            ("git",),
            "pip install mcp-server-git",
            "2.1",
        ),
    )
}


def sample_text(name: str) -> str:
    """The markdown of a shipped sample (`SAMPLES[name]`)."""
    return (files(__name__) / SAMPLES[name].file_name).read_text(encoding="utf-8")
