"""What a step's server asks of the executor as a client, seen by the engine: a question nobody
answered and a tool that runs only as a task pause the step (no retry); a server's progress is an
event shown live and never stored. The caller is a fake (pure engine logic); the real servers are
in tests/mcp/test_client_side.py."""

from __future__ import annotations

from typing import Any

from claude_task_cli.outcomes import QuestionDeclined, RunStatus, StepStatus, TaskRequired
from claude_task_cli.run.handoff import handoff
from tests.run.engine_fakes import FakeCaller, Harness, Result, caller_for, doc_from, mcp

ASK = f"""# Task 90: Ask

## Task 1: Ask

- [ ] 1.1 Ask a person
{mcp("ask", retryable="true", retries="3")}
- [ ] 1.2 After the answer
{mcp("echo")}
"""

DECLINED = QuestionDeclined(
    blocked_step="",
    server="srv",
    question="Your name?",
    requested_schema={"type": "object", "properties": {"name": {"type": "string"}}},
    suggested_tool="ask",
)


def test_a_declined_question_pauses_the_step_with_it_and_is_not_retried(h: Harness) -> None:
    caller = caller_for("ask", "echo")
    caller.handlers["ask"] = lambda _s, _a: Result(text="declined", pause=DECLINED)
    doc = doc_from(ASK)
    outcome = h.run(doc, caller)
    assert outcome.status == RunStatus.PAUSED
    assert caller.count("ask") == 1  # retryable, yet a person is needed: no retry
    assert caller.count("echo") == 0
    reason = DECLINED.model_copy(update={"blocked_step": "1.1"})
    assert outcome.pause_reasons == [reason]
    assert outcome.step("1.1").result == "declined"  # what the tool said after the refusal
    paused = [e for e in h.events if e.kind == "step_paused"]
    assert [e.payload["reason"]["type"] for e in paused] == ["questionDeclined"]
    advice = handoff(outcome, doc).narrative()
    assert 'server srv asked "Your name?" (fields: name)' in advice
    assert "Run execute_task again in a terminal to answer it" in advice


def test_the_paused_step_is_asked_again_on_resume(h: Harness) -> None:
    caller = caller_for("ask", "echo")
    answers = iter([Result(text="declined", pause=DECLINED), Result(structured={"name": "Ada"})])
    caller.handlers["ask"] = lambda _s, _a: next(answers)
    doc = doc_from(ASK)
    assert h.run(doc, caller).status == RunStatus.PAUSED
    outcome = h.run(doc, caller)
    assert outcome.status == RunStatus.COMPLETED
    assert outcome.step("1.1").result == {"name": "Ada"}


def test_a_tool_that_must_run_as_a_task_pauses_with_nothing_recorded_as_its_result(
    h: Harness,
) -> None:
    caller = caller_for("ask", "echo")
    pause = TaskRequired(blocked_step="", server="srv", suggested_tool="ask")
    caller.handlers["ask"] = lambda _s, _a: Result(is_error=True, error="not called", pause=pause)
    doc = doc_from(ASK)
    outcome = h.run(doc, caller)
    assert outcome.status == RunStatus.PAUSED
    assert outcome.step("1.1").status == StepStatus.PAUSED
    assert outcome.step("1.1").result is None
    assert outcome.pause_reasons == [pause.model_copy(update={"blocked_step": "1.1"})]
    assert "runs only as an MCP task" in handoff(outcome, doc).narrative()


class Progressing(FakeCaller):
    """Says how its call goes, as a server's progress notifications would."""

    async def call(self, server: str, tool: str, args: Any = None, timeout: float | None = None,
                   *, on_progress: Any = None) -> Result:  # fmt: skip
        if on_progress is not None:
            for done in (1, 2):
                on_progress(float(done), 2.0, f"part {done}")
        return await super().call(server, tool, args, timeout)


def test_a_servers_progress_is_an_event_shown_and_not_stored(h: Harness) -> None:
    caller = Progressing(tools={"srv": {"ask": {"type": "object"}, "echo": {"type": "object"}}})
    outcome = h.run(doc_from(ASK), caller)
    assert outcome.status == RunStatus.COMPLETED
    heard = [e for e in h.events if e.kind == "step_progress"]
    assert [(e.step_id, e.payload) for e in heard[:2]] == [
        ("1.1", {"progress": 1.0, "total": 2.0, "message": "part 1"}),
        ("1.1", {"progress": 2.0, "total": 2.0, "message": "part 2"}),
    ]
    assert outcome.run_id is not None
    stored = {e.kind for e in h.store.events(outcome.run_id)}
    assert "step_completed" in stored
    assert "step_progress" not in stored
