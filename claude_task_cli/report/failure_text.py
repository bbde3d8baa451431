"""Why a step is not complete, in words: pause reasons and failures as one line each.

Works on the pause reason's JSON contract (`type` tag, camelCase fields, `outcomes.py`), the form
both the typed evidence and the raw store rows give, so `task_status` and the reports say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_reason(reason: Mapping[str, Any]) -> str:
    """A pause reason (its JSON form) in one line of plain language."""
    kind = reason.get("type")
    tool = reason.get("suggestedTool")
    if kind == "toolError":
        again = " (retryable)" if reason.get("retryable") else ""
        return f"tool error{again}: {first_line(reason.get('error'))}"
    if kind == "verificationFailed":
        return (
            f"verification failed: {reason.get('expectation')} (actual: {reason.get('actual')!r})"
        )
    if kind == "unresolvableParams":
        return f"unresolvable parameter {reason.get('missingParam')} for {tool}"
    if kind == "schemaMismatch":
        missing = ", ".join(reason.get("missingFields") or [])
        return f"arguments for {tool} lack required fields: {missing}"
    if kind == "invalidParams":
        return f"invalid arguments for {tool}: " + "; ".join(reason.get("problems") or [])
    if kind == "unresolvedDependency":
        return (
            f"needs {reason.get('missingOutput')} from step {reason.get('producingStep')},"
            " which did not complete"
        )
    if kind == "awaitingClient":
        return f"awaiting the client: {first_line(reason.get('guidance'))}"
    if kind == "interrupted":
        cause = f" ({reason['cause']})" if reason.get("cause") else ""
        return f"interrupted during attempt {reason.get('attempt')}{cause}; record its outcome"
    if kind == "commandServerUndeclared":
        return "shell commands, but .mcp.json declares no command server"
    if kind == "questionDeclined":
        asked = first_line(reason.get("question"))
        return f"server {reason.get('server')} asked a person, no one answered: {asked}"
    if kind == "taskRequired":
        return f"{tool} runs only as an MCP task; run it another way and record its outcome"
    return f"{kind}"


def first_line(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.strip().splitlines()[0] if text.strip() else ""
