"""The units' states while a run executes, holding results only where a later step reads them.

A step's result can be large (a command's output, a file's text) and a run has many steps, so the
executor keeps a settled step's result and checks only when a later placeholder (`${step:ID/...}`
in a tool binding's arguments) refers to that step; every other result is in the store, and is
read back once, when the run's outcome is built (`with_results`). Statuses, arguments, attempt
counts and errors are small and always held: they decide what runs next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from claude_task_cli.outcomes import StepStatus
from claude_task_cli.run.units import Unit
from claude_task_cli.store import StepState, Store


def referenced(units: Mapping[str, Unit]) -> frozenset[str]:
    """The units whose results a placeholder of some unit's arguments reads."""
    return frozenset(ref for unit in units.values() for ref in unit.references)


class UnitStates:
    """Each unit's `StepState`, by unit id; the results of the units in `needed` only."""

    def __init__(self, units: Iterable[str], needed: frozenset[str]) -> None:
        self.needed = needed
        self._states = {uid: StepState() for uid in units}
        self._unheld: set[str] = set()  # units whose stored result or checks are not held

    def __getitem__(self, uid: str) -> StepState:
        return self._states[uid]

    def __contains__(self, uid: object) -> bool:
        return uid in self._states

    def items(self) -> Iterable[tuple[str, StepState]]:
        return self._states.items()

    def load(self, stored: Mapping[str, StepState]) -> None:
        """Take the states a store read back (`Store.step_states(run, results=needed)`)."""
        for uid, state in stored.items():
            if uid in self._states:
                self._states[uid] = state
                if uid not in self.needed:
                    self._unheld.add(uid)

    def set(self, uid: str, state: StepState) -> None:
        """`uid`'s new state; its result and checks dropped unless a later step reads them."""
        if uid in self.needed or (state.result is None and state.checks is None):
            self._unheld.discard(uid)
        else:
            self._unheld.add(uid)
            state = dataclasses.replace(state, result=None, checks=None)
        self._states[uid] = state

    def mark(self, uid: str, status: StepStatus) -> None:
        """A status change alone (a unit taken to run)."""
        self._states[uid] = dataclasses.replace(self._states[uid], status=status)

    def status(self, uid: str) -> StepStatus:
        return self._states[uid].status

    def statuses(self) -> dict[str, StepStatus]:
        return {uid: state.status for uid, state in self._states.items()}

    def results(self, refs: Iterable[str]) -> dict[str, Any]:
        """The results of the completed units among `refs`."""
        states = self._states
        return {
            ref: states[ref].result
            for ref in refs
            if ref in states and states[ref].status == StepStatus.COMPLETED
        }

    def with_results(self, store: Store, run_id: int | None) -> dict[str, StepState]:
        """Every unit's state, with the results and checks not held read back from the store."""
        states = dict(self._states)
        if run_id is not None and self._unheld:
            for uid, (result, checks) in store.latest_results(run_id, self._unheld).items():
                states[uid] = dataclasses.replace(states[uid], result=result, checks=checks)
        return states
