"""What a step is done by, read from the converted step alone (the run and the reports agree).

- `tool`: one MCP call; `commands`: each shell command through the command server's
  `run_command`; `both`: the commands, then the tool;
- `group`: a step with sub-steps and nothing of its own completes when its sub-steps have;
- `client`: anything else is work for an agent or a person.
"""

from __future__ import annotations

from typing import Literal

from claude_task_cli.convert.model import Step

UnitKind = Literal["tool", "commands", "both", "group", "client"]
COMMAND_TOOL = "run_command"


def kind_of(step: Step | None) -> UnitKind:
    """What a unit of this step (None: a task without steps) is done by."""
    if step is None:
        return "client"
    if step.tool is not None:
        return "both" if step.commands else "tool"
    if step.commands:
        return "commands"
    return "group" if step.substeps else "client"


def server_of(step: Step | None) -> str | None:
    """The server of the step's bound tool, if it has one."""
    return step.tool.server if step is not None and step.tool is not None else None


def tool_of(step: Step | None) -> str | None:
    """The tool a client would call to do this step: the bound tool, else `run_command`."""
    if step is None:
        return None
    if step.tool is not None:
        return step.tool.tool
    return COMMAND_TOOL if step.commands else None
