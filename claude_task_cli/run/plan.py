"""A dry run: what `execute` with the same options would do, without claiming, calling or writing.

It plans against the run `execute` would take up: the latest unfinished run (refusing a changed
document, as `execute` does), or a new one after a completed run or with `new_run`. Each selected
unit not done yet is listed by wave (`units.levels`), with its arguments resolved from the results
known so far (`<result of step X at /path>` where not known yet).
"""

from __future__ import annotations

from collections.abc import Mapping

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import DocumentChangedError
from claude_task_cli.outcomes import RunStatus, StepStatus
from claude_task_cli.run.arguments import marker, resolve_args
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import PlannedCall, RunOutcome, build_outcome, fill_results
from claude_task_cli.run.states import UnitStates, referenced
from claude_task_cli.run.units import Unit, levels, select
from claude_task_cli.store import Store


def dry_run(
    doc: TaskDocument, units: dict[str, Unit], store: Store, key: str, options: RunOptions
) -> RunOutcome:
    """The plan of what `execute` with `options` would do (see the module docstring)."""
    run = None if options.new_run else store.latest_run(key)
    if run is not None and run.status == RunStatus.COMPLETED:
        run = None
    if run is not None and run.source_sha256 != doc.source.sha256:
        raise DocumentChangedError(doc.source.path, run.id, run.source_sha256, doc.source.sha256)
    states = UnitStates(units, referenced(units))
    if run is not None:
        states.load(store.step_states(run.id, values=states.needed))
    done = {uid for uid, s in states.items() if s.status == StepStatus.COMPLETED}
    scope = select(units, options.only_task, options.only_step, done)
    plan = _plan(units, scope, done, states.results(done))
    run_id = None if run is None else run.id
    outcome = build_outcome(doc, units, states.all(), scope, run_id=run_id, plan=plan)
    return fill_results(outcome, store) if options.with_results else outcome


def _plan(
    units: dict[str, Unit], scope: set[str], done: set[str], results: Mapping[str, object]
) -> list[PlannedCall]:
    plan: list[PlannedCall] = []
    for wave, layer in enumerate(levels(units, scope, done), start=1):
        for uid in layer:
            unit = units[uid]
            binding = unit.step.tool if unit.step is not None else None
            args = None
            if binding is not None:
                args = resolve_args(binding.args, results, placeholder=marker).args
            plan.append(
                PlannedCall(
                    step_id=uid,
                    wave=wave,
                    kind=unit.kind,
                    server=unit.server,
                    tool=unit.tool_name,
                    args=args,
                    commands=[c.script for c in unit.step.commands] if unit.step else [],
                )
            )
    return plan
