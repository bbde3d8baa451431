"""The operations both doors offer — the CLI (`cli/`) and the MCP server (`server/`) — as
functions that take typed arguments and return data; they never print and never exit.

```python
init_project(Path("."), "starter")                        # claude-task init
doc, path = load_document("010")                          # TASK → converted document
outcome = execute_document(doc, path, RunOptions())       # run (or resume) it
run_document_json(outcome, doc)                           # what `execute_task --json` prints
record_step("010", "3.1", done=True, note="checked")       # a step done by an agent or a person
state = run_store(db="postgresql://…")                     # --db / --state: where runs are kept
```

The report operations (`task_status`, `generate_report`) are beside it in `report_operations.py`,
the board's in `board_operations.py`.

TASK is resolved from `start` (default: the working directory) as `project.locate_document` says.
Heavy imports (the engine, the MCP SDK, jinja2) happen inside the functions that need them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_task_cli.errors import InputError

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.mcp.client_side import Asker
    from claude_task_cli.run.options import RunOptions
    from claude_task_cli.run.results import RunOutcome
    from claude_task_cli.samples.scaffold import InitOutcome
    from claude_task_cli.store import Event
    from claude_task_cli.store.urls import DatabaseUrl

PYTHON_VARIABLE = "CLAUDE_TASK_PYTHON"


def init_project(directory: Path, example: str = "starter") -> InitOutcome:
    """Set up `directory` for claude-task: `.mcp.json`, a sample document, `.gitignore`."""
    from claude_task_cli.samples.scaffold import init_project as scaffold

    return scaffold(directory, example)


def run_store(state: Path | None = None, db: str | None = None) -> Path | DatabaseUrl | None:
    """Where the commands that run and read runs find them: `--db URL` or `--state PATH` (not
    both; None: `$CLAUDE_TASK_DB`, else the document's project's state database). A URL that is
    not one is `InputError`."""
    if db is None:
        return state
    if state is not None:
        raise InputError("--db", "give --db or --state, not both")
    from claude_task_cli.store.urls import parse_url

    return parse_url(db)


def load_document(task: str, start: Path | None = None) -> tuple[TaskDocument, Path]:
    """TASK as the user wrote it → the converted document and its path. A markdown document is
    converted once and kept while it does not change (`convert/document_cache.py`)."""
    from claude_task_cli.convert import contract
    from claude_task_cli.convert.document_cache import convert_file_kept
    from claude_task_cli.convert.model import SCHEMA_VERSION
    from claude_task_cli.convert.source import display_path
    from claude_task_cli.project import locate_document

    path = locate_document(task, start or Path.cwd())
    if path.suffix.lower() == ".json":
        try:
            doc = contract.load_document(path.read_bytes())
        except ValueError as exc:
            raise InputError(
                path, f"not a converted task document: {str(exc).splitlines()[0]}"
            ) from exc
        if doc.schema_version != SCHEMA_VERSION:
            raise InputError(
                path,
                f"converted with schema_version {doc.schema_version}, this release reads "
                f"{SCHEMA_VERSION}: convert the document again (or run the markdown file)",
            )
        return doc, path
    return convert_file_kept(path, display_path(path)), path


def execute_document(
    doc: TaskDocument,
    path: Path,
    options: RunOptions,
    *,
    on_event: Callable[[Event], None] | None = None,
    ask: Asker | None = None,
) -> RunOutcome:
    """Execute (or resume) a loaded document through its project's servers, as `options` say;
    blocks until the run stops. Servers declared as `${CLAUDE_TASK_PYTHON}` get this interpreter
    when unset; a question a server asks a person goes to `ask` (None: declined, the step pauses
    with it)."""
    from claude_task_cli.errors import ServerStartError
    from claude_task_cli.run.preflight import check_declared, with_install_hint
    from claude_task_cli.run.runner import run_document

    os.environ.setdefault(PYTHON_VARIABLE, sys.executable)
    check_declared(doc, path, options.mcp_config)  # at the document's line, before anything starts
    try:
        return run_document(doc, options, doc_path=path, on_event=on_event, ask=ask)
    except ServerStartError as exc:
        raise with_install_hint(exc) from exc


def with_results(
    outcome: RunOutcome, doc: TaskDocument, path: Path, options: RunOptions
) -> RunOutcome:
    """The outcome of `execute_document` with `options.with_results` false, every settled step's
    result read back from the store (for the handoff, when the run did not complete)."""
    from claude_task_cli.run.runner import read_results

    return read_results(outcome, doc, options, path)


def check_document(
    doc: TaskDocument, path: Path, *, contact: bool = False, mcp_config: Path | None = None
) -> None:
    """Check a converted document against its project's `.mcp.json`: every server it calls is
    declared; with `contact`, the servers are started and every tool it calls exists and gets
    arguments that fit its input schema. Raises `TaskSpecErrors` (each problem at its line),
    `McpConfigMissingError`, `ServerStartError` (with an install hint when known)."""
    if not any(step.tool is not None for _task, step in doc.all_steps()):
        return  # nothing to check, and nothing imported: `convert_task --check` stays fast
    from claude_task_cli.errors import TaskSpecErrors
    from claude_task_cli.run.preflight import check_declared, check_tools

    os.environ.setdefault(PYTHON_VARIABLE, sys.executable)  # before `${…}` in .mcp.json expand
    found = check_declared(doc, path, mcp_config)
    if contact and found is not None:
        import asyncio

        problems = asyncio.run(check_tools(doc, path, found))
        if problems:
            raise TaskSpecErrors(problems)


def run_document_json(outcome: RunOutcome, doc: TaskDocument) -> dict[str, Any]:
    """The machine-readable run document: status, progress, results, pause reasons, handoff."""
    from claude_task_cli.run.handoff import handoff
    from claude_task_cli.run.results import record_json

    return {
        "runId": outcome.run_id,
        "document": {"id": doc.id, "path": doc.source.path, "sha256": doc.source.sha256},
        "status": outcome.status.value,
        "runStatus": outcome.run_status.value,
        "progress": outcome.progress.model_dump(mode="json", by_alias=True),
        "results": [record_json(s) for s in outcome.steps],
        "pauseReasons": [r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons],
        "handoff": record_json(handoff(outcome, doc)),
    }


def plan_json(outcome: RunOutcome) -> dict[str, Any]:
    """A dry run's plan: every call it would make, wave by wave, and the run it would resume
    (`runId`, null for a new run). The CLI's `--dry-run --json` and the MCP tool return it."""
    from claude_task_cli.run.results import record_json

    return {
        "dryRun": True,
        "runId": outcome.run_id,
        "plan": [record_json(p) for p in outcome.plan or []],
    }


def record_step(
    task: str,
    step: str,
    *,
    result: Any = None,
    failure: str | None = None,
    done: bool = False,
    note: str | None = None,
    state: Path | DatabaseUrl | None = None,
    start: Path | None = None,
) -> RunOutcome:
    """Record the outcome of a step done outside the executor: `result` (any JSON value),
    `failure` (a failure message), or `done` — a person's "done", recorded as the result
    `{"done": true}` with their `note` when given."""
    from claude_task_cli.run.continuation import record_step_result
    from claude_task_cli.run.runner import open_store

    if done:
        result = {"done": True} if note is None else {"done": True, "note": note}
    doc, path = load_document(task, start)
    with open_store(doc, state, path) as store:
        return record_step_result(
            store, doc, step, result=result, failure=failure, doc_key=str(path.resolve())
        )


def latest_run(
    task: str, *, state: Path | DatabaseUrl | None = None, start: Path | None = None
) -> tuple[TaskDocument, Path, RunOutcome | None]:
    """TASK's document, its path, and its latest run as stored (None before the first run;
    no state database is created to find that out)."""
    from claude_task_cli.report import state_path_for
    from claude_task_cli.run.continuation import status_of
    from claude_task_cli.store.database import Store
    from claude_task_cli.store.urls import not_created

    doc, path = load_document(task, start)
    database = state_path_for(path, state)
    if not_created(database):
        return doc, path, None
    with Store(database) as store:
        if store.latest_run(str(path.resolve())) is None:
            return doc, path, None
        return doc, path, status_of(doc, store, doc_key=str(path.resolve()))


def completed_steps(document: Path, *, state: Path | DatabaseUrl | None = None) -> set[str]:
    """The steps completed in the document's latest run while that run is unfinished — what
    executing it again resumes from; none when there is no run or it completed."""
    from claude_task_cli.outcomes import RunStatus, StepStatus
    from claude_task_cli.report import state_path_for
    from claude_task_cli.store.database import Store
    from claude_task_cli.store.urls import not_created

    database = state_path_for(document, state)
    if not_created(database):
        return set()
    with Store(database) as store:
        run = store.latest_run(str(document.resolve()))
        if run is None or run.status == RunStatus.COMPLETED:
            return set()
        states = store.step_states(run.id, values=())
    return {step for step, state in states.items() if state.status == StepStatus.COMPLETED}


def documents_run(state: Path | DatabaseUrl, root: Path) -> set[Path]:
    """The documents (absolute paths) of the project at `root` (and, on SQLite, of any other)
    that have a run in the state database `state`."""
    from claude_task_cli.store.claims import local_path
    from claude_task_cli.store.database import Store
    from claude_task_cli.store.urls import not_created

    if not_created(state):
        return set()
    with Store(state) as store:
        found = {local_path(run.doc_key, root) for run in store.runs()}
    return {path for path in found if path is not None}
