"""The schema pre-check only ever proves validity: whenever it says yes, jsonschema agrees."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from claude_task_cli.run.schema_precheck import compile_precheck

SCHEMAS: list[dict[str, Any]] = [
    # what the MCP SDK generates for `def echo(value: Any)`
    {
        "type": "object",
        "properties": {"value": {"title": "Value"}},
        "required": ["value"],
        "title": "echoArguments",
    },
    {
        "type": "object",
        "properties": {
            "command": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "cwd": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "timeout": {"type": "number", "default": 60},
            "shell": {"type": ["boolean", "null"]},
        },
        "required": ["command"],
    },
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "mode": {"enum": ["a", "b"]},
            "fixed": {"const": "x"},
            "opts": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    },
    {"properties": {"a": {"type": "string"}}},  # no type: non-objects are valid to jsonschema
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "value",
                    "command",
                    "cwd",
                    "timeout",
                    "shell",
                    "n",
                    "mode",
                    "fixed",
                    "opts",
                    "a",
                    "z",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("schema", SCHEMAS)
@given(instance=JSON)
def test_a_yes_is_always_a_yes_from_jsonschema(schema: dict[str, Any], instance: Any) -> None:
    check = compile_precheck(schema)
    assert check is not None
    if check(instance):
        assert Draft202012Validator(schema).is_valid(instance)


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        (SCHEMAS[0], {"value": 5}),
        (SCHEMAS[0], {"value": {"nested": [1, None]}, "extra": True}),
        (SCHEMAS[1], {"command": ["ls", "-l"], "cwd": None, "timeout": 1.5}),
        (SCHEMAS[2], {"n": 3, "mode": "b", "fixed": "x", "opts": {"k": "v"}}),
    ],
)
def test_common_valid_arguments_are_proved_valid(schema: dict[str, Any], instance: Any) -> None:
    check = compile_precheck(schema)
    assert check is not None
    assert check(instance)


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        (SCHEMAS[0], {}),
        (SCHEMAS[1], {"command": 5}),
        (SCHEMAS[2], {"n": True}),
        (SCHEMAS[2], {"mode": "c"}),
        (SCHEMAS[2], {"other": 1}),
        (SCHEMAS[2], {"opts": {"k": 1}}),
    ],
)
def test_invalid_arguments_are_left_to_jsonschema(schema: dict[str, Any], instance: Any) -> None:
    check = compile_precheck(schema)
    assert check is not None
    assert not check(instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}},
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {"enum": [1, 2]},
        {"type": "object", "patternProperties": {"^x": {}}},
        False,
    ],
)
def test_schemas_outside_the_subset_are_not_compiled(schema: Any) -> None:
    assert compile_precheck(schema) is None
