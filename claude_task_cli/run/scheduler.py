"""Topological scheduling: each unit starts the moment its last prerequisite completes.

`concurrency` workers share one ready heap (task priority, then document order). A worker that
settles a unit updates its dependents' counts and takes the next ready unit itself, so a chain runs
on one worker with no task switch between steps. Outcomes are deferred writes (`Store.flush`): the
next unit's first write carries them, and a worker flushes before it waits with nothing to do, so
nothing settled is ever left uncommitted while the run waits on I/O (while a run is journaled,
"committed" is "durable in its step journal", and the database follows within ~0.1 s).
"""

from __future__ import annotations

import asyncio
import heapq

from claude_task_cli.outcomes import StepStatus
from claude_task_cli.run.unit_runner import UnitRunner

_BAD = (StepStatus.FAILED, StepStatus.SKIPPED)


class Scheduler:
    """Runs the pending units of `scope`; `await Scheduler(...).run()` once."""

    def __init__(self, runner: UnitRunner, scope: set[str], concurrency: int) -> None:
        self.runner = runner
        self.scope = scope
        self.concurrency = concurrency
        self.waiting: dict[str, int] = {}
        self.ready: list[tuple[int, int, str]] = []
        self.active = 0
        self.idle = 0
        self.done = False
        self.changed = asyncio.Event()

    async def run(self) -> None:
        units, states = self.runner.units, self.runner.states
        for uid in self.scope:
            if states[uid].status == StepStatus.PENDING:
                pending = [p for p in units[uid].prereqs if p in states]
                self.waiting[uid] = sum(
                    1 for p in pending if states[p].status != StepStatus.COMPLETED
                )
                if self.waiting[uid] == 0:
                    self._push(uid)
        for uid in sorted(units, key=lambda u: units[u].order):
            if states[uid].status in _BAD:
                self.runner.cascade(uid, self.scope)
        count = max(1, min(self.concurrency, len(self.waiting)))
        workers = [asyncio.create_task(self._worker()) for _ in range(count)]
        try:
            # the first failure (a bug, the store failing) cancels the rest and propagates;
            # cancelled attempts stay `running` in the store and resume as interrupted
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self.runner.store.flush()

    def _push(self, uid: str) -> None:
        unit = self.runner.units[uid]
        heapq.heappush(self.ready, (unit.rank, unit.order, uid))

    def _next(self) -> str | None:
        states = self.runner.states
        while self.ready and self.runner.abort is None:
            uid = heapq.heappop(self.ready)[2]
            if states[uid].status == StepStatus.PENDING:  # else skipped while it waited
                states[uid].status = StepStatus.RUNNING
                if self.ready and self.idle:
                    self.changed.set()  # more ready work than this worker: wake another
                return uid
        return None

    async def _worker(self) -> None:
        while not self.done:
            uid = self._next()
            if uid is None:
                if self.active == 0:  # nothing ready, nothing running: the run is over
                    self.done = True
                    self.changed.set()
                    return
                self.runner.store.flush()  # nothing to carry it: commit before waiting
                self.changed.clear()
                self.idle += 1
                try:
                    await self.changed.wait()
                finally:
                    self.idle -= 1
                continue
            self.active += 1
            try:
                await self.runner.run(uid)
                self._settled(uid)
            finally:
                self.active -= 1
            # wake an idle worker only for work this one will not take next, or to end the run:
            # in a chain, waking them at each step cost three task switches and a commit a step
            if self.idle and (len(self.ready) > 1 or (self.active == 0 and not self.ready)):
                self.changed.set()

    def _settled(self, uid: str) -> None:
        units, states = self.runner.units, self.runner.states
        status = states[uid].status
        if status == StepStatus.COMPLETED:
            for dep in units[uid].dependents:
                if dep in self.waiting and states[dep].status == StepStatus.PENDING:
                    self.waiting[dep] -= 1
                    if self.waiting[dep] == 0:
                        self._push(dep)
        elif status in _BAD:
            self.runner.cascade(uid, self.scope)
