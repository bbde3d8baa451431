"""The completion matrix: its arithmetic, its states and reasons; the outline it judges; and
`task_status`'s read of a run (store → evidence → matrix) on real recorded runs."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.outcomes import RunStatus, StepStatus, parse_pause_reason
from claude_task_cli.project import project_root
from claude_task_cli.project import project_root as store_project_root
from claude_task_cli.report.failure_text import describe_reason
from claude_task_cli.report.matrix import (
    Completion,
    State,
    build_matrix,
    percent,
)
from claude_task_cli.report.outline import Outline, TaskOutline, UnitOutline, outline_of
from claude_task_cli.report.status import completion_of, matrix_json, state_path_for
from claude_task_cli.store import Claim, Store, default_state_path
from claude_task_cli.store.records import RunRecord, StepState
from tests.report.regen_reports import DOCUMENTS, fixture_document, fixture_evidence, restore

DEMO = DOCUMENTS[0]

SHA = "a" * 64


def outline(*tasks: tuple[str, list[str], list[tuple[str, list[str]]]]) -> Outline:
    """tasks: (id, task deps, [(step id, step deps)])."""
    units = {}
    rows = []
    for tid, deps, steps in tasks:
        for sid, sdeps in steps:
            units[sid] = UnitOutline(sid, tid, f"step {sid}", "tool", tuple(sdeps), "srv", "tool")
        rows.append(TaskOutline(tid, f"task {tid}", tuple(deps), tuple(s for s, _ in steps)))
    return Outline("900", "Doc", "doc.md", SHA, tuple(rows), units)


TWO_TASKS = outline(
    ("1", [], [("1.1", []), ("1.2", ["1.1"]), ("1.3", ["1.2"])]),
    ("2", ["1"], [("2.1", [])]),
)


def run(sha: str = SHA, **steps: StepState) -> tuple[RunRecord, dict[str, StepState]]:
    """A run record and its steps' states (`1_2=` for step 1.2)."""
    record = RunRecord(1, "k", "doc.md", "900", sha, RunStatus.PAUSED, 1.0, 2.0)
    return record, {k.replace("_", "."): v for k, v in steps.items()}


def fact(
    status: str,
    *,
    attempts: int = 0,
    duration_ms: float | None = None,
    error: str | None = None,
    reason: dict[str, object] | None = None,
    checks_passed: int = 0,
    checks_failed: int = 0,
    source: str = "engine",
) -> StepState:
    """A step's state as the store folds it, from what the matrix reads of it."""
    known = {s.value for s in StepStatus}
    return StepState(
        status=StepStatus(status) if status in known else status,  # type: ignore[arg-type]
        source=source,
        error=error,
        pause_reason=None if reason is None else parse_pause_reason(json.dumps(reason)),
        checks=[{"passed": True}] * checks_passed + [{"passed": False}] * checks_failed,
        attempts=attempts,
        total_ms=duration_ms,
    )


def done(ms: float = 10.0, passed: int = 1) -> StepState:
    return fact("completed", attempts=1, duration_ms=ms, checks_passed=passed)


@pytest.mark.parametrize(
    ("done_", "total", "expected"),
    [
        (0, 0, 0.0),
        (0, 3, 0.0),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (7, 9, 77.8),
        (1, 8, 12.5),  # a half rounds up
        (999, 1000, 99.9),
        (9999, 10000, 99.9),  # never 100.0 short of all
        (1, 10000, 0.1),  # never 0.0 above none
        (3, 3, 100.0),
    ],
)
def test_percentages_are_rounded_but_100_means_all_and_0_none(
    done_: int, total: int, expected: float
) -> None:
    assert percent(done_, total) == expected


def test_a_complete_run_is_complete() -> None:
    m = build_matrix(
        TWO_TASKS, *run(**{"1_1": done(), "1_2": done(), "1_3": done(), "2_1": done()})
    )
    assert (m.verdict, m.reasons) == (Completion.COMPLETE, ())
    assert (m.steps_complete, m.steps_total, m.step_percent) == (4, 4, 100.0)
    assert (m.tasks_complete, m.task_percent, m.checks_passed, m.checks_failed) == (2, 100.0, 4, 0)
    assert all(r.failure is None and r.blocked_by == () for r in m.steps)
    assert m.task("1").duration_ms == 30.0


def test_a_partial_run_counts_what_is_done_and_names_what_blocks_the_rest() -> None:
    m = build_matrix(TWO_TASKS, *run(**{"1_1": done()}))
    assert m.verdict == Completion.INCOMPLETE
    assert (m.steps_complete, m.step_percent, m.tasks_complete, m.task_percent) == (1, 25.0, 0, 0.0)
    rows = {r.id: r for r in m.steps}
    assert rows["1.2"].state == State.NOT_RUN
    assert rows["1.2"].failure == "not run"
    assert rows["1.2"].blocked_by == ()  # its prerequisite completed: nothing blocks it
    assert rows["1.3"].blocked_by == ("1.2",)
    assert rows["2.1"].blocked_by == ("task 1",)
    assert m.task("2").blocked_by == ("1",)
    assert m.task("1").percent == 33.3
    assert m.reasons == ("3 of 4 steps are not complete",)


def test_a_failed_step_and_the_step_skipped_because_of_it() -> None:
    failed = fact(
        "failed",
        attempts=3,
        duration_ms=30.0,
        error="boom",
        reason={
            "type": "toolError",
            "failedStep": "1.2",
            "error": "boom\nmore",
            "retryable": True,
            "suggestedTool": "t",
        },
    )
    skipped = fact(
        "skipped",
        error="step 1.2 did not complete",
        reason={
            "type": "unresolvedDependency",
            "blockedStep": "1.3",
            "missingOutput": "${step:1.2/x}",
            "producingStep": "1.2",
            "suggestedTool": "t",
        },
    )
    m = build_matrix(TWO_TASKS, *run(**{"1_1": done(), "1_2": failed, "1_3": skipped}))
    rows = {r.id: r for r in m.steps}
    assert rows["1.2"].failure == "tool error (retryable): boom"
    assert rows["1.2"].attempts == 3
    assert rows["1.3"].state == State.SKIPPED
    assert rows["1.3"].failure == (
        "skipped: needs ${step:1.2/x} from step 1.2, which did not complete"
    )
    assert rows["1.3"].blocked_by == ("1.2",)
    assert m.task("1").state == State.FAILED
    assert m.task("1").failures == ("1.2", "1.3")


def test_paused_and_awaiting_the_client_are_incomplete_and_the_task_shows_the_most_urgent() -> None:
    paused = fact(
        "paused",
        reason={
            "type": "schemaMismatch",
            "blockedStep": "1.2",
            "missingFields": ["timezone"],
            "suggestedTool": "get_current_time",
        },
    )
    waiting = fact(
        "awaiting_client",
        reason={"type": "awaitingClient", "blockedStep": "2.1", "guidance": "2.1: look\n- more"},
    )
    m = build_matrix(TWO_TASKS, *run(**{"1_1": done(), "1_2": paused, "2_1": waiting}))
    rows = {r.id: r for r in m.steps}
    assert rows["1.2"].failure == (
        "paused: arguments for get_current_time lack required fields: timezone"
    )
    assert rows["2.1"].failure == "awaiting the client: 2.1: look"
    assert m.task("1").state == State.PAUSED  # paused outranks the not-run 1.3
    assert m.task("2").state == State.AWAITING_CLIENT
    assert m.verdict == Completion.INCOMPLETE


def test_a_completed_step_whose_check_failed_is_not_complete() -> None:
    checked = fact("completed", attempts=1, checks_passed=1, checks_failed=1)
    m = build_matrix(
        TWO_TASKS, *run(**{"1_1": done(), "1_2": checked, "1_3": done(), "2_1": done()})
    )
    row = next(r for r in m.steps if r.id == "1.2")
    assert (row.state, row.completion) == (State.COMPLETED, Completion.INCOMPLETE)
    assert row.failure == "verification failed: 1 of 2 checks"
    assert m.task("1").state == State.FAILED
    assert m.reasons == ("1 of 4 steps is not complete", "1 check failed")


def test_an_empty_run_and_no_run_at_all() -> None:
    empty = build_matrix(TWO_TASKS, *run())
    assert (empty.verdict, empty.step_percent, empty.run_id) == (Completion.INCOMPLETE, 0.0, 1)
    assert {r.state for r in empty.steps} == {State.NOT_RUN}
    none = build_matrix(TWO_TASKS, None)
    assert not none.has_evidence
    assert none.reasons == ("no evidence recorded: the document has no recorded run",)
    assert all(r.failure == "not run" and r.source is None for r in none.steps)


def test_a_document_without_steps_is_never_complete() -> None:
    m = build_matrix(outline(), *run())
    assert (m.steps_total, m.step_percent, m.verdict) == (0, 0.0, Completion.INCOMPLETE)
    assert m.reasons == ("the document has no steps: nothing was verified",)


def test_evidence_for_another_version_of_the_document_is_not_completion() -> None:
    steps = {"1_1": done(), "1_2": done(), "1_3": done(), "2_1": done()}
    m = build_matrix(TWO_TASKS, *run(sha="b" * 64, **steps))
    assert m.document_changed
    assert m.step_percent == 100.0
    assert m.verdict == Completion.INCOMPLETE
    assert m.reasons == ("the document changed since run 1 recorded its evidence",)


def test_an_unknown_stored_status_reads_as_not_run() -> None:
    m = build_matrix(TWO_TASKS, *run(**{"1_1": fact("pending"), "1_2": fact("zzz")}))
    assert [r.state for r in m.steps[:2]] == [State.NOT_RUN, State.NOT_RUN]


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (
            {"type": "unresolvableParams", "missingParam": "${step:1/x}", "suggestedTool": "t"},
            "unresolvable parameter ${step:1/x} for t",
        ),
        (
            {"type": "invalidParams", "problems": ["a", "b"], "suggestedTool": "t"},
            "invalid arguments for t: a; b",
        ),
        ({"type": "interrupted", "attempt": 2}, "interrupted during attempt 2; record its outcome"),
        (
            {"type": "commandServerUndeclared"},
            "shell commands, but .mcp.json declares no command server",
        ),
        (
            {"type": "verificationFailed", "expectation": "x equals 1", "actual": 2},
            "verification failed: x equals 1 (actual: 2)",
        ),
        ({"type": "somethingNew"}, "somethingNew"),
    ],
)
def test_every_pause_reason_reads_as_one_line(reason: dict[str, object], text: str) -> None:
    assert describe_reason(reason) == text


def test_the_matrix_to_dict_is_json_ready_and_ordered() -> None:
    data = build_matrix(TWO_TASKS, *run(**{"1_1": done()})).to_dict()
    assert list(data)[:4] == ["doc_id", "title", "run_id", "run_status"]
    assert [s["id"] for s in data["steps"]] == ["1.1", "1.2", "1.3", "2.1"]
    assert data["steps"][1]["state"] == "not_run"


# -- the outline --------------------------------------------------------------------------------


def test_the_outline_of_a_real_document() -> None:
    doc = fixture_document(DOCUMENTS[0])
    built = outline_of(doc)
    assert list(built.units) == [s.id for _t, s in doc.all_steps()]
    assert built.units["1.4"].depends_on == ("1.3",)
    assert built.units["1.1"].tool == "run_command"
    assert built.units["1.1"].kind == "commands"
    assert [t.units for t in built.tasks][2] == ("3.1",)


# -- task_status: store → evidence → matrix -----------------------------------------------------


class Recorded:
    """A fixture's recorded run in a scratch database, beside a copy of its document."""

    def __init__(self, tmp_path: Path, document: Path = DOCUMENTS[0]) -> None:
        self.doc = fixture_document(document)
        self.database = restore(document.with_suffix(".run.sql"), tmp_path / "state.db")
        with Store(self.database) as store:
            self.run = store.runs()[0]
        self.document = tmp_path / document.name
        self.document.write_bytes(document.read_bytes())

    def status(self) -> dict[str, object]:
        matrix = completion_of(
            self.document, self.doc, state_path=self.database, doc_key=self.run.doc_key
        )
        data: dict[str, object] = json.loads(matrix_json(matrix))
        return data


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_task_status_reads_what_the_reports_read(document: Path, tmp_path: Path) -> None:
    doc, recorded = fixture_evidence(document, tmp_path)
    assert recorded is not None
    database = tmp_path / f"{document.stem}.db"
    key = evidence_key(database)
    status = completion_of(tmp_path / document.name, doc, state_path=database, doc_key=key)
    assert status == build_matrix(outline_of(doc), recorded.record, recorded.states)
    assert status.run_id == 1
    unrecorded = completion_of(tmp_path / document.name, doc, state_path=database, doc_key="x")
    assert (unrecorded.run_id, unrecorded.verdict) == (None, Completion.INCOMPLETE)
    absent = tmp_path / "absent" / "state.db"
    assert completion_of(tmp_path / document.name, doc, state_path=absent).run_id is None
    assert not absent.parent.exists()  # never created only to find it empty


def evidence_key(database: Path) -> str:
    with Store(database) as store:
        return store.runs()[0].doc_key


def test_task_status_json_is_compact_and_keeps_non_ascii(tmp_path: Path) -> None:
    recorded = Recorded(tmp_path)
    matrix = completion_of(
        recorded.document, recorded.doc, state_path=recorded.database, doc_key=recorded.run.doc_key
    )
    text = matrix_json(matrix)
    assert text == json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))
    assert text.startswith('{"doc_id":"020","title":"Report evidence {{ 7*7 }} demo","run_id":1,')
    assert json.loads(text)["steps"][0]["state"] == "completed"
    assert '"title":"Überprüfung"' in matrix_json(replace(matrix, title="Überprüfung"))


def test_any_change_to_the_run_is_seen_at_once(tmp_path: Path) -> None:
    recorded = Recorded(tmp_path)
    before = recorded.status()
    steps = before["steps"]
    assert isinstance(steps, list)
    step = steps[0]["id"]
    with Store(recorded.database) as store:
        store.record_outcome(recorded.run.id, step, StepStatus.FAILED, error="broken since")
    after = recorded.status()
    assert after != before
    assert after["steps"][0]["failure"] == "broken since"  # type: ignore[index]
    with Store(recorded.database) as store:
        store.set_run_status(recorded.run.id, RunStatus.COMPLETED)
    assert recorded.status()["run_status"] == RunStatus.COMPLETED


def test_a_running_run_and_a_newer_run_are_what_task_status_shows(tmp_path: Path) -> None:
    recorded = Recorded(tmp_path)
    run = recorded.run
    claim = Claim()
    with Store(recorded.database) as store:
        store.open_run(
            doc_key=run.doc_key, doc_path=run.doc_path, doc_id=run.doc_id,
            sha256=run.source_sha256, claim=claim,
        )  # fmt: skip
    assert recorded.status()["run_status"] == RunStatus.RUNNING
    with Store(recorded.database) as store:
        store.finish_run(run.id, claim, RunStatus.PAUSED)
        newer, _ = store.open_run(
            doc_key=run.doc_key, doc_path=run.doc_path, doc_id=run.doc_id,
            sha256=run.source_sha256, claim=claim, new=True,
        )  # fmt: skip
        store.finish_run(newer.id, claim, RunStatus.PAUSED)
    status = recorded.status()
    assert status["run_id"] == newer.id
    assert status["steps_complete"] == 0  # the newer run recorded nothing yet


def test_an_edited_document_is_judged_as_it_is_now(tmp_path: Path) -> None:
    recorded = Recorded(tmp_path)
    assert recorded.status()["document_changed"] is False
    edited = DOCUMENTS[0].read_text() + "\n- [ ] an edit\n"
    recorded.doc = convert_bytes(edited.encode(), f"docs/tasks/{DOCUMENTS[0].name}")
    status = recorded.status()
    assert status["document_changed"] is True
    assert status["reasons"][0] == "the document changed since run 1 recorded its evidence"  # type: ignore[index]


def test_state_location_rules_match_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    document = deep / "doc.md"
    document.write_text("# Task 1: x\n")
    assert project_root(deep) == store_project_root(deep) == tmp_path
    assert state_path_for(document) == default_state_path(deep)
    (tmp_path / "a" / ".mcp.json").write_text("{}")
    assert project_root(deep) == store_project_root(deep) == tmp_path / "a"
    assert state_path_for(document) == default_state_path(deep)
    monkeypatch.setenv("CLAUDE_TASK_STATE", str(tmp_path / "s.db"))
    assert state_path_for(document) == default_state_path(deep) == tmp_path / "s.db"
    assert state_path_for(document, tmp_path / "explicit.db") == tmp_path / "explicit.db"
    assert os.environ["CLAUDE_TASK_STATE"]


def test_the_outline_has_the_engines_units() -> None:
    from claude_task_cli.run.units import build_units

    for document in [
        *DOCUMENTS,
        Path(__file__).resolve().parent.parent / "convert" / "golden" / "003_test_mcp.md",
    ]:
        doc = fixture_document(document)
        units = build_units(doc)
        built = outline_of(doc)
        assert list(built.units) == list(units)
        assert [u.kind for u in built.units.values()] == [u.kind for u in units.values()]
        assert [u.tool for u in built.units.values()] == [u.tool_name for u in units.values()]


def test_completions_without_a_tool_call_are_complete_and_counted_apart() -> None:
    by_client = fact("completed", source="client", checks_passed=1)
    ticked = fact("completed", source="document")
    m = build_matrix(
        TWO_TASKS, *run(**{"1_1": done(), "1_2": by_client, "1_3": ticked, "2_1": done()})
    )
    assert m.verdict == Completion.COMPLETE  # work for a person has no tool: it can complete
    assert (m.complete_by_client, m.complete_by_document, m.complete_without_engine) == (1, 1, 2)
    rows = {r.id: r for r in m.steps}
    assert rows["1.1"].completion_text == "COMPLETE"
    assert rows["1.2"].completion_text == "COMPLETE (recorded by the client)"
    assert rows["1.3"].completion_text == "COMPLETE (ticked in the document)"
    assert m.without_engine_note() == (
        "2 steps completed without a tool call by the engine "
        "(1 recorded by the client, 1 ticked in the document)"
    )
    reason = {"type": "verificationFailed", "failedStep": "1.2", "expectation": "x equals 1"}
    failed = fact("failed", source="client", reason=reason)
    m = build_matrix(TWO_TASKS, *run(**{"1_1": done(), "1_2": failed}))
    rows = {r.id: r for r in m.steps}
    assert (rows["1.2"].completion_text, rows["1.2"].pause_reason) == (
        "INCOMPLETE",
        {**reason, "actual": None, "suggestedTool": None},  # the reason's JSON contract
    )
    assert m.complete_without_engine == 0
    assert m.without_engine_note() is None
