"""Check a step's `expect` assertions against its result, keeping every check as evidence.

A result is a tool's structured content, else its text (`mcp/content.py`). When the tool returned
text or other blocks beside its structured content, the result holds both,
`{"structuredContent": …, "content": [blocks]}`, and a path walks the structured content as it
would without the blocks (for placeholders too): `structuredContent/…` says so explicitly, and
`content/…` walks the blocks (`content/1/text`) unless the structured content has a `content`
key of its own. `path` (`a/0/b`, keys and list indexes, a leading `/` allowed) walks into the
result; a text result is parsed as JSON first when a path needs it. Each expectation may
combine conditions, all of which must hold:

- `exists: true|false` — the path is (not) there;
- `equals: V` — the value equals V (compared as JSON values);
- `contains: S` — a string contains S, a list has an element equal to S, an object has key S;
  other values are compared by their JSON text;
- `matches: RE` — `re.search` on the value (its JSON text when not a string);
- `exit_code: N` — the value's `exit_code` field (a command result) equals N.

An expectation with a path and no condition asserts that the path exists. With no path, on a
result holding blocks beside its structured content, `contains` and `matches` hold when the
structured content or any text block satisfies them: the text a tool returns beside its data
(`WARNING: 2 files skipped`) is checked like the data.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from claude_task_cli.convert.document_json import to_data
from claude_task_cli.convert.model import Expectation
from claude_task_cli.convert.not_given import NOT_GIVEN
from claude_task_cli.mcp.content import CONTENT, STRUCTURED
from claude_task_cli.outcomes import VerificationFailed

MISSING: Any = object()
_SHOWN = 200  # characters of a value shown in a message


class CheckResult(NamedTuple):
    """One expectation checked: `actual` is the value found at its path (None when absent)."""

    passed: bool
    expectation: Expectation
    description: str
    actual: Any = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """The check as evidence: these keys, the expectation as its JSON object."""
        return {
            "passed": self.passed,
            "expectation": to_data(self.expectation),
            "description": self.description,
            "actual": self.actual,
            "message": self.message,
        }


def lookup(value: Any, path: str) -> Any:
    """The value at `path` inside `value`, or `MISSING`. Text is parsed as JSON when walked into;
    a result with blocks beside its structured content is walked as the module docstring says."""
    parts = [p for p in path.split("/") if p]
    if _is_whole(value):
        structured = value[STRUCTURED]
        if parts[:1] == [STRUCTURED]:
            parts = parts[1:]
        if not (parts[:1] == [CONTENT] and not _has_key(structured, CONTENT)):
            value = structured
    for part in parts:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return MISSING
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return value


def describe(exp: Expectation) -> str:
    """`timezone equals 'UTC'`, `exit_code == 0`, ... in words."""
    where = exp.path or "result"
    parts = []
    if exp.exists is not None:
        parts.append("exists" if exp.exists else "is absent")
    if exp.equals is not NOT_GIVEN:
        parts.append(f"equals {_show(exp.equals)}")
    if exp.contains is not None:
        parts.append(f"contains {exp.contains!r}")
    if exp.matches is not None:
        parts.append(f"matches /{exp.matches}/")
    if exp.exit_code is not None:
        parts.append(f"has exit_code {exp.exit_code}")
    return f"{where} " + (" and ".join(parts) or "exists")


def check(exp: Expectation, result: Any) -> CheckResult:
    """Check one expectation against a result."""
    found = lookup(result, exp.path)
    present = found is not MISSING
    actual = found if present else None
    failures = []
    if exp.exists is not None and exp.exists != present:
        failures.append("is present" if present else "is absent")
    needs_value = (
        exp.equals is not NOT_GIVEN
        or exp.contains is not None
        or exp.matches is not None
        or exp.exit_code is not None
        or exp.exists is None
    )
    if needs_value and not present:
        failures.append("path not found")
    elif present:
        texts = _text_blocks(result) if not exp.path.strip("/") else []
        failures.extend(_value_failures(exp, found, texts))
    return CheckResult(
        passed=not failures,
        expectation=exp,
        description=describe(exp),
        actual=actual,
        message="; ".join(failures),
    )


def verify(expectations: list[Expectation], result: Any) -> list[CheckResult]:
    """Every expectation checked against `result`, in order."""
    return [check(exp, result) for exp in expectations]


class Verdict(NamedTuple):
    """A step's result checked: every check as evidence (JSON), and for the first that failed
    its error line and `verificationFailed` reason (None when all held)."""

    checks: list[dict[str, Any]]
    error: str | None
    reason: VerificationFailed | None


def verdict(
    step_id: str, tool: str | None, expectations: list[Expectation], result: Any
) -> Verdict:
    """The checks of a step's result, worded one way for the engine's calls and for results a
    client records."""
    checks: list[dict[str, Any]] = []
    error: str | None = None
    reason: VerificationFailed | None = None
    for checked in verify(expectations, result):
        checks.append(checked.to_json())
        if not checked.passed and reason is None:
            error = f"{checked.description}: {checked.message}"
            reason = VerificationFailed(
                failed_step=step_id,
                expectation=checked.description,
                actual=checked.actual,
                suggested_tool=tool,
            )
    return Verdict(checks, error, reason)


def _is_whole(value: Any) -> bool:
    """Whether `value` is a result holding blocks beside its structured content."""
    return (
        isinstance(value, dict)
        and value.keys() == {STRUCTURED, CONTENT}
        and isinstance(value[CONTENT], list)
    )


def _has_key(value: Any, key: str) -> bool:
    return isinstance(value, dict) and key in value


def _text_blocks(result: Any) -> list[str]:
    """The text blocks of a result holding blocks beside its structured content, else none."""
    if not _is_whole(result):
        return []
    blocks = result[CONTENT]
    return [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]


def _value_failures(exp: Expectation, value: Any, texts: list[str]) -> list[str]:
    failures = []
    nor = " (nor does a text block)" if texts else ""
    if exp.equals is not NOT_GIVEN and not _equal(value, exp.equals):
        failures.append(f"is {_show(value)}")
    if exp.contains is not None:
        needle = exp.contains
        if not _contains(value, needle) and not any(needle in text for text in texts):
            failures.append(f"{_show(value)} does not contain {needle!r}{nor}")
    if exp.matches is not None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        try:
            pattern = re.compile(exp.matches)
            if not any(pattern.search(candidate) for candidate in (text, *texts)):
                failures.append(f"{_show(value)} does not match{nor}")
        except re.error as exc:
            failures.append(f"invalid regular expression: {exc}")
    if exp.exit_code is not None:
        code = value.get("exit_code", MISSING) if isinstance(value, dict) else MISSING
        if code is MISSING:
            failures.append("no exit_code in the result")
        elif code != exp.exit_code:
            failures.append(f"exit_code is {code}")
    return failures


def _equal(value: Any, expected: Any) -> bool:
    # JSON equality (True is not 1), except that text compares with the text of a number: an
    # author writing `equals: 9` for a result "9" means the same thing.
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, str) != isinstance(expected, str):
        return isinstance(value, str | int | float) and str(value) == str(expected)
    return bool(value == expected)


def _contains(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, list):
        return any(_equal(item, needle) for item in value)
    if isinstance(value, dict):
        return needle in value
    return needle in json.dumps(value, ensure_ascii=False)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
