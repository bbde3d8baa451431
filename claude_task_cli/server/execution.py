"""`execute_task` and `cancel_run`: a document's run executed in this server, waited for or not,
asked about its steps for people, and stopped on request (`runs.py`, `people.py`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import Field

from claude_task_cli.server.people import People
from claude_task_cli.server.registration import TaskArg, Text, structured
from claude_task_cli.server.runs import RunHandle, Runs
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.run.results import RunOutcome


class Execution:
    """The tools that run documents, bound to one project and this server's runs."""

    def __init__(self, project: ServedProject, runs: Runs) -> None:
        self.project = project
        self.runs = runs

    async def execute_task(
        self,
        task: TaskArg,
        only_task: Annotated[
            str | None, Text, Field(description="Run only this task, and what it needs.")
        ] = None,
        only_step: Annotated[
            str | None, Text, Field(description="Run only this step, and what it needs.")
        ] = None,
        concurrency: Annotated[int, Field(ge=1, le=64, description="Steps at once.")] = 4,
        per_server: Annotated[
            int | None,
            Field(ge=1, le=64, description="Calls at once to one server (default: concurrency)."),
        ] = None,
        no_resume: Annotated[
            bool, Field(description="Start a new run instead of resuming the unfinished one.")
        ] = False,
        dry_run: Annotated[
            bool, Field(description="Only return the calls it would make, with their arguments.")
        ] = False,
        fail_fast: Annotated[
            bool,
            Field(
                description="Stop at the first failure: no step starts after it (default: only "
                "what depends on a failed step is skipped)."
            ),
        ] = False,
        rerun_interrupted: Annotated[
            bool,
            Field(
                description="Run again the steps a stopped run left interrupted (cut while they "
                "ran) instead of pausing on them; only when you know they may run twice."
            ),
        ] = False,
        wait: Annotated[
            bool,
            Field(
                description="Wait for the run to stop (default). false: return at once with "
                "the run id; poll task_status; cancel_run stops it."
            ),
        ] = True,
        ctx: Context | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Run a task document: each step's MCP tool call or shell commands on the project's
        servers, in dependency order, every outcome recorded. Executing again resumes an
        unfinished run; completed steps never run twice. Returns the run document: status
        (completed, paused, failed), results, pauseReasons, and handoff.remaining — the steps
        left for you, with how to do each. Do those, record_step each, then execute_task again.
        Long run: wait=false returns at once (status running); poll task_status. Sends a
        progress notification as each step ends when given a progress token."""
        from claude_task_cli.operations import (
            execute_document,
            load_document,
            plan_json,
            run_document_json,
        )
        from claude_task_cli.run.options import RunOptions

        doc, path = load_document(self.project.task(task), self.project.root)
        options = RunOptions(
            concurrency=concurrency,
            per_server=per_server,
            only_task=only_task,
            only_step=only_step,
            new_run=no_resume,
            dry_run=dry_run,
            fail_fast=fail_fast,
            rerun_interrupted=rerun_interrupted,
            mcp_config=self.project.servers_for(doc),
            state=self.project.state(),
        )
        run = functools.partial(execute_document, doc, path, options)
        resume = functools.partial(execute_document, doc, path, replace(options, new_run=False))
        if dry_run:
            return structured(plan_json(await self._waited(run, doc, path, ctx)))
        if not wait:
            handle = self.runs.start(_key(path), run)
            await self.runs.claimed(handle)
            return structured(self._as_it_stands(handle, doc, path))
        people = People(ctx, doc, str(path), self.project.state())
        if people.run_id is not None:  # the same call again, with the answers to its questions
            run = resume
        await people.record_answers()
        outcome = people.finished or await self._waited(run, doc, path, ctx, fresh=no_resume)
        while True:  # each round records at least one answer, and no step is asked twice
            asked = await people.ask(outcome)
            if isinstance(asked, InputRequiredResult):
                return asked
            if not asked:
                break
            finished = people.finished
            if finished is not None:  # the answer completed the run: nothing left to execute
                outcome = finished
                break
            outcome = await self._waited(resume, doc, path, ctx)
        data = run_document_json(outcome, doc)
        if people.answered:
            data["answered"] = people.answered
        return structured(data)

    async def cancel_run(self, task: TaskArg) -> CallToolResult:
        """Stop the run of a document that this server is executing (one started with
        wait=false, or one whose call is still waiting). Steps in flight are cut short; their
        servers are closed and the run's lock released; execute_task resumes it later. A run
        executed elsewhere (the CLI, another server) is not touched: cancelled is false."""
        import anyio.to_thread

        from claude_task_cli.report_operations import status_json

        path = Path(self.project.task(task))
        shown = path.resolve().relative_to(self.project.root).as_posix()
        handle = self.runs.active.get(_key(path))
        if handle is None:
            message = f"{shown}: no run of it is executing in this server"
            return structured(
                {"cancelled": False, "runId": None, "document": shown, "runStatus": None,
                 "message": message}
            )  # fmt: skip
        stopped = await self.runs.stop(handle)
        state = self.project.state()
        matrix = json.loads(
            await anyio.to_thread.run_sync(lambda: status_json(str(path), state=state))
        )
        status = matrix["run_status"]
        message = (
            f"{shown}: run {handle.run_id} cancelled; it is recorded {status}"
            if stopped
            else f"{shown}: run {handle.run_id} was asked to stop and has not yet"
        )
        return structured(
            {"cancelled": stopped, "runId": handle.run_id, "document": shown,
             "runStatus": status, "message": message}
        )  # fmt: skip

    async def _waited(
        self,
        run: Callable[..., RunOutcome],
        doc: TaskDocument,
        path: Path,
        ctx: Context | None,
        *,
        fresh: bool = False,
    ) -> RunOutcome:
        """`run` executed in this server, waited for; its step ends sent to `ctx` as progress,
        counted against what the run will run: its selection, less what a resumed run had
        completed already."""
        import anyio.to_thread

        from claude_task_cli.operations import completed_steps
        from claude_task_cli.run.units import build_units

        done: set[str] = set()
        if ctx is not None and not fresh:
            state = self.project.state()
            done = await anyio.to_thread.run_sync(lambda: completed_steps(path, state=state))

        def total(handle: RunHandle) -> int:
            scope = set(handle.selected if handle.selected is not None else build_units(doc))
            return len(scope - done)

        return await self.runs.wait(self.runs.start(_key(path), run), ctx, total)

    def _as_it_stands(self, handle: RunHandle, doc: TaskDocument, path: Path) -> dict[str, Any]:
        """The run document of a run just started: `running` while it executes."""
        from claude_task_cli.operations import latest_run, run_document_json

        if handle.finished.is_set():
            if handle.error is not None:
                raise handle.error
            assert handle.outcome is not None
            return run_document_json(handle.outcome, doc)
        _doc, _path, outcome = latest_run(str(path), state=self.project.state())
        assert outcome is not None
        data = run_document_json(outcome, doc)
        data["status"] = data["runStatus"] = "running"
        return data


def _key(path: Path) -> str:
    """The document a run is of, as the registry of runs keys it."""
    return str(path.resolve())
