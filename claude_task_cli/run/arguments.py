"""Arguments of a tool call: `${step:ID/path}` placeholders resolved, then checked against the
tool's `inputSchema`.

Resolution follows `binding.py`: a string that is exactly one placeholder takes the referenced value
with its type; placeholders inside a longer string (or a key) are interpolated as text, JSON for
values that are not strings. In a shell string (`shell_args`: the command server's `command` and
`script`) each interpolated value is quoted for the place it sits in, or the placeholder is
refused (`shell_quoting.py`). A reference that cannot be resolved is reported, not guessed:

- the producing step failed or was skipped → `unresolvedDependency`;
- it completed but its result has nothing at the path → `unresolvableParams`.

Schema check: a Draft 2020-12 `jsonschema` validator per tool, built once and kept by the caller
for the run (the engine keys it by server and tool); required fields that are absent →
`schemaMismatch` with `missingFields`, any other violation → `invalidParams`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator

from claude_task_cli.convert.binding import PLACEHOLDER
from claude_task_cli.convert.step_kind import COMMAND_TOOL
from claude_task_cli.outcomes import (
    InvalidParams,
    PauseReason,
    SchemaMismatch,
    StepStatus,
    UnresolvableParams,
    UnresolvedDependency,
)
from claude_task_cli.run.shell_quoting import DOUBLE, SINGLE, UNSURE, WORD, places, quote
from claude_task_cli.run.verify import MISSING, lookup

# The command server's arguments a shell reads: `shell_args_of` names them for a call of its
# `run_command`.
SHELL_ARGS = ("command", "script")


def shell_args_of(server: str, tool: str, command_server: str | None) -> tuple[str, ...]:
    """The arguments of a call that a shell reads: the command server's `command` and `script`
    (with no command server known, those of any `run_command`)."""
    if tool != COMMAND_TOOL or command_server not in (None, server):
        return ()
    return SHELL_ARGS


@dataclass(frozen=True)
class Unresolved:
    """A placeholder that could not be resolved: `param` is where it sits in the arguments."""

    placeholder: str
    step_id: str
    path: str
    param: str


@dataclass(frozen=True)
class Refused:
    """A placeholder in a shell string that sits where its value cannot be quoted."""

    placeholder: str
    param: str
    place: str  # why: "inside a here-document", ...

    def problem(self) -> str:
        return (
            f"{self.param}: {self.placeholder} sits {self.place}, where its value cannot be "
            'quoted for the shell; pass it in env (NAME: the placeholder) and write "$NAME", '
            "or give the command as an argv list"
        )


@dataclass
class Resolution:
    args: dict[str, Any]
    unresolved: list[Unresolved] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def marker(problem: Unresolved) -> str:
    """What the handoff shows in place of a value not known yet."""
    where = f" at {problem.path}" if problem.path else ""
    return f"<result of step {problem.step_id}{where}>"


def resolve_args(
    args: Mapping[str, Any],
    results: Mapping[str, Any],
    *,
    placeholder: Callable[[Unresolved], Any] | None = None,
    shell_args: Collection[str] = (),
) -> Resolution:
    """Resolve every placeholder in `args` from `results` (completed step id → result).

    Unresolved placeholders are listed; in the returned arguments they are left as written, or
    replaced by `placeholder(problem)` when given (the handoff passes `marker`). The top-level
    strings named in `shell_args` are shell text: what is interpolated into them is quoted for
    the shell (as `shlex.split` reads it when `shell` is false), a placeholder where that cannot
    be done is listed in `refused` and left as written.
    """
    if not _mentions_step(args):  # the usual case: nothing to resolve, a copy to add to
        return Resolution(dict(args))
    unresolved: list[Unresolved] = []
    refused: list[Refused] = []

    def value_of(ref: str, path: str, param: str, text: str) -> Any:
        found = lookup(results[ref], path) if ref in results else MISSING
        if found is MISSING:
            problem = Unresolved(text, ref, path, param)
            unresolved.append(problem)
            return text if placeholder is None else placeholder(problem)
        return found

    def interpolate(text: str, param: str) -> Any:
        whole = PLACEHOLDER.fullmatch(text)
        if whole is not None:
            return value_of(whole.group(1), whole.group(2), param, text)
        if "${step:" not in text:
            return text

        def substitute(match: Any) -> str:
            value = value_of(match.group(1), match.group(2), param, match.group(0))
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

        return PLACEHOLDER.sub(substitute, text)

    def interpolate_shell(text: str, param: str) -> Any:
        if PLACEHOLDER.fullmatch(text) or "${step:" not in text:
            return interpolate(text, param)  # a whole placeholder is the command itself
        split = args.get("shell") is False
        sites = places(text, split=split)

        def substitute(match: Any) -> str:
            place = sites.get(match.start(), UNSURE)
            if place not in (WORD, SINGLE, DOUBLE):
                refused.append(Refused(match.group(0), param, place))
                return str(match.group(0))
            known = len(unresolved)
            value = value_of(match.group(1), match.group(2), param, match.group(0))
            if len(unresolved) > known and placeholder is None:  # left as written
                return str(value)
            text_value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            return quote(text_value, place, split=split)

        return PLACEHOLDER.sub(substitute, text)

    def walk(value: Any, param: str) -> Any:
        if isinstance(value, str):
            if param in shell_args:  # top level only: a nested key's path has a "/"
                return interpolate_shell(value, param)
            return interpolate(value, param)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                name = str(interpolate(key, param)) if isinstance(key, str) else key
                out[name] = walk(item, f"{param}/{key}" if param else str(key))
            return out
        if isinstance(value, list):
            return [walk(item, f"{param}/{n}") for n, item in enumerate(value)]
        return value

    resolved = walk(dict(args), "")
    return Resolution(resolved, unresolved, refused)


def _mentions_step(value: Any) -> bool:
    """Whether a placeholder may hide anywhere in `value` (keys included)."""
    if isinstance(value, str):
        return "${step:" in value
    if isinstance(value, dict | Mapping):  # a dict is decided without the ABC's slower check
        for key, item in value.items():
            if _mentions_step(key) or _mentions_step(item):
                return True
    elif isinstance(value, list):
        for item in value:
            if _mentions_step(item):
                return True
    return False


def unresolved_reason(
    step_id: str, tool: str, problem: Unresolved, statuses: Mapping[str, StepStatus]
) -> PauseReason:
    """The pause reason for a placeholder of `step_id` that did not resolve."""
    if statuses.get(problem.step_id) in (StepStatus.FAILED, StepStatus.SKIPPED):
        return UnresolvedDependency(
            blocked_step=step_id,
            missing_output=problem.placeholder,
            producing_step=problem.step_id,
            suggested_tool=tool,
        )
    return UnresolvableParams(
        blocked_step=step_id, missing_param=problem.param, suggested_tool=tool
    )


def refused_reason(step_id: str, tool: str, refused: list[Refused]) -> PauseReason:
    """The pause reason for placeholders of `step_id` whose values a shell could read as code."""
    return InvalidParams(
        blocked_step=step_id, problems=[r.problem() for r in refused], suggested_tool=tool
    )


ArgsValidator = Validator  # a tool's `inputSchema`, compiled


def make_validator(schema: Mapping[str, Any]) -> ArgsValidator | None:
    """A Draft 2020-12 validator for a tool's `inputSchema`; None when the schema is unusable."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return None
    validator: Validator = Draft202012Validator(schema)
    return validator


def schema_reason(
    step_id: str, tool: str, validator: ArgsValidator | None, args: Mapping[str, Any]
) -> PauseReason | None:
    """`schemaMismatch` for missing required fields, else `invalidParams`, else None."""
    if validator is None:
        return None
    missing: list[str] = []
    problems: list[str] = []
    errors: list[ValidationError] = list(validator.iter_errors(dict(args)))
    for error in errors:
        prefix = "/".join(str(part) for part in error.absolute_path)
        required = error.validator_value
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in required if isinstance(required, list) else []:
                if name not in error.instance:
                    full = f"{prefix}/{name}" if prefix else str(name)
                    if full not in missing:
                        missing.append(full)
        else:
            problems.append(f"{prefix or '(arguments)'}: {error.message}")
    if missing:
        return SchemaMismatch(blocked_step=step_id, missing_fields=missing, suggested_tool=tool)
    if problems:
        return InvalidParams(blocked_step=step_id, problems=problems, suggested_tool=tool)
    return None
