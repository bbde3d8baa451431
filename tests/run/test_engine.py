"""The engine's logic with a fake caller: ordering, concurrency, retries, pauses, resume."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from claude_task_cli.errors import (
    DocumentChangedError,
    RunLockedError,
    RunStateError,
    ServerStartError,
    StoreError,
)
from claude_task_cli.outcomes import (
    AwaitingClient,
    CommandServerUndeclared,
    Interrupted,
    InvalidParams,
    RunStatus,
    SchemaMismatch,
    StepStatus,
    ToolError,
    UnresolvableParams,
    UnresolvedDependency,
    VerificationFailed,
)
from claude_task_cli.run.continuation import record_step_result, status_of
from claude_task_cli.run.engine import execute
from claude_task_cli.run.handoff import handoff
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import fill_results
from claude_task_cli.store import Claim, Store
from tests.run.engine_fakes import (
    ANY_OBJECT,
    FakeCaller,
    Harness,
    Info,
    Result,
    caller_for,
    doc_from,
    mcp,
)


def statuses(outcome: Any) -> dict[str, str]:
    return {s.step_id: str(s.status) for s in outcome.steps}


CHAIN = f"""# Task 1: Chain

## Task 1: First

- [ ] 1.1 one
{mcp("work", args="{id: a}")}
- [ ] 1.2 two
{mcp("work", args="{id: b}")}

## Task 2: Second

**Depends on**: Task 1

- [ ] 2.1 three
{mcp("work", args="{id: c}")}
"""


def test_a_chain_runs_in_order_and_completes_by_itself(h: Harness) -> None:
    outcome = h.run(doc_from(CHAIN), caller_for("work"))
    assert outcome.status == outcome.run_status == RunStatus.COMPLETED
    assert outcome.pause_reasons == []
    starts = [e.step_id for e in h.events if e.kind == "step_started"]
    assert starts == ["1.1", "1.2", "2.1"]
    assert h.kinds()[0] == "run_started"
    assert h.kinds()[-1] == "run_completed"
    assert outcome.step("2.1").result == {"echo": {"id": "c"}}
    assert [(p.name, p.tool, p.status) for p in outcome.progress.steps] == [
        ("1.1", "work", "completed"),
        ("1.2", "work", "completed"),
        ("2.1", "work", "completed"),
    ]
    assert [e.kind for e in h.store.events(outcome.run_id or 0)] == h.kinds()  # all durable


def test_a_batch_the_database_refuses_while_a_call_runs_is_raised_and_nothing_is_lost(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journaled writes go to the database while a call is in flight; an error there is the
    run's error (raised once the running steps end), and a later write that succeeds puts
    everything journaled in the database."""
    refused: list[int] = []
    apply_due = Store.apply_due

    def failing(store: Store) -> None:
        if store._pending and not refused:
            refused.append(1)
            raise StoreError(store.path or "", "cannot write the state database: disk full")
        apply_due(store)

    monkeypatch.setattr(Store, "apply_due", failing)
    slow = CHAIN.replace("{id: b}", "{id: b, sleep: 0.3}")
    with pytest.raises(StoreError, match="disk full"):
        h.run(doc_from(slow), caller_for("work"))
    assert refused
    (run,) = h.store.runs()
    states = h.store.step_states(run.id)
    assert {uid: s.status for uid, s in states.items()} == dict.fromkeys(
        ("1.1", "1.2", "2.1"), StepStatus.COMPLETED
    )
    assert [e.kind for e in h.store.events(run.id)] == h.kinds()
    assert not list(h.store.path.parent.glob("state.db-steps-*"))


PARALLEL = "# Task 2: Fan out\n\n## Task 1: Wide\n\n" + "".join(
    f"- [ ] 1.{n} [P] step {n}\n{mcp('work', args=f'{{id: s{n}, sleep: 0.02}}')}\n"
    for n in range(1, 9)
)


def test_independent_steps_respect_the_concurrency_limit(h: Harness) -> None:
    caller = caller_for("work")
    outcome = h.run(doc_from(PARALLEL), caller, concurrency=3)
    assert outcome.status == RunStatus.COMPLETED
    assert caller.max_in_flight == 3
    assert caller.count("work") == 8


def test_a_step_starts_when_its_own_prerequisites_are_done_not_by_waves(h: Harness) -> None:
    doc = doc_from(f"""# Task 3: Not waves

## Task 1: Mixed

- [ ] 1.1 [P] slow
{mcp("work", args="{id: slow, sleep: 0.3}")}
- [ ] 1.2 [P] fast
{mcp("work", args="{id: fast}")}
- [ ] 1.3 after fast
  - Depends on: 1.2
{mcp("work", args="{id: next}")}
""")
    caller = caller_for("work")
    h.run(doc, caller, concurrency=4)
    spans = {name: (start, end) for name, start, end in caller.spans}
    assert spans["next"][0] < spans["slow"][1]  # 1.3 ran while 1.1 was still running


def test_ready_steps_are_taken_by_task_priority(h: Harness) -> None:
    doc = doc_from(f"""# Task 4: Priorities

## Task 1: Later [P]

**Priority**: LOW

- [ ] 1.1 low
{mcp("work", args="{id: low}")}

## Task 2: Sooner [P]

**Priority**: HIGH

- [ ] 2.1 high
{mcp("work", args="{id: high}")}
""")
    caller = caller_for("work")
    h.run(doc, caller, concurrency=1)
    assert [a["id"] for _s, _t, a in caller.calls] == ["high", "low"]


def flaky(failures: int) -> Any:
    seen = {"n": 0}

    def handler(_server: str, _args: dict[str, Any]) -> Result:
        seen["n"] += 1
        if seen["n"] <= failures:
            return Result(is_error=True, error=f"transient {seen['n']}", text="x")
        return Result(structured={"ok": seen["n"]})

    return handler


def one_step(fence: str) -> str:
    return f"# Task 5: One\n\n## Task 1: Only\n\n- [ ] 1.1 the step\n{fence}\n"


def test_a_retryable_step_retries_with_backoff_then_succeeds(h: Harness) -> None:
    caller = caller_for("work")
    caller.handlers["work"] = flaky(2)
    outcome = h.run(doc_from(one_step(mcp("work", retryable="true", retries="3"))), caller)
    assert outcome.status == RunStatus.COMPLETED
    assert outcome.step("1.1").attempts == 3
    assert outcome.step("1.1").result == {"ok": 3}
    assert h.kinds("1.1") == ["step_started", "step_retried"] * 2 + [
        "step_started",
        "step_completed",
    ]
    assert h.sleeps == [0.5, 1.0]
    attempts = h.store.attempts(outcome.run_id or 0)
    assert [(a.attempt, a.status, a.error) for a in attempts] == [
        (1, StepStatus.FAILED, "transient 1"),
        (2, StepStatus.FAILED, "transient 2"),
        (3, StepStatus.COMPLETED, None),
    ]


def test_an_exhausted_retry_budget_fails_with_a_retryable_tool_error(h: Harness) -> None:
    caller = caller_for("work")
    caller.handlers["work"] = flaky(10)
    outcome = h.run(doc_from(one_step(mcp("work", retryable="true", retries="1"))), caller)
    assert outcome.status == RunStatus.FAILED
    assert outcome.pause_reasons == [
        ToolError(failed_step="1.1", error="transient 2", retryable=True, suggested_tool="work")
    ]
    assert caller.count("work") == 2


def test_a_non_retryable_tool_error_is_not_retried(h: Harness) -> None:
    caller = caller_for("work")
    caller.handlers["work"] = flaky(1)
    outcome = h.run(doc_from(one_step(mcp("work", retries="3"))), caller)
    assert (outcome.status, caller.count("work")) == (RunStatus.FAILED, 1)
    assert outcome.pause_reasons[0] == ToolError(
        failed_step="1.1", error="transient 1", retryable=False, suggested_tool="work"
    )


SCHEMA = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}},
    "required": ["timezone"],
}


@pytest.mark.parametrize(
    ("fence", "expected"),
    [
        (
            mcp("tz", args="{}"),
            SchemaMismatch(blocked_step="1.1", missing_fields=["timezone"], suggested_tool="tz"),
        ),
        (
            mcp("tz", args="{timezone: 5}"),
            InvalidParams(
                blocked_step="1.1",
                problems=["timezone: 5 is not of type 'string'"],
                suggested_tool="tz",
            ),
        ),
        (
            mcp("nope"),
            ToolError(
                failed_step="1.1",
                error="server 'srv' has no tool 'nope' (it has: tz)",
                retryable=False,
                suggested_tool="nope",
            ),
        ),
    ],
)
def test_checks_before_the_call(h: Harness, fence: str, expected: Any) -> None:
    caller = caller_for("tz", tz=SCHEMA)
    outcome = h.run(doc_from(one_step(fence)), caller)
    assert outcome.pause_reasons == [expected]
    assert caller.calls == []  # nothing was called


def test_a_failed_expectation_fails_the_step_and_keeps_the_evidence(h: Harness) -> None:
    fence = mcp("work", args="{id: x}", expect="[{path: echo/id, equals: y}]")
    outcome = h.run(doc_from(one_step(fence)), caller_for("work"))
    step = outcome.step("1.1")
    assert (step.status, step.result) == (StepStatus.FAILED, {"echo": {"id": "x"}})
    assert step.pause_reason == VerificationFailed(
        failed_step="1.1", expectation="echo/id equals 'y'", actual="x", suggested_tool="work"
    )
    assert step.checks is not None
    assert step.checks[0]["passed"] is False


COMMANDS = """# Task 6: Commands

## Task 1: Shell

- [ ] 1.1 runs
  ```bash
  make check
  ```
"""


def test_commands_go_through_the_command_server(h: Harness) -> None:
    caller = caller_for("run_command", server="cmd")
    caller.handlers["run_command"] = lambda _s, a: Result(
        structured={"exit_code": 0, "stdout": a["script"]}
    )
    outcome = h.run(doc_from(COMMANDS), caller, command_server="cmd", command_cwd="/proj")
    assert outcome.status == RunStatus.COMPLETED
    args = {"script": "make check\n", "shell": "bash", "timeout": 600.0, "cwd": "/proj"}
    assert caller.calls == [("cmd", "run_command", args)]  # the block as one script
    assert outcome.step("1.1").result == {"exit_code": 0, "stdout": "make check\n"}


def test_a_non_zero_exit_code_fails_the_step(h: Harness) -> None:
    caller = caller_for("run_command", server="cmd")
    failing = {"exit_code": 2, "stderr": "boom", "failed_line": 1, "failed_command": "make check"}
    caller.handlers["run_command"] = lambda _s, _a: Result(structured=failing)
    outcome = h.run(doc_from(COMMANDS), caller, command_server="cmd")
    assert outcome.pause_reasons == [
        VerificationFailed(
            failed_step="1.1",
            expectation="'make check' at line 7 (the bash block at line 6) exits 0",
            actual=2,
            suggested_tool="run_command",
        )
    ]
    step = outcome.step("1.1")
    assert step.result == failing
    assert step.error == "'make check' at line 7 (the bash block at line 6) exited 2"


def test_a_command_steps_duration_leaves_out_the_servers_start(h: Harness) -> None:
    now, started = [0.0], set[str]()

    class SlowStart(FakeCaller):
        """Like ServerPool: the first use of a server (listing or call) starts it, in 5 s."""

        def start(self, server: str) -> None:
            if server not in started:
                started.add(server)
                now[0] += 5.0

        async def list_tools(self, server: str) -> dict[str, Info]:
            self.start(server)
            return await super().list_tools(server)

        async def call(
            self, server: str, tool: str, args: Any = None, timeout: float | None = None
        ) -> Result:
            self.start(server)
            return await super().call(server, tool, args, timeout)

    caller = SlowStart(tools={"cmd": {"run_command": ANY_OBJECT}})
    caller.handlers["run_command"] = lambda _s, _a: Result(structured={"exit_code": 0})
    outcome = h.run(doc_from(COMMANDS), caller, command_server="cmd", clock=lambda: now[0])
    assert outcome.status == RunStatus.COMPLETED
    assert outcome.step("1.1").duration_ms == 0.0


def test_commands_without_a_command_server_pause(h: Harness) -> None:
    outcome = h.run(doc_from(COMMANDS), FakeCaller())
    assert outcome.status == RunStatus.PAUSED
    assert outcome.pause_reasons == [
        CommandServerUndeclared(blocked_step="1.1", commands=["make check"])
    ]


DEPENDENCY = f"""# Task 7: Dependencies

## Task 1: Producer and consumers

- [ ] 1.1 produce
{mcp("bad")}
- [ ] 1.2 consume
  - Depends on: 1.1
{mcp("work", args='{v: "${step:1.1/id}"}')}
- [ ] 1.3 unrelated follower
  - Depends on: 1.1
{mcp("work")}
- [ ] 1.4 [P] independent branch
  - Depends on: none
{mcp("work", args="{id: free}")}
- [ ] 1.5 for a person
  - Depends on: none
  - Check it by hand
"""


def test_failures_skip_dependents_and_independent_branches_keep_running(h: Harness) -> None:
    caller = caller_for("bad", "work")
    caller.handlers["bad"] = lambda _s, _a: Result(is_error=True, error="exploded")
    outcome = h.run(doc_from(DEPENDENCY), caller)
    assert statuses(outcome) == {
        "1.1": "failed",
        "1.2": "skipped",
        "1.3": "skipped",
        "1.4": "completed",
        "1.5": "awaiting_client",
    }
    assert outcome.status == RunStatus.PAUSED  # the client can still act on 1.5
    by_step = {
        r.blocked_step if hasattr(r, "blocked_step") else r.failed_step: r
        for r in outcome.pause_reasons
    }
    assert by_step["1.2"] == UnresolvedDependency(
        blocked_step="1.2",
        missing_output="${step:1.1/id}",
        producing_step="1.1",
        suggested_tool="work",
    )
    assert outcome.step("1.3").pause_reason is None  # it does not consume 1.1's output
    assert outcome.step("1.3").error == "step 1.1 did not complete"
    assert isinstance(by_step["1.5"], AwaitingClient)
    assert "Check it by hand" in by_step["1.5"].guidance


def test_a_path_missing_from_a_completed_result_is_unresolvable(h: Harness) -> None:
    doc = doc_from(f"""# Task 8: Paths

## Task 1: T

- [ ] 1.1 produce
{mcp("work", args="{id: x}")}
- [ ] 1.2 consume
{mcp("work", args='{v: "${step:1.1/echo/missing}"}')}
""")
    outcome = h.run(doc, caller_for("work"))
    assert outcome.pause_reasons == [
        UnresolvableParams(blocked_step="1.2", missing_param="v", suggested_tool="work")
    ]
    assert outcome.status == RunStatus.PAUSED


def test_values_flow_between_steps_with_their_type(h: Harness) -> None:
    doc = doc_from(f"""# Task 9: Flow

## Task 1: T

- [ ] 1.1 produce
{mcp("work", args="{id: [1, 2]}")}
- [ ] 1.2 consume
{mcp("work", args='{whole: "${step:1.1/echo/id}", text: "n=${step:1.1/echo/id/1}"}')}
""")
    caller = caller_for("work")
    h.run(doc, caller)
    assert caller.calls[1][2] == {"whole": [1, 2], "text": "n=2"}


KEPT = f"""# Task 13: Kept results

## Task 1: T

- [ ] 1.1 read later
{mcp("work", args="{id: a}")}
- [ ] 1.2 reads 1.1
{mcp("work", args='{v: "${step:1.1/echo/id}"}')}
- [ ] 1.3 read by no one
{mcp("work", args="{id: c}")}
- [ ] 1.4 by hand
  - Check the three
"""


def test_a_run_holds_only_the_results_a_later_step_reads(h: Harness) -> None:
    doc = doc_from(KEPT)
    lean = h.run(doc, caller_for("work"), with_results=False)
    assert lean.status == RunStatus.PAUSED
    assert lean.step("1.1").result == {"echo": {"id": "a"}}  # a placeholder reads it
    assert lean.step("1.2").result is None  # in the store only
    assert lean.step("1.3").result is None
    assert lean.step("1.3").args == {"id": "c"}
    full = fill_results(lean, h.store)
    assert full.step("1.2").result == {"echo": {"v": "a"}}
    assert full.step("1.3").result == {"echo": {"id": "c"}}
    assert full.step("1.4").result is None
    # resumed, it reads the values of 1.1 only, and reads back the rest for its outcome
    resumed = h.run(doc, caller_for("work"))
    assert resumed.resumed
    assert [s.result for s in resumed.steps] == [s.result for s in full.steps]
    assert [s.args for s in resumed.steps] == [s.args for s in full.steps]


CLIENT = f"""# Task 10: Client work

## Task 1: T

- [x] 1.1 already done by the author
- [ ] 1.2 a person does this
  - Write the summary
- [ ] 1.3 then a tool
{mcp("work", args='{summary: "${step:1.2/text}"}')}

**Acceptance Criteria**:
- The summary exists

## Task 2: No steps at all

**Depends on**: none
"""


def test_client_work_pauses_and_continues_once_recorded(h: Harness) -> None:
    doc = doc_from(CLIENT)
    caller = caller_for("work")
    first = h.run(doc, caller)
    assert statuses(first) == {
        "1.1": "completed",
        "1.2": "awaiting_client",
        "1.3": "pending",
        "task:2": "awaiting_client",
    }
    assert first.step("1.1").source == "document"
    reason = first.step("1.2").pause_reason
    assert isinstance(reason, AwaitingClient)
    assert "Write the summary" in reason.guidance
    assert "The summary exists" in reason.guidance
    recorded = record_step_result(h.store, doc, "1.2", result={"text": "all good"})
    assert recorded.step("1.2").status == StepStatus.COMPLETED
    assert recorded.run_status == RunStatus.PAUSED  # task:2 still waits
    record_step_result(h.store, doc, "task:2", result=None)
    second = h.run(doc, caller)
    assert second.resumed
    assert second.status == RunStatus.COMPLETED
    assert caller.calls == [("srv", "work", {"summary": "all good"})]
    assert h.kinds()[-1] == "run_completed"


def test_recording_rules(h: Harness) -> None:
    doc = doc_from(CLIENT)
    with pytest.raises(RunStateError, match="no run yet"):
        record_step_result(h.store, doc, "1.2", result=1)
    h.run(doc, caller_for("work"))
    with pytest.raises(RunStateError, match=r"no step '9\.9'"):
        record_step_result(h.store, doc, "9.9", result=1)
    with pytest.raises(RunStateError, match="already completed"):
        record_step_result(h.store, doc, "1.1", result=1)
    failed = record_step_result(h.store, doc, "1.2", failure="could not do it")
    assert failed.step("1.2").status == StepStatus.FAILED
    again = h.run(doc, caller_for("work"))  # a recorded failure stands; 1.3 is skipped
    assert statuses(again)["1.2"] == "failed"
    assert statuses(again)["1.3"] == "skipped"


def test_the_last_recorded_result_completes_the_run(h: Harness) -> None:
    doc = doc_from(one_step("  - by hand"))
    assert h.run(doc, FakeCaller()).status == RunStatus.PAUSED
    done = record_step_result(h.store, doc, "1.1", result="done")
    assert done.run_status == RunStatus.COMPLETED
    assert status_of(doc, h.store).run_status == RunStatus.COMPLETED


def test_resume_never_reruns_completed_steps_and_retries_failed_ones(h: Harness) -> None:
    doc = doc_from(DEPENDENCY)
    caller = caller_for("bad", "work")
    caller.handlers["bad"] = lambda _s, _a: Result(is_error=True, error="exploded")
    first = h.run(doc, caller)
    caller.handlers["bad"] = lambda _s, _a: Result(structured={"id": "fixed"})
    second = h.run(doc, caller)
    assert (second.run_id, second.resumed) == (first.run_id, True)
    assert [a for _s, t, a in caller.calls if t == "work"] == [{"id": "free"}, {"v": "fixed"}, {}]
    assert statuses(second)["1.5"] == "awaiting_client"
    assert h.kinds().count("resumed") == 1


def test_a_step_found_running_after_a_crash(tmp_path: Path) -> None:
    doc = doc_from(f"""# Task 11: Crash

## Task 1: T

- [ ] 1.1 [P] safe to repeat
{mcp("work", args="{id: again}", retryable="true")}
- [ ] 1.2 [P] not safe to repeat
{mcp("work", args="{id: once}")}
""")
    h = Harness(Store(tmp_path / "state.db"))
    dead = Claim(host="gone.example", pid=1)
    run, _ = h.store.open_run(
        doc_key="id:11", doc_path="doc.md", doc_id="11", sha256=doc.source.sha256, claim=dead
    )
    h.store.start_attempt(run.id, "1.1", {"id": "again"})
    h.store.start_attempt(run.id, "1.2", {"id": "once"})
    h.store.stale_after = 0  # the dead executor's heartbeat is stale at once
    caller = caller_for("work")
    outcome = h.run(doc, caller)
    assert [a["id"] for _s, _t, a in caller.calls] == ["again"]
    assert outcome.pause_reasons == [
        Interrupted(blocked_step="1.2", attempt=1, suggested_tool="work")
    ]
    again = h.run(doc, caller)  # still paused: never re-run blindly
    assert [a["id"] for _s, _t, a in caller.calls] == ["again"]
    assert again.pause_reasons == outcome.pause_reasons
    record_step_result(h.store, doc, "1.2", result={"checked": True})
    assert status_of(doc, h.store).run_status == RunStatus.COMPLETED
    h.store.close()


def test_a_changed_document_is_reported_unless_a_new_run_is_asked(h: Harness) -> None:
    h.run(doc_from(one_step("  - by hand")), FakeCaller())
    changed = doc_from(one_step("  - by hand, changed"))
    with pytest.raises(DocumentChangedError):
        h.run(changed, FakeCaller())
    assert not h.run(changed, FakeCaller(), new_run=True).resumed


def test_a_second_executor_is_refused_and_nothing_runs(h: Harness) -> None:
    doc = doc_from(CHAIN)
    h.store.open_run(
        doc_key="id:1", doc_path="doc.md", doc_id="1", sha256=doc.source.sha256, claim=Claim()
    )
    caller = caller_for("work")
    with pytest.raises(RunLockedError):
        h.run(doc, caller)
    assert caller.calls == []


def test_a_selection_runs_the_step_and_what_it_needs(h: Harness) -> None:
    doc = doc_from(CHAIN)
    caller = caller_for("work")
    outcome = h.run(doc, caller, only_step="1.2")
    assert [a["id"] for _s, _t, a in caller.calls] == ["a", "b"]
    assert (outcome.status, outcome.run_status) == (RunStatus.COMPLETED, RunStatus.PAUSED)
    assert not outcome.step("2.1").selected
    rest = h.run(doc, caller, only_task="2")
    assert [a["id"] for _s, _t, a in caller.calls] == ["a", "b", "c"]
    assert rest.run_status == RunStatus.COMPLETED
    with pytest.raises(RunStateError, match="no task '7'"):
        h.run(doc, caller, only_task="7")


def test_a_dry_run_plans_and_touches_nothing(h: Harness) -> None:
    doc = doc_from(DEPENDENCY)
    outcome = h.run(doc, FakeCaller(), dry_run=True)
    assert outcome.dry_run
    assert outcome.run_id is None
    assert h.store.runs() == []
    assert outcome.plan is not None
    plan = {p.step_id: p for p in outcome.plan}
    assert plan["1.1"].wave == plan["1.4"].wave == 1
    assert plan["1.2"].wave == 2
    assert plan["1.2"].args == {"v": "<result of step 1.1 at /id>"}


def test_a_dry_run_plans_what_the_real_run_would_do(h: Harness) -> None:
    doc = doc_from(CHAIN)
    caller = caller_for("work")
    h.run(doc, caller, only_step="1.1")  # paused: 1.1 done, the rest not selected

    def planned(**options: Any) -> list[str]:
        outcome = h.run(doc, FakeCaller(), dry_run=True, **options)
        assert outcome.plan is not None
        return [p.step_id for p in outcome.plan]

    assert planned() == ["1.2", "2.1"]  # resumes the paused run
    assert planned(new_run=True) == ["1.1", "1.2", "2.1"]  # --no-resume starts afresh
    h.run(doc, caller)
    assert h.store.latest_run(h.store.runs()[0].doc_key).status == RunStatus.COMPLETED
    assert planned() == ["1.1", "1.2", "2.1"]  # after a completed run: a new one
    h.run(doc, caller, only_step="1.1", new_run=True)  # paused again
    changed = replace(doc, source=replace(doc.source, sha256="f" * 64))
    with pytest.raises(DocumentChangedError):
        h.run(changed, FakeCaller(), dry_run=True)
    outcome = h.run(changed, FakeCaller(), dry_run=True, new_run=True)
    assert outcome.plan is not None
    assert len(outcome.plan) == 3


def test_a_server_that_cannot_start_stops_the_run_after_recording_it(h: Harness) -> None:
    class Broken(FakeCaller):
        async def list_tools(self, server: str) -> Any:
            raise ServerStartError(server, "cannot run it", ["Traceback ...", "ImportError: x"])

    with pytest.raises(ServerStartError):
        h.run(doc_from(CHAIN), Broken())
    run = h.store.runs()[0]
    assert run.status == RunStatus.FAILED
    assert run.claim_token is None
    latest = h.store.step_states(run.id)
    assert latest["1.1"].status == StepStatus.FAILED
    assert "failed to start" in (latest["1.1"].error or "")


def test_the_handoff_names_what_was_done_and_what_remains(h: Harness) -> None:
    doc = doc_from(DEPENDENCY)
    caller = caller_for("bad", "work")
    caller.handlers["bad"] = lambda _s, _a: Result(is_error=True, error="exploded")
    result = handoff(h.run(doc, caller), doc)
    assert result.task_id == "7"
    assert [d.step_id for d in result.done] == ["1.4"]
    remaining = {r.step_id: r for r in result.remaining}
    assert remaining["1.2"].arguments == {"v": "<result of step 1.1 at /id>"}
    assert remaining["1.2"].tool == "work"
    text = result.narrative()
    headline = "Run 1 of document 7 is paused: 1 of 5 steps done; 1 failed, 1 awaiting the client"
    assert headline + ", 2 skipped." in text
    assert 'Call work on server srv with {"v": "<result of step 1.1 at /id>"}' in text
    assert "bad reported: exploded" in text
    assert "For the client: do this step" in text


def test_events_reach_the_callback_in_stored_order(h: Harness) -> None:
    outcome = h.run(doc_from(PARALLEL), caller_for("work"), concurrency=4)
    stored = h.store.events(outcome.run_id or 0)
    assert [(e.kind, e.step_id) for e in stored] == [(e.kind, e.step_id) for e in h.events]


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RunOptions(concurrency=0)


def committed_status(path: Path, step: str) -> str | None:
    """What another process would read: a separate connection, no help from the engine."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT status FROM step_attempts WHERE step_id = ? ORDER BY attempt DESC LIMIT 1",
            (step,),
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


@pytest.mark.parametrize("layout", ["chained", "parallel"])
def test_a_settled_step_reaches_the_database_while_the_run_waits(h: Harness, layout: str) -> None:
    second = "  - Depends on: 1.1" if layout == "chained" else "  - Depends on: none"
    doc = doc_from(f"""# Task 12: Durable

## Task 1: T

- [ ] 1.1 quick
{mcp("quick")}
- [ ] 1.2 slow
{second}
{mcp("slow")}
""")
    seen: dict[str, str | None] = {}

    async def slow(_server: str, _args: dict[str, Any]) -> Result:
        for _ in range(100):  # wait until 1.1 has settled in memory, then look at the disk
            if h.kinds("1.1")[-1:] == ["step_completed"]:
                break
            await asyncio.sleep(0.01)
        for _ in range(100):  # in the database within ~2 × APPLY_AFTER (the step journal)
            seen["1.1"] = committed_status(h.store.path, "1.1")
            seen["1.2"] = committed_status(h.store.path, "1.2")
            if seen["1.1"] == "completed":
                break
            await asyncio.sleep(0.01)
        return Result(structured={"ok": True})

    caller = caller_for("quick", "slow")
    caller.handlers["slow"] = slow
    outcome = h.run(doc, caller, concurrency=2)
    assert outcome.status == RunStatus.COMPLETED
    assert seen == {"1.1": "completed", "1.2": "running"}


def test_a_cancelled_run_is_recorded_stopped_with_its_calls_interrupted(h: Harness) -> None:
    doc = doc_from(f"""# Task 14: Cancelled

## Task 1: T

- [ ] 1.1 [P] not safe to repeat
{mcp("hang", args="{id: once}")}
- [ ] 1.2 [P] safe to repeat
  - Depends on: none
{mcp("hang", args="{id: again}", retryable="true")}
""")
    calling: asyncio.Event | None = None
    both = [0]

    async def hang(_server: str, _args: dict[str, Any]) -> Result:
        assert calling is not None
        both[0] += 1
        if both[0] == 2:
            calling.set()
        await asyncio.sleep(3600)
        raise AssertionError("never answered")

    caller = caller_for("hang")
    caller.handlers["hang"] = hang

    async def cancelled() -> None:
        nonlocal calling
        calling = asyncio.Event()
        run = asyncio.create_task(
            execute(doc, caller, h.store, RunOptions(concurrency=2), on_event=h.events.append)
        )
        await asyncio.wait_for(calling.wait(), timeout=20)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(cancelled())
    (run,) = h.store.runs()
    states = h.store.step_states(run.id)
    assert (run.status, run.claim_token) == (RunStatus.PAUSED, None)
    assert states["1.1"].status == StepStatus.PAUSED
    assert states["1.1"].pause_reason == Interrupted(
        blocked_step="1.1",
        attempt=1,
        suggested_tool="hang",
        cause="the run was stopped while it ran",
    )
    assert states["1.2"].status == StepStatus.FAILED  # its attempt closed; it runs again
    assert [a.status for a in h.store.attempts(run.id)] == [
        StepStatus.FAILED, StepStatus.PAUSED, StepStatus.FAILED,
    ]  # fmt: skip
    assert "step_interrupted" in h.kinds("1.2")
    again = h.run(doc, caller_for("hang"))  # resumed: 1.2 runs again, 1.1 waits for the client
    assert [a["id"] for _s, _t, a in caller.calls] == ["once", "again"]
    assert again.step("1.2").status == StepStatus.COMPLETED
    assert again.pause_reasons == [states["1.1"].pause_reason]
