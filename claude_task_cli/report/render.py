"""generate_report's core: verification reports rendered from a recorded run with Jinja.

The environment (jinja2's sandbox, strict, packaged templates with project overrides) is
`templating.py`'s; what the templates are given is `views.py`'s plain data. Output is
deterministic: the same document and run give the same bytes (times come from the run, never the
clock). The files' names and their writing are `files.py`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import InputError, ReportError
from claude_task_cli.report.board_trail import LISTED, task_trail, trail_rows
from claude_task_cli.report.evidence import RecordedRun, RunEvidence
from claude_task_cli.report.files import Rendered, summary_file_name, task_file_name
from claude_task_cli.report.markdown_escape import DEFAULT_OUTPUT_LIMIT
from claude_task_cli.report.matrix import Matrix, build_matrix, step_dict, task_dict
from claude_task_cli.report.outline import outline_of
from claude_task_cli.report.pictures import dependency_graph, duration_chart
from claude_task_cli.report.views import ReportData, report_data

TASK_TEMPLATE = "task_report.md.j2"
SUMMARY_TEMPLATE = "final_summary.md.j2"
MATRIX_TEMPLATE = "matrix.md.j2"
STEP_SUMMARY_TEMPLATE = "step_summary.md.j2"
Format = Literal["md", "json"]
_TASK_PREFIX = re.compile(r"^task[\s_-]*", re.I)


@dataclass(frozen=True)
class Reports:
    """A document and its recorded run (None: no evidence), ready to render."""

    doc: TaskDocument
    run: RunEvidence | None
    matrix: Matrix
    board: tuple[dict[str, Any], ...] = ()  # the board's events of the document (board_trail.py)

    @classmethod
    def of(
        cls,
        doc: TaskDocument,
        run: RecordedRun | None,
        board: Iterable[Mapping[str, Any]] = (),
    ) -> Reports:
        """`run`: the document's latest run (`evidence.load_evidence`); `board`: the document's
        board events, oldest first, as plain mappings."""
        if run is None:
            return cls(doc, None, build_matrix(outline_of(doc), None), tuple(trail_rows(board)))
        matrix = build_matrix(outline_of(doc), run.record, run.states)
        return cls(doc, run.evidence, matrix, tuple(trail_rows(board)))


def find_task(reports: Reports, wanted: str) -> str:
    """SUBTASK as a user writes it (`1`, `task_1`, `Task 1`, `task-01`) → the task's id."""
    text = _TASK_PREFIX.sub("", wanted.strip())
    ids = [t.id for t in reports.doc.tasks]
    for candidate in ids:
        if candidate == text or candidate.lower() == (text.lstrip("0") or "0").lower():
            return candidate
    known = ", ".join(ids) or "none"
    raise InputError(wanted, f"no task {text!r} in {reports.doc.source.path} (tasks: {known})")


def render_reports(
    reports: Reports,
    env: SandboxedEnvironment,
    *,
    task_id: str | None = None,
    fmt: Format = "md",
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
) -> list[Rendered]:
    """One task's report (`task_id`), or every task's and the final summary."""
    if fmt == "json":
        return _render_json(reports, task_id)
    data = report_data(reports.doc, reports.matrix, reports.run)
    common = _common(reports, data)
    common.update(output_limit=output_limit, report_dir=None)  # the matrix links reports beside it
    template = _template(env, TASK_TEMPLATE)
    out = [
        Rendered(
            view["file_name"],
            _render(
                template,
                {**common, "task": view, "board": task_trail(reports.board, view["task"]["id"])},
            ),
        )
        for view in data.tasks
        if task_id is None or view["task"]["id"] == task_id
    ]
    if task_id is None:
        graph, graph_note = dependency_graph(reports.doc, reports.matrix)
        bars, chart_note = duration_chart(reports.matrix)
        pictures = {
            "graph": graph,
            "graph_note": graph_note,
            "bars": bars,
            "chart_note": chart_note,
        }
        summary = _render(_template(env, SUMMARY_TEMPLATE), {**common, **pictures})
        out.append(Rendered(summary_file_name(reports.doc), summary))
    return out


def render_matrix(reports: Reports, env: SandboxedEnvironment, report_dir: str) -> str:
    """What `$GITHUB_STEP_SUMMARY` shows: the completion matrix, naming each task's report by
    its path in the repository (`report_dir`: a link relative to the summary page would not
    resolve there), and each failed step with its stderr."""
    context = _common(reports, report_data(reports.doc, reports.matrix, reports.run))
    context["report_dir"] = report_dir
    return _render(_template(env, STEP_SUMMARY_TEMPLATE), context)


def _common(reports: Reports, data: ReportData) -> dict[str, Any]:
    """What every template is given (see templates/README.md): plain data only."""
    return {
        "doc": data.document,
        "run": reports.run,
        "matrix": data.matrix,
        "tasks": data.tasks,
        "document_links": data.document_links,
        "board": list(reports.board),
        "board_listed": LISTED,
    }


def _template(env: SandboxedEnvironment, name: str) -> Template:
    with _template_errors(name):
        return env.get_template(name)


def _render(template: Template, context: dict[str, Any]) -> str:
    """The one place a template is rendered, with what it is given."""
    with _template_errors(template.name or "?"):
        return template.render(context)


@contextmanager
def _template_errors(name: str) -> Iterator[None]:
    """A template that does not compile or fails to render: one line naming its file and line."""
    try:
        yield
    except TemplateError as exc:
        where, line = _template_location(exc, name)
        message = " ".join(str(exc.message).split())  # one line, whatever the message holds
        raise ReportError(
            f"template {where}{f':{line}' if line else ''}: {type(exc).__name__}: {message}"
        ) from exc


def _template_location(exc: TemplateError, name: str) -> tuple[str, int | None]:
    """The template file and line an error arose at. A syntax error carries them; for a runtime
    error (`UndefinedError`, `SecurityError`, ...) jinja rewrites the traceback so that each
    template frame has the template's file as its filename and the template line as its line
    (and `__jinja_exception__` in its globals): the innermost such frame is where it arose (an
    included template's, when the error is in one)."""
    line = getattr(exc, "lineno", None)
    if line is not None:
        return getattr(exc, "filename", None) or getattr(exc, "name", None) or name, line
    found: tuple[str, int | None] = (getattr(exc, "name", None) or name, None)
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _render_json(reports: Reports, task_id: str | None) -> list[Rendered]:
    """`--format json`: per task its matrix row and each step's with its evidence; the summary
    the whole matrix."""
    doc, matrix = reports.doc, reports.matrix
    recorded = reports.run["steps"] if reports.run is not None else {}
    steps = matrix.by_task()
    out = []
    for task, row in zip(doc.tasks, matrix.tasks, strict=True):
        if task_id is not None and task.id != task_id:
            continue
        data = {
            "document": _document(doc),
            "run": _run(reports.run),
            "task": task_dict(row),
            "steps": [{**step_dict(s), "evidence": recorded.get(s.id)} for s in steps[task.id]],
        }
        out.append(Rendered(task_file_name(doc, task, ".json"), _dump(data)))
    if task_id is None:
        summary = {"document": _document(doc), "run": _run(reports.run), "matrix": matrix.to_dict()}
        out.append(Rendered(summary_file_name(doc, ".json"), _dump(summary)))
    return out


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def _document(doc: TaskDocument) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "path": doc.source.path, "sha256": doc.source.sha256}


def _run(run: RunEvidence | None) -> dict[str, Any] | None:
    return None if run is None else {k: v for k, v in run.items() if k != "steps"}
