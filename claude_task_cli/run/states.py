"""The units' states while a run executes, holding results only where a later step reads them.

A step's result can be large (a command's output, a file's text) and a run has many steps, so the
executor keeps a settled step's result and checks only when a later placeholder (`${step:ID/...}`
in a tool binding's arguments) refers to that step; every other result is in the store, read back
when the run's outcome needs it (`results.fill_results`). A resumed run reads its steps' states
without their values (arguments, result, checks) but for those same steps. Statuses, attempt
counts and errors are always held: they decide what runs next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from claude_task_cli.outcomes import StepStatus
from claude_task_cli.run.units import Unit
from claude_task_cli.store import StepState


def referenced(units: Mapping[str, Unit]) -> frozenset[str]:
    """The units whose results a placeholder of some unit's arguments reads."""
    return frozenset(ref for unit in units.values() for ref in unit.references)


class UnitStates:
    """Each unit's `StepState`, by unit id; the results of the units in `needed` only. A unit
    taken to run is `running` until its state is next set."""

    def __init__(self, units: Iterable[str], needed: frozenset[str]) -> None:
        self.needed = needed
        never = StepState()  # frozen: one for every unit not run yet
        self._states = dict.fromkeys(units, never)
        self._running: set[str] = set()

    def __getitem__(self, uid: str) -> StepState:
        return self._states[uid]

    def __contains__(self, uid: object) -> bool:
        return uid in self._states

    def items(self) -> Iterable[tuple[str, StepState]]:
        return self._states.items()

    def load(self, stored: Mapping[str, StepState]) -> None:
        """Take the states a store read back (`Store.step_states(run, values=needed)`)."""
        for uid, state in stored.items():
            if uid in self._states:
                self._states[uid] = state

    def holds(self, uid: str) -> bool:
        """Whether `uid`'s result and checks are kept (a later step reads them)."""
        return uid in self.needed

    def set(self, uid: str, state: StepState) -> None:
        """`uid`'s new state; its result and checks dropped unless a later step reads them."""
        if uid not in self.needed and (state.result is not None or state.checks is not None):
            state = dataclasses.replace(state, result=None, checks=None)
        self._states[uid] = state
        if state.status != StepStatus.RUNNING:
            self._running.discard(uid)

    def start(self, uid: str) -> None:
        """`uid` is taken to run."""
        self._running.add(uid)

    def status(self, uid: str) -> StepStatus:
        return StepStatus.RUNNING if uid in self._running else self._states[uid].status

    def statuses(self) -> dict[str, StepStatus]:
        return {uid: self.status(uid) for uid in self._states}

    def results(self, refs: Iterable[str]) -> dict[str, Any]:
        """The results of the completed units among `refs`."""
        states = self._states
        return {
            ref: states[ref].result
            for ref in refs
            if ref in states and states[ref].status == StepStatus.COMPLETED
        }

    def all(self) -> dict[str, StepState]:
        states = dict(self._states)
        for uid in self._running:
            states[uid] = dataclasses.replace(states[uid], status=StepStatus.RUNNING)
        return states
