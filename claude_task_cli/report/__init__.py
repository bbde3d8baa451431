"""The report stage: a recorded run's evidence → the completion matrix → plain data for the
templates → Jinja → report files; the same matrix as `task_status`'s answer and as JUnit XML.

    store ──load_evidence──▶ RecordedRun (RunRecord, StepStates, RunEvidence)
          ──build_matrix(outline_of(doc), record, states)──▶ Matrix
    store ──recorded_states──▶ (RunRecord, StepStates) ──build_matrix──▶ task_status's Matrix
    Reports.of(doc, recorded) ─render_reports(env)─▶ [Rendered] ─write─▶ docs/reports/*.md

What the facade (`operations.py`) calls is named below; every other module is this stage's own.
The names are loaded on first use, so that `task_status` does not import Jinja.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_task_cli.report.evidence import RecordedRun, RunEvidence, load_evidence
    from claude_task_cli.report.files import Rendered, remove_stale_reports, write
    from claude_task_cli.report.junit import junit_xml, write_junit
    from claude_task_cli.report.matrix import Completion, Matrix, State
    from claude_task_cli.report.render import Reports, find_task, render_matrix, render_reports
    from claude_task_cli.report.status import (
        completion_of,
        latest_evidence,
        matrix_json,
        state_path_for,
    )
    from claude_task_cli.report.templating import environment, template_search

__all__ = [
    "Completion",
    "Matrix",
    "RecordedRun",
    "Rendered",
    "Reports",
    "RunEvidence",
    "State",
    "completion_of",
    "environment",
    "find_task",
    "junit_xml",
    "latest_evidence",
    "load_evidence",
    "matrix_json",
    "remove_stale_reports",
    "render_matrix",
    "render_reports",
    "state_path_for",
    "template_search",
    "write",
    "write_junit",
]
_MODULES = {
    "evidence": ("RecordedRun", "RunEvidence", "load_evidence"),
    "files": ("Rendered", "remove_stale_reports", "write"),
    "junit": ("junit_xml", "write_junit"),
    "matrix": ("Completion", "Matrix", "State"),
    "render": ("Reports", "find_task", "render_matrix", "render_reports"),
    "status": ("completion_of", "latest_evidence", "matrix_json", "state_path_for"),
    "templating": ("environment", "template_search"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
