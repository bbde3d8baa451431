"""`matrix_json` is exactly json.dumps of `Matrix.to_dict()`: on real recorded runs, and on rows
of any values, the declared types and others (bools for ints, NaN, ints for floats, non-strings)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_task_cli.report.matrix import Completion, Matrix, State, StepRow, TaskRow, build_matrix
from claude_task_cli.report.matrix_json import matrix_json
from claude_task_cli.report.outline import Outline, TaskOutline, UnitOutline, outline_of
from tests.report.regen_reports import DOCUMENTS, fixture_evidence


def reference(matrix: Matrix) -> str:
    return json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_the_matrix_of_a_real_run(document: Path, tmp_path: Path) -> None:
    doc, evidence = fixture_evidence(document, tmp_path)
    assert evidence is not None
    for facts in (evidence.facts(), None):
        matrix = build_matrix(outline_of(doc), facts)
        assert matrix_json(matrix) == reference(matrix)


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
# What the declared types allow, and what they do not but a caller might still pass.
_STRING: st.SearchStrategy[Any] = st.one_of(_TEXT, st.sampled_from([*State, *Completion]))
_ODD = st.one_of(st.none(), st.booleans(), st.integers(), _FLOAT, _TEXT)
_INT = st.one_of(st.integers(), _ODD)
_NUMBER = st.one_of(_FLOAT, st.none(), st.integers(), _ODD)
_OPTIONAL = st.one_of(st.none(), _STRING, _ODD)
_STRINGS = st.one_of(st.lists(_STRING, max_size=3).map(tuple), st.lists(_ODD, max_size=2))
# a pause reason: its JSON object (any JSON values), or none
_REASON = st.one_of(
    st.none(),
    st.dictionaries(_TEXT, st.one_of(_ODD, st.lists(_ODD, max_size=2)), max_size=4),
    st.fixed_dictionaries({"type": st.just("toolError"), "failedStep": _TEXT, "error": _TEXT}),
)

_steps = st.builds(
    StepRow,
    *(_STRING, _STRING, _STRING, _STRING, _OPTIONAL, _OPTIONAL, _STRING, _STRING, _OPTIONAL),
    *(_STRINGS, _INT, _NUMBER, _INT, _INT, _OPTIONAL, _REASON),
)
_tasks = st.builds(
    TaskRow,
    *(_STRING, _STRING, _STRING, _STRING, _INT, _INT, _NUMBER, _STRINGS, _STRINGS, _NUMBER),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_steps, max_size=4), st.lists(_tasks, max_size=3), _TEXT, _NUMBER)
def test_any_rows(steps: list[StepRow], tasks: list[TaskRow], title: str, share: Any) -> None:
    matrix = Matrix(
        doc_id="900",
        title=title,
        run_id=None,
        run_status=None,
        document_changed=False,
        verdict=Completion.INCOMPLETE,
        reasons=(title,),
        steps_total=len(steps),
        steps_complete=0,
        step_percent=share,
        tasks_total=len(tasks),
        tasks_complete=0,
        task_percent=0.0,
        checks_passed=0,
        checks_failed=0,
        complete_by_client=0,
        complete_by_document=0,
        tasks=tuple(tasks),
        steps=tuple(steps),
    )
    assert matrix_json(matrix) == reference(matrix)


def test_values_json_writes_its_own_way() -> None:
    unit = UnitOutline("1.1", "1", "t", "tool", (), None, None)
    one = Outline("900", "Doc", "doc.md", "a" * 64, (TaskOutline("1", "t", (), ("1.1",)),),
                  {"1.1": unit})  # fmt: skip
    row = StepRow("1.1", "1", "t", "tool", None, None, State.FAILED, Completion.INCOMPLETE, None,
                  (), True, math.nan, 1, 0, None, {"type": "x", "actual": math.inf})  # fmt: skip
    odd = replace(build_matrix(one, None), steps=(row,))
    assert '"attempts":true,"duration_ms":NaN' in matrix_json(odd)
    assert '"pause_reason":{"type":"x","actual":Infinity}' in matrix_json(odd)
    assert matrix_json(odd) == reference(odd)
