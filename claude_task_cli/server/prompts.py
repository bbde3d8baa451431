"""A task document as a prompt: point an agent at the work in one step.

`work_on_task(doc, task?)` — "work on task N of DOC": the goal, the task's steps and how each is
done (a tool, shell commands, or by hand), where the latest run left them, the handoff of what
remains, and the loop that finishes the work (execute_task, record_step, task_status). Without
`task`, the whole document.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver.prompts.base import UserMessage
from pydantic import Field

from claude_task_cli.errors import InputError
from claude_task_cli.server.resources import answering
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from claude_task_cli.convert.model import Step, Task, TaskDocument
    from claude_task_cli.run.results import RunOutcome


class Prompts:
    """The project's prompts, bound to one project."""

    def __init__(self, project: ServedProject) -> None:
        self.project = project

    def register(self, server: MCPServer) -> None:
        server.prompt(
            name="work_on_task",
            title="Work on a task",
            description="Work on task N of a task document (or the whole document): its goal, "
            "its steps, what the last run left and what remains, and how to finish it.",
        )(answering(self.work_on_task))

    def work_on_task(
        self,
        doc: Annotated[str, Field(description="The task document's id (e.g. 010) or path.")],
        task: Annotated[
            str | None, Field(description="The task's number (e.g. 2); default: every task.")
        ] = None,
    ) -> list[UserMessage]:
        from claude_task_cli.operations import latest_run

        loaded, path, outcome = latest_run(self.project.task(doc), state=self.project.state())
        chosen = _chosen(loaded, task)
        shown = path.resolve().relative_to(self.project.root).as_posix()
        return [UserMessage(_brief(loaded, shown, chosen, outcome, doc, task))]


def _chosen(doc: TaskDocument, task: str | None) -> list[Task]:
    if task is None:
        return list(doc.tasks)
    wanted = task.removeprefix("task:").removeprefix("task_").removeprefix("Task ").strip()
    found = [t for t in doc.tasks if t.id == wanted]
    if not found:
        known = ", ".join(t.id for t in doc.tasks) or "none"
        raise InputError(task, f"no task {task!r} in {doc.source.path} (tasks: {known})")
    return found


def _brief(
    doc: TaskDocument,
    shown: str,
    tasks: list[Task],
    outcome: RunOutcome | None,
    doc_arg: str,
    task_arg: str | None,
) -> str:
    from claude_task_cli.run.handoff import handoff

    one = tasks[0] if task_arg is not None else None
    what = f"task {one.id} ({one.title}) of" if one is not None else "every task of"
    lines = [f"Work on {what} the task document {doc.id} — {doc.title} ({shown}).", ""]
    if doc.objective:
        lines += [f"Goal: {doc.objective}", ""]
    units: set[str] = set()
    states = {s.step_id: s.status for s in outcome.steps} if outcome is not None else {}
    for task in tasks:
        lines.append(f"Task {task.id}: {task.title}")
        if task.description:
            lines.append(task.description)
        if task.depends_on:
            lines.append("Depends on: " + ", ".join(f"task {d}" for d in task.depends_on))
        steps = _steps(task.steps)
        units.update([s.id for s in steps] or [f"task:{task.id}"])
        for step in steps:
            state = states.get(step.id, "not run")
            lines.append(f"- {step.id} {step.title} — {_how(step)} [{state}]")
        if task.acceptance_criteria:
            lines.append("Acceptance criteria:")
            lines.extend(f"- {item.text}" for item in task.acceptance_criteria)
        lines.append("")
    if outcome is None:
        lines += ["No run yet.", ""]
    else:
        left = handoff(outcome, doc)
        left = replace(
            left,
            done=[d for d in left.done if d.step_id in units],
            remaining=[r for r in left.remaining if r.step_id in units],
        )
        lines += [f"The latest run (run {outcome.run_id}) is {outcome.run_status}:", ""]
        lines += [left.narrative().rstrip(), ""]
    call: dict[str, str] = {"task": doc_arg}
    if one is not None:
        call["only_task"] = one.id
    lines += [
        "How to finish it:",
        f"1. Call execute_task with {json.dumps(call)}: it runs every step it can (tool calls, "
        "shell commands) and returns a handoff of what remains.",
        "2. Do each remaining step yourself (or ask a person), then call record_step with its "
        "result, or a failure message.",
        "3. Call execute_task again; repeat until its status is completed. task_status gives "
        "the verdict from the recorded evidence; generate_report writes the reports.",
    ]
    return "\n".join(lines)


def _steps(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        out.append(step)
        out.extend(_steps(step.substeps))
    return out


def _how(step: Step) -> str:
    if step.tool is not None:
        how = f"tool {step.tool.tool} on server {step.tool.server}"
        return how + (" after shell commands" if step.commands else "")
    if step.commands:
        return "shell commands: " + "; ".join(
            c.script.strip().splitlines()[0] for c in step.commands
        )
    if step.substeps:
        return "done when its sub-steps are"
    return "by hand (an agent or a person)"
