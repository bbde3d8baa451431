"""Golden files: each tests/convert/golden/*.md converts to exactly the .json beside it.

Regenerate with `.venv/bin/python tests/convert/regen_golden.py` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_task_cli.convert.contract import load_document
from claude_task_cli.convert.converter import convert_file

GOLDEN = Path(__file__).resolve().parent / "golden"
REPO = GOLDEN.parents[2]
CASES = sorted(GOLDEN.glob("*.md"))


@pytest.mark.parametrize("document", CASES, ids=[c.stem for c in CASES])
def test_matches_golden_json(document: Path) -> None:
    expected = document.with_suffix(".json").read_text(encoding="utf-8")
    actual = convert_file(document, document.relative_to(REPO).as_posix()).to_json()
    assert actual == expected


@pytest.mark.parametrize("document", CASES, ids=[c.stem for c in CASES])
def test_golden_json_validates_against_the_published_model(document: Path) -> None:
    text = document.with_suffix(".json").read_text(encoding="utf-8")
    assert load_document(text).to_json() == text


def test_output_is_deterministic() -> None:
    seed = GOLDEN / "003_test_mcp.md"
    runs = {convert_file(seed, "x.md").to_json() for _ in range(3)}
    assert len(runs) == 1


def test_seed_document_reads_every_element() -> None:
    doc = convert_file(GOLDEN / "003_test_mcp.md")
    assert (doc.id, doc.status.value, doc.status.raw) == ("003", "not_started", "ó Not Started")
    assert doc.objective is not None
    assert doc.objective.startswith("Implement a task orchestration")
    assert len(doc.requirements) == 5
    assert [t.id for t in doc.tasks] == ["1", "2", "3", "4", "5"]
    assert [len(t.steps) for t in doc.tasks] == [5, 6, 5, 5, 7]
    first = doc.tasks[0]
    assert (first.priority, first.complexity, first.impact) == ("HIGH", "MEDIUM", "HIGH")
    assert len(first.research) == 5
    assert len(first.cli_testing) == 2
    assert len(first.specifications) == 5
    assert len(first.verification) == 5
    assert len(first.acceptance_criteria) == 5
    assert (
        next(d.text for d in first.steps[0].details)
        == "Create a markdown template for task descriptions"
    )
    assert doc.waves == [["1"], ["2"], ["3"], ["4"], ["5"]]
    assert [row.command for row in doc.usage] == [
        "convert_task", "execute_task", "task_status", "generate_report",
    ]  # fmt: skip
    assert doc.report_requirements is not None
    assert doc.report_requirements.sections[0] == "Task Summary"
    assert len(doc.report_requirements.sections) == 8
    assert doc.report_requirements.naming == "/docs/reports/003_task_[SUBTASK]_[feature_name].md"
    assert "Usage Table" in [s.title for s in doc.sections]


def test_bindings_fixture_reads_tools_commands_and_placeholders() -> None:
    doc = convert_file(GOLDEN / "bindings.md")
    steps = {step.id: step for _t, step in doc.all_steps()}
    tool = steps["1.1"].tool
    assert tool is not None
    assert (tool.server, tool.tool, tool.args, tool.retryable, tool.retries, tool.timeout) == (
        "time", "get_current_time", {"timezone": "UTC"}, True, 2, 5.0,
    )  # fmt: skip
    assert tool.expect[0].path == "timezone"
    assert tool.expect[0].equals == "UTC"
    assert steps["1.2"].tool is not None
    assert steps["1.2"].tool.args["target_timezone"] == "Asia/Tokyo"
    assert steps["3.1"].tool is not None
    assert steps["3.1"].tool.references == ["1.1"]
    assert [c.lang for c in steps["2.1"].commands] == ["bash"]
    assert steps["2.1"].depends_on == ["1.1"]  # declared with `Depends on: 1.1`
    assert steps["2.2"].depends_on == steps["2.3"].depends_on == ["2.1"]  # a [P] group
    assert steps["2.4"].depends_on == ["2.2", "2.3", "2.4.2"]  # after the group and its sub-steps
    assert steps["2.4.1"].depends_on == ["2.2", "2.3"]  # the first sub-step inherits
    assert doc.waves == [["1"], ["2", "3"], ["4"]]


def test_task_headings_with_a_leading_emoji_are_tasks() -> None:
    from claude_task_cli.convert.converter import convert_bytes

    text = "# Plan\n\n## 🎯 TASK #001: Design\n\n- [ ] Measure\n\n## 🎯 TASK #002: Build\n"
    doc = convert_bytes(text.encode(), "plan.md")
    assert [(t.id, t.title) for t in doc.tasks] == [("1", "Design"), ("2", "Build")]
    assert [(s.id, s.title, s.line) for s in doc.tasks[0].steps] == [("1.1", "Measure", 5)]


@pytest.mark.parametrize(
    ("heading", "title", "value", "raw"),
    [
        ("Doc (Blocked)", "Doc", "blocked", "(Blocked)"),
        ("Doc (In Progress)", "Doc", "in_progress", "(In Progress)"),
        ("Doc (Complete)", "Doc", "complete", "(Complete)"),
        ("Doc (✅ Complete)", "Doc", "complete", "(✅ Complete)"),
        ("Doc [Not Started]", "Doc", "not_started", "[Not Started]"),
        ("Doc [BLOCKED]", "Doc", "blocked", "[BLOCKED]"),
        ("Doc ⚠️ Blocked", "Doc", "blocked", "⚠️ Blocked"),
        ("Title Completed", "Title", "complete", "Completed"),
        ("Title Blocked", "Title", "blocked", "Blocked"),
        ("Title Not Started", "Title", "not_started", "Not Started"),
        ("Title In Progress", "Title", "in_progress", "In Progress"),
        ("Get things done", "Get things done", "unknown", ""),
        ("Blocked requests are retried", "Blocked requests are retried", "unknown", ""),
        ("Doc (see notes)", "Doc (see notes)", "unknown", ""),
    ],
)
def test_status_forms(heading: str, title: str, value: str, raw: str) -> None:
    from claude_task_cli.convert.converter import convert_bytes

    doc = convert_bytes(f"# Task 1: {heading}\n\n### Task 1: {heading}\n".encode(), "d.md")
    for item in (doc, doc.tasks[0]):
        assert (item.title, item.status.value, item.status.raw) == (title, value, raw)
