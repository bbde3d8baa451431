"""Pause reasons serialise exactly like the PMCP seed; statuses and progress round-trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_task_cli.outcomes import (
    PAUSE_REASON,
    AwaitingClient,
    CommandServerUndeclared,
    Interrupted,
    InvalidParams,
    PauseReason,
    Progress,
    ProgressStep,
    QuestionDeclined,
    SchemaMismatch,
    StepStatus,
    TaskRequired,
    ToolError,
    UnresolvableParams,
    UnresolvedDependency,
    VerificationFailed,
    parse_pause_reason,
    pause_reason_json,
    step_of,
)

SEED_SHAPES: list[tuple[PauseReason, dict[str, object]]] = [
    (
        UnresolvableParams(blocked_step="2", missing_param="name", suggested_tool="greet"),
        {
            "type": "unresolvableParams",
            "blockedStep": "2",
            "missingParam": "name",
            "suggestedTool": "greet",
        },
    ),
    (
        SchemaMismatch(blocked_step="2", missing_fields=["a", "b"], suggested_tool="t"),
        {
            "type": "schemaMismatch",
            "blockedStep": "2",
            "missingFields": ["a", "b"],
            "suggestedTool": "t",
        },
    ),
    (
        # the seed's own example, verbatim
        ToolError(
            failed_step="deploy", error="timeout", retryable=True, suggested_tool="deploy_service"
        ),
        {
            "type": "toolError",
            "failedStep": "deploy",
            "error": "timeout",
            "retryable": True,
            "suggestedTool": "deploy_service",
        },
    ),
    (
        UnresolvedDependency(
            blocked_step="3", missing_output="${step:2/id}", producing_step="2", suggested_tool="t"
        ),
        {
            "type": "unresolvedDependency",
            "blockedStep": "3",
            "missingOutput": "${step:2/id}",
            "producingStep": "2",
            "suggestedTool": "t",
        },
    ),
]


@pytest.mark.parametrize(("reason", "expected"), SEED_SHAPES)
def test_seed_variants_have_the_exact_json_shape(
    reason: PauseReason, expected: dict[str, object]
) -> None:
    assert json.loads(pause_reason_json(reason)) == expected
    assert list(json.loads(pause_reason_json(reason))) == list(expected)  # key order too
    assert parse_pause_reason(json.dumps(expected)) == reason


def test_new_variants_use_the_same_style() -> None:
    reason = AwaitingClient(blocked_step="1.2", guidance="Write the spec")
    assert json.loads(pause_reason_json(reason)) == {
        "type": "awaitingClient",
        "blockedStep": "1.2",
        "guidance": "Write the spec",
        "suggestedTool": None,
    }
    shapes = {
        "interrupted": Interrupted(blocked_step="1", attempt=2, suggested_tool="x"),
        "commandServerUndeclared": CommandServerUndeclared(blocked_step="1", commands=["make"]),
        "verificationFailed": VerificationFailed(
            failed_step="1", expectation="a equals 1", actual=2
        ),
        "invalidParams": InvalidParams(
            blocked_step="1", problems=["a: 1 is not a string"], suggested_tool="t"
        ),
        "questionDeclined": QuestionDeclined(
            blocked_step="1",
            server="s",
            question="Your name?",
            requested_schema={"type": "object"},
            suggested_tool="t",
        ),
        "taskRequired": TaskRequired(blocked_step="1", server="s", suggested_tool="t"),
    }
    for tag, value in shapes.items():
        data = json.loads(pause_reason_json(value))
        assert data["type"] == tag
        assert all("_" not in key for key in data)
        assert PAUSE_REASON.validate_python(data) == value


def test_unknown_fields_and_tags_are_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        parse_pause_reason(
            '{"type":"toolError","failedStep":"1","error":"e","retryable":false,'
            '"suggestedTool":"t","extra":1}'
        )
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        parse_pause_reason('{"type":"nope","blockedStep":"1"}')


def test_step_of_names_the_blocked_or_failed_step() -> None:
    assert [step_of(reason) for reason, _ in SEED_SHAPES] == ["2", "2", "deploy", "3"]


def test_progress_document_shape() -> None:
    progress = Progress(
        goal="ship it",
        steps=[
            ProgressStep(name="1.1", tool="get_current_time", status=StepStatus.COMPLETED),
            ProgressStep(name="1.2", status=StepStatus.AWAITING_CLIENT),
        ],
    )
    assert json.loads(progress.model_dump_json()) == {
        "goal": "ship it",
        "steps": [
            {"name": "1.1", "tool": "get_current_time", "status": "completed"},
            {"name": "1.2", "tool": None, "status": "awaiting_client"},
        ],
        "schemaVersion": "1",
    }
    assert Progress.model_validate_json(progress.model_dump_json()) == progress


def test_client_blocking_statuses() -> None:
    assert {s for s in StepStatus if s.blocks_client} == {
        StepStatus.PAUSED,
        StepStatus.AWAITING_CLIENT,
    }


_text = st.text(min_size=0, max_size=12)


def _built(cls: type[Any], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[PauseReason]:
    # st.builds would also fill the camelCase aliases from the signature; build from a dict
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


_reasons = st.one_of(
    _built(UnresolvableParams, blocked_step=_text, missing_param=_text, suggested_tool=_text),
    _built(
        SchemaMismatch, blocked_step=_text, missing_fields=st.lists(_text), suggested_tool=_text
    ),
    _built(
        ToolError, failed_step=_text, error=_text, retryable=st.booleans(), suggested_tool=_text
    ),
    _built(
        UnresolvedDependency,
        blocked_step=_text,
        missing_output=_text,
        producing_step=_text,
        suggested_tool=_text,
    ),
    _built(AwaitingClient, blocked_step=_text, guidance=_text, suggested_tool=st.none() | _text),
    _built(
        VerificationFailed,
        failed_step=_text,
        expectation=_text,
        actual=st.none() | st.integers() | _text,
    ),
)


@given(_reasons)
def test_any_pause_reason_round_trips(reason: PauseReason) -> None:
    assert parse_pause_reason(pause_reason_json(reason)) == reason
