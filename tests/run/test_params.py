"""Placeholders resolved from earlier results; unresolvable ones classified; arguments checked
against the tool's schema by jsonschema."""

from __future__ import annotations

from typing import Any

import pytest

from claude_task_cli.outcomes import (
    InvalidParams,
    SchemaMismatch,
    StepStatus,
    UnresolvableParams,
    UnresolvedDependency,
)
from claude_task_cli.run.arguments import (
    make_validator,
    marker,
    resolve_args,
    schema_reason,
    unresolved_reason,
)

RESULTS: dict[str, Any] = {
    "1.1": {"timezone": "UTC", "items": [{"n": 1}, {"n": 2}], "ok": True},
    "1.2": "plain text",
    "1.3": '{"json": {"in": "text"}}',
}


def test_a_whole_placeholder_keeps_the_type() -> None:
    resolved = resolve_args(
        {
            "a": "${step:1.1/items}",
            "b": "${step:1.1/ok}",
            "c": "${step:1.1/items/1/n}",
            "d": "${step:1.2}",
        },
        RESULTS,
    )
    assert resolved.unresolved == []
    assert resolved.args == {"a": [{"n": 1}, {"n": 2}], "b": True, "c": 2, "d": "plain text"}


def test_arguments_without_placeholders_come_back_as_a_copy() -> None:
    args = {"a": {"b": ["$HOME", 1]}, "c": None, "step:x": "${not a placeholder"}
    resolved = resolve_args(args, RESULTS)
    assert resolved.unresolved == []
    assert resolved.args == args
    resolved.args["cwd"] = "/tmp"  # the executor adds to it
    assert "cwd" not in args


def test_a_placeholder_deep_inside_is_still_found() -> None:
    resolved = resolve_args({"a": [{"b": ["x", "${step:1.1/timezone}"]}]}, RESULTS)
    assert resolved.args == {"a": [{"b": ["x", "UTC"]}]}


def test_embedded_placeholders_interpolate_as_text() -> None:
    resolved = resolve_args(
        {
            "msg": "tz=${step:1.1/timezone} n=${step:1.1/items/0/n} all=${step:1.1/items/0}",
            "nested": [{"x": "in ${step:1.3/json/in}"}],
            "${step:1.1/timezone}_key": 1,
        },
        RESULTS,
    )
    assert resolved.unresolved == []
    assert resolved.args == {
        "msg": 'tz=UTC n=1 all={"n": 1}',
        "nested": [{"x": "in text"}],
        "UTC_key": 1,
    }


def test_values_without_placeholders_are_untouched() -> None:
    args = {"n": 1, "f": 1.5, "none": None, "list": [True, "$notaplaceholder"]}
    assert resolve_args(args, {}).args == args


def test_unresolved_placeholders_are_listed_with_where_they_sit() -> None:
    resolved = resolve_args(
        {"a": "${step:1.1/nope}", "deep": {"list": ["x ${step:9/id} y"]}}, RESULTS
    )
    assert [(p.step_id, p.path, p.param, p.placeholder) for p in resolved.unresolved] == [
        ("1.1", "/nope", "a", "${step:1.1/nope}"),
        ("9", "/id", "deep/list/0", "${step:9/id}"),
    ]
    assert resolved.args == {"a": "${step:1.1/nope}", "deep": {"list": ["x ${step:9/id} y"]}}


def test_placeholders_walk_structured_content_kept_beside_text() -> None:
    whole = {
        "structuredContent": {"copied": 5},
        "content": [{"type": "text", "text": "WARNING: 2 files skipped"}],
    }
    resolved = resolve_args(
        {"n": "${step:4/copied}", "all": "${step:4}", "said": "${step:4/content/0/text}"},
        {"4": whole},
    )
    assert resolved.args == {"n": 5, "all": {"copied": 5}, "said": "WARNING: 2 files skipped"}


def test_the_handoff_marks_what_is_not_known_yet() -> None:
    resolved = resolve_args(
        {"a": "${step:2.1/id}", "b": "id=${step:2.1}", "c": "${step:1.1/timezone}"},
        RESULTS,
        placeholder=marker,
    )
    assert resolved.args == {
        "a": "<result of step 2.1 at /id>",
        "b": "id=<result of step 2.1>",
        "c": "UTC",
    }


def test_classification_of_unresolved_placeholders() -> None:
    problems = resolve_args({"tz": "${step:1.1/nope}", "id": "${step:2}"}, RESULTS).unresolved
    statuses = {"1.1": StepStatus.COMPLETED, "2": StepStatus.FAILED}
    assert unresolved_reason("3", "tool", problems[0], statuses) == UnresolvableParams(
        blocked_step="3", missing_param="tz", suggested_tool="tool"
    )
    assert unresolved_reason("3", "tool", problems[1], statuses) == UnresolvedDependency(
        blocked_step="3", missing_output="${step:2}", producing_step="2", suggested_tool="tool"
    )
    skipped = {"2": StepStatus.SKIPPED}
    assert isinstance(unresolved_reason("3", "t", problems[1], skipped), UnresolvedDependency)


SCHEMA = {
    "type": "object",
    "properties": {
        "timezone": {"type": "string"},
        "opts": {
            "type": "object",
            "properties": {"level": {"type": "integer"}},
            "required": ["level", "mode"],
        },
    },
    "required": ["timezone", "when"],
}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"timezone": "UTC", "when": "now"}, None),
        (
            {"opts": {}},
            SchemaMismatch(
                blocked_step="1",
                missing_fields=["opts/level", "opts/mode", "timezone", "when"],
                suggested_tool="t",
            ),
        ),
        (
            {"timezone": 5, "when": "now", "opts": {"level": "high", "mode": 1}},
            InvalidParams(
                blocked_step="1",
                problems=[
                    "timezone: 5 is not of type 'string'",
                    "opts/level: 'high' is not of type 'integer'",
                ],
                suggested_tool="t",
            ),
        ),
    ],
)
def test_schema_check(args: dict[str, Any], expected: object) -> None:
    validator = make_validator(SCHEMA)
    assert validator is not None
    reason = schema_reason("1", "t", validator, args)
    if isinstance(reason, InvalidParams) and isinstance(expected, InvalidParams):
        assert sorted(reason.problems) == sorted(expected.problems)
    else:
        assert reason == expected


def test_an_unusable_schema_is_not_checked() -> None:
    assert make_validator({"type": "no-such-type"}) is None
    assert schema_reason("1", "t", None, {}) is None


# Schemas as servers declare them: what the MCP SDK generates for `def echo(value: Any)`, the
# command server's `run_command`, and the keywords (enum, const, additionalProperties, $ref,
# bounds) a tool may use. Valid arguments pass; invalid ones are worded by jsonschema.
ECHO = {
    "type": "object",
    "properties": {"value": {"title": "Value"}},
    "required": ["value"],
    "title": "echoArguments",
}
RUN_COMMAND = {
    "type": "object",
    "properties": {
        "command": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "cwd": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "timeout": {"type": "number", "default": 60},
        "shell": {"type": ["boolean", "null"]},
    },
    "required": ["command"],
}
STRICT = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "mode": {"enum": ["a", "b"]},
        "fixed": {"const": "x"},
        "opts": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}
REFERENCED = {
    "$ref": "#/$defs/args",
    "$defs": {"args": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}},
}


@pytest.mark.parametrize(
    ("schema", "args"),
    [
        (ECHO, {"value": 5}),
        (ECHO, {"value": {"nested": [1, None]}, "extra": True}),
        (RUN_COMMAND, {"command": ["ls", "-l"], "cwd": None, "timeout": 1.5}),
        (STRICT, {"n": 3, "mode": "b", "fixed": "x", "opts": {"k": "v"}}),
        (REFERENCED, {"n": 0}),
        ({"properties": {"a": {"type": "string"}}}, {"a": "x"}),
    ],
)
def test_valid_arguments_pass(schema: dict[str, Any], args: dict[str, Any]) -> None:
    assert schema_reason("1", "t", make_validator(schema), args) is None


@pytest.mark.parametrize(
    ("schema", "args", "problem"),
    [
        (RUN_COMMAND, {"command": 5}, "command: 5 is not valid under any of the given schemas"),
        (STRICT, {"n": True}, "n: True is not of type 'integer'"),
        (STRICT, {"mode": "c"}, "mode: 'c' is not one of ['a', 'b']"),
        (
            STRICT,
            {"other": 1},
            "(arguments): Additional properties are not allowed ('other' was unexpected)",
        ),
        (STRICT, {"opts": {"k": 1}}, "opts/k: 1 is not of type 'string'"),
        (REFERENCED, {"n": -1}, "n: -1 is less than the minimum of 0"),
    ],
)
def test_invalid_arguments_are_worded_by_jsonschema(
    schema: dict[str, Any], args: dict[str, Any], problem: str
) -> None:
    assert schema_reason("1", "t", make_validator(schema), args) == InvalidParams(
        blocked_step="1", problems=[problem], suggested_tool="t"
    )


def test_a_missing_required_argument_is_a_schema_mismatch() -> None:
    assert schema_reason("1", "echo", make_validator(ECHO), {}) == SchemaMismatch(
        blocked_step="1", missing_fields=["value"], suggested_tool="echo"
    )
