"""Arguments of a tool call: `${step:ID/path}` placeholders resolved, then checked against the
tool's `inputSchema`.

Resolution follows `binding.py`: a string that is exactly one placeholder takes the referenced value
with its type; placeholders inside a longer string (or a key) are interpolated as text, JSON for
values that are not strings. A reference that cannot be resolved is reported, not guessed:

- the producing step failed or was skipped → `unresolvedDependency`;
- it completed but its result has nothing at the path → `unresolvableParams`.

Schema check: a Draft 2020-12 `jsonschema` validator per tool, built once and kept by the caller
for the run (the engine keys it by server and tool); required fields that are absent →
`schemaMismatch` with `missingFields`, any other violation → `invalidParams`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator

from claude_task_cli.convert.binding import PLACEHOLDER
from claude_task_cli.outcomes import (
    InvalidParams,
    PauseReason,
    SchemaMismatch,
    StepStatus,
    UnresolvableParams,
    UnresolvedDependency,
)
from claude_task_cli.run.verify import MISSING, lookup


@dataclass(frozen=True)
class Unresolved:
    """A placeholder that could not be resolved: `param` is where it sits in the arguments."""

    placeholder: str
    step_id: str
    path: str
    param: str


@dataclass
class Resolution:
    args: dict[str, Any]
    unresolved: list[Unresolved] = field(default_factory=list)


def marker(problem: Unresolved) -> str:
    """What the handoff shows in place of a value not known yet."""
    where = f" at {problem.path}" if problem.path else ""
    return f"<result of step {problem.step_id}{where}>"


def resolve_args(
    args: Mapping[str, Any],
    results: Mapping[str, Any],
    *,
    placeholder: Callable[[Unresolved], Any] | None = None,
) -> Resolution:
    """Resolve every placeholder in `args` from `results` (completed step id → result).

    Unresolved placeholders are listed; in the returned arguments they are left as written, or
    replaced by `placeholder(problem)` when given (the handoff passes `marker`).
    """
    if not _mentions_step(args):  # the usual case: nothing to resolve, a copy to add to
        return Resolution(dict(args))
    unresolved: list[Unresolved] = []

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

    def walk(value: Any, param: str) -> Any:
        if isinstance(value, str):
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
    return Resolution(resolved, unresolved)


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
