"""Recording a step done outside: a recorded result is verified like a tool's, a failed check fails
the step with its evidence, and a completion by the client is visible as one everywhere (matrix,
summary, status, JSON, JUnit). On the real recorded run of `020_report_demo.md`, whose step 2.2
failed `time_difference equals '+8.0h'` against mcp-server-time's answer `+9.0h`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.outcomes import RunStatus, StepStatus, VerificationFailed
from claude_task_cli.report.evidence import load_evidence
from claude_task_cli.report.junit import junit_xml
from claude_task_cli.report.matrix import Completion, Matrix
from claude_task_cli.report.render import Reports, render_reports
from claude_task_cli.report.status import completion_of, matrix_json
from claude_task_cli.report.templating import environment
from claude_task_cli.run.continuation import record_step_result
from claude_task_cli.run.results import RunOutcome
from claude_task_cli.store import Store
from tests.report.regen_reports import DOCUMENTS, fixture_document, restore

DEMO = DOCUMENTS[0]


class Recorded:
    """The demo's recorded run in a scratch state database, and a way to record into it."""

    def __init__(self, tmp_path: Path) -> None:
        self.doc: TaskDocument = fixture_document(DEMO)
        self.database = restore(DEMO.with_suffix(".run.sql"), tmp_path / "state.db")
        with Store(self.database) as store:
            self.key = store.runs()[0].doc_key

    def record(self, step: str, result: Any = None, failure: str | None = None) -> RunOutcome:
        with Store(self.database) as store:
            return record_step_result(
                store, self.doc, step, result=result, failure=failure, doc_key=self.key
            )

    def reports(self) -> Reports:
        with Store(self.database) as store:
            return Reports.of(self.doc, load_evidence(store, self.doc, doc_key=self.key))

    def status_matrix(self) -> Matrix:
        """`task_status`'s read of the run."""
        document = Path(self.doc.source.path)
        return completion_of(document, self.doc, state_path=self.database, doc_key=self.key)


@pytest.fixture
def demo(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path)


def test_a_recorded_result_that_fails_the_steps_expect_fails_the_step(demo: Recorded) -> None:
    outcome = demo.record("2.2", {"time_difference": "+9.0h"})
    step = outcome.step("2.2")
    assert step.status == StepStatus.FAILED
    assert step.source == "client"
    assert step.error == "time_difference equals '+8.0h': is '+9.0h'"
    assert step.pause_reason == VerificationFailed(
        failed_step="2.2",
        expectation="time_difference equals '+8.0h'",
        actual="+9.0h",
        suggested_tool="convert_time",
    )
    assert step.pause_reason in outcome.pause_reasons
    assert step.result == {"time_difference": "+9.0h"}  # the evidence is kept
    with Store(demo.database) as store:
        latest = store.step_states(outcome.run_id or 0)["2.2"]
        events = [e for e in store.events(outcome.run_id or 0) if e.step_id == "2.2"]
    assert latest.status == StepStatus.FAILED
    assert latest.result == {"time_difference": "+9.0h"}
    assert latest.checks is not None
    assert [c["passed"] for c in latest.checks] == [False]
    assert latest.pause_reason == step.pause_reason
    assert events[-1].kind == "step_failed"
    assert events[-1].payload["reason"]["type"] == "verificationFailed"


def test_the_audits_reproduction_no_longer_ends_complete(demo: Recorded) -> None:
    """Recording a result for every failed step does not make a failed verification COMPLETE."""
    demo.record("1.3", {"exit_code": 0, "stdout": "fixed by hand\n", "stderr": ""})
    demo.record("1.4", {"echoed": "fixed by hand"})
    demo.record("2.2", {"time_difference": "+9.0h"})
    demo.record("2.3", {"timezone": "Mars/Olympus", "datetime": "sol 1"})
    final = demo.record("3.1", {"confirmed": True})
    assert final.run_status == RunStatus.FAILED
    reports = demo.reports()
    for matrix in (reports.matrix, demo.status_matrix()):
        assert matrix.verdict == Completion.INCOMPLETE
        assert (matrix.steps_complete, matrix.steps_total) == (7, 8)
        assert "1 check failed" in matrix.reasons
    junit = ET.fromstring(junit_xml(reports))
    assert junit.get("failures") == "1"
    failed = [c for c in junit.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["2.2 A check that does not hold"]
    text = failed[0].findtext("failure") or ""
    assert "source: client" in text
    assert "check FAILED: time_difference equals '+8.0h'" in text


def test_a_command_result_with_a_nonzero_exit_code_fails(demo: Recorded) -> None:
    step = demo.record("1.3", {"exit_code": 3, "stdout": "", "stderr": "boom\n"}).step("1.3")
    assert step.status == StepStatus.FAILED
    assert step.error == "result has exit_code 0: exit_code is 3"
    free_text = demo.record("1.3", "I ran it by hand and it worked").step("1.3")
    assert (free_text.status, free_text.checks) == (StepStatus.COMPLETED, None)  # nothing to check


def test_a_result_that_passes_completes_and_is_marked_as_the_clients(demo: Recorded) -> None:
    step = demo.record("2.2", {"time_difference": "+8.0h"}).step("2.2")
    assert (step.status, step.pause_reason, step.error) == (StepStatus.COMPLETED, None, None)
    assert step.checks is not None
    assert [c["passed"] for c in step.checks] == [True]
    demo.record("3.1", {"confirmed": True})  # no binding, no expect: nothing to check
    reports = demo.reports()
    fast = demo.status_matrix()
    assert matrix_json(fast) == matrix_json(reports.matrix)
    for matrix in (reports.matrix, fast):
        rows = {r.id: r for r in matrix.steps}
        assert (rows["2.2"].completion, rows["2.2"].source) == (Completion.COMPLETE, "client")
        assert rows["2.2"].checks_passed == 1
        assert rows["2.1"].source == "engine"
        assert (matrix.complete_by_client, matrix.complete_by_document) == (2, 0)
        assert matrix.complete_without_engine == 2
    status = json.loads(matrix_json(fast))
    assert status["complete_by_client"] == 2
    assert {s["id"]: s["source"] for s in status["steps"]}["3.1"] == "client"
    text = {r.name: r.text for r in render_reports(reports, environment())}
    summary = text["020_final_summary.md"]
    assert "| 2.2 | 2 | A check that does not hold | COMPLETE (recorded by the client) |" in summary
    assert (
        "2 of the complete steps were completed without a tool call by the engine "
        "(2 recorded by the client)"
    ) in summary
    assert "Completed without a tool call by the engine (2):" in summary
    recorded = "- **2.2**: its result was recorded by the client with `record_step`; 1 `expect`"
    assert recorded in summary
    junit = ET.fromstring(junit_xml(reports))
    case = next(c for c in junit.iter("testcase") if (c.get("name") or "").startswith("2.2 "))
    assert case.find("failure") is None
    assert case.find("properties/property[@name='source']").get("value") == "client"  # type: ignore[union-attr]
    assert "recorded by the client" in (case.findtext("system-out") or "")


def test_a_fully_recorded_run_is_complete_but_does_not_claim_every_verification(
    demo: Recorded,
) -> None:
    for step, result in (
        ("1.3", {"exit_code": 0}),
        ("1.4", "echoed"),
        ("2.2", {"time_difference": "+8.0h"}),
        ("2.3", {"timezone": "UTC"}),
        ("3.1", True),
    ):
        last = demo.record(step, result)
    assert last.run_status == RunStatus.COMPLETED
    reports = demo.reports()
    assert reports.matrix.verdict == Completion.COMPLETE
    assert reports.matrix.complete_without_engine == 5
    summary = {r.name: r.text for r in render_reports(reports, environment())}[
        "020_final_summary.md"
    ]
    assert "every step completed and every check passed" not in summary
    assert "Every step completed and no check failed, but not every step was verified" in summary
