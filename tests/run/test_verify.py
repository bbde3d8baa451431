"""Expectations checked against results: paths, each condition, evidence kept."""

from __future__ import annotations

from typing import Any

import pytest

from claude_task_cli.convert.contract import expectation
from claude_task_cli.convert.model import Expectation
from claude_task_cli.run.verify import MISSING, check, describe, lookup, verify

RESULT = {
    "timezone": "UTC",
    "items": [{"name": "a", "n": 1}, {"name": "b", "n": 2}],
    "flag": True,
    "count": 9,
}


def exp(**fields: Any) -> Expectation:
    return expectation(fields)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", RESULT),
        ("timezone", "UTC"),
        ("/items/1/name", "b"),
        ("items/0", {"name": "a", "n": 1}),
        ("items/5", MISSING),
        ("items/x", MISSING),
        ("timezone/deeper", MISSING),
        ("nope", MISSING),
    ],
)
def test_lookup_walks_keys_and_indexes(path: str, expected: Any) -> None:
    assert (
        lookup(RESULT, path) == expected
        if expected is not MISSING
        else lookup(RESULT, path) is MISSING
    )


def test_lookup_parses_text_results_as_json() -> None:
    assert lookup('{"a": [10, 20]}', "a/1") == 20
    assert lookup("plain text", "a") is MISSING
    assert lookup("plain text", "") == "plain text"


@pytest.mark.parametrize(
    ("fields", "passed"),
    [
        ({"path": "timezone", "equals": "UTC"}, True),
        ({"path": "timezone", "equals": "CET"}, False),
        ({"path": "count", "equals": "9"}, True),  # text vs number, as an author means it
        ({"path": "flag", "equals": 1}, False),  # but True is not 1
        ({"path": "flag", "equals": True}, True),
        ({"path": "items/0", "equals": {"name": "a", "n": 1}}, True),
        ({"path": "timezone", "contains": "T"}, True),
        ({"path": "items", "contains": "a"}, False),  # no element equals "a"
        ({"path": "items/0", "contains": "name"}, True),  # an object's key
        ({"path": "timezone", "matches": "^U.C$"}, True),
        ({"path": "count", "matches": r"^\d$"}, True),
        ({"path": "timezone", "matches": "("}, False),
        ({"path": "nope", "exists": False}, True),
        ({"path": "nope", "exists": True}, False),
        ({"path": "timezone", "exists": False}, False),
        ({"path": "timezone"}, True),  # a bare path asserts existence
        ({"path": "nope"}, False),
        ({"path": "nope", "equals": None}, False),
        ({"path": "timezone", "equals": "UTC", "contains": "X"}, False),  # all must hold
    ],
)
def test_conditions(fields: dict[str, Any], passed: bool) -> None:
    result = check(exp(**fields), RESULT)
    assert result.passed is passed, result.message


def test_exit_code_of_a_command_result() -> None:
    ran = {"exit_code": 2, "stdout": "", "stderr": "boom", "duration_ms": 1.0, "timed_out": False}
    failed = check(exp(exit_code=0), ran)
    assert (failed.passed, failed.message) == (False, "exit_code is 2")
    assert check(exp(exit_code=2), ran).passed
    assert check(exp(exit_code=0), "text").message == "no exit_code in the result"


def test_failures_keep_the_evidence() -> None:
    checks = verify([exp(path="timezone", equals="CET"), exp(path="count", equals=9)], RESULT)
    assert [c.passed for c in checks] == [False, True]
    first = checks[0]
    assert (first.actual, first.message) == ("UTC", "is 'UTC'")
    assert first.description == "timezone equals 'CET'"
    assert first.to_json()["expectation"]["equals"] == "CET"
    missing = check(exp(path="a/b", equals=1), RESULT)
    assert (missing.actual, missing.message) == (None, "path not found")


def test_descriptions() -> None:
    assert describe(exp(exit_code=0)) == "result has exit_code 0"
    assert describe(exp(path="x", exists=False)) == "x is absent"
    assert describe(exp(path="x", contains="y", matches="z")) == "x contains 'y' and matches /z/"
    assert describe(exp(path="x")) == "x exists"


# A result holding text beside its structured content (`mcp/content.py`).
WHOLE = {
    "structuredContent": {"copied": 5, "items": ["a", "b"]},
    "content": [
        {"type": "text", "text": '{"copied": 5, "items": ["a", "b"]}'},
        {"type": "text", "text": "WARNING: 2 files skipped"},
        {"type": "image", "mimeType": "image/png", "size": 3, "sha256": "ab"},
    ],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", WHOLE["structuredContent"]),  # a whole placeholder: the structured content
        ("copied", 5),  # as without the blocks
        ("items/1", "b"),
        ("structuredContent/copied", 5),
        ("content/1/text", "WARNING: 2 files skipped"),
        ("content/2/sha256", "ab"),
        ("content/9", MISSING),
    ],
)
def test_lookup_in_a_result_with_blocks_beside_structured_content(path: str, expected: Any) -> None:
    found = lookup(WHOLE, path)
    assert found is expected if expected is MISSING else found == expected


def test_a_content_key_of_the_structured_content_wins_over_the_blocks() -> None:
    whole = {
        "structuredContent": {"content": "file body"},
        "content": [{"type": "text", "text": "x"}],
    }
    assert lookup(whole, "content") == "file body"


@pytest.mark.parametrize(
    ("fields", "passed"),
    [
        ({"contains": "WARNING: 2 files skipped"}, True),  # a text block
        ({"contains": "copied"}, True),  # a key of the structured content
        ({"contains": "ERROR"}, False),
        ({"matches": r"WARNING: \d files"}, True),
        ({"matches": r"\"copied\": 5"}, True),  # the structured content's JSON text
        ({"matches": "^ERROR"}, False),
        ({"equals": {"copied": 5, "items": ["a", "b"]}}, True),
        ({"path": "copied", "equals": 5}, True),
        ({"path": "content/1/text", "contains": "2 files"}, True),
        ({"path": "copied", "contains": "WARNING"}, False),  # with a path: only that value
    ],
)
def test_checks_see_text_blocks_and_structured_content_alike(
    fields: dict[str, Any], passed: bool
) -> None:
    result = check(exp(**fields), WHOLE)
    assert result.passed is passed, result.message


def test_a_failed_check_on_both_says_so() -> None:
    result = check(exp(contains="ERROR"), WHOLE)
    assert result.actual == WHOLE["structuredContent"]
    assert result.message.endswith("does not contain 'ERROR' (nor does a text block)")
