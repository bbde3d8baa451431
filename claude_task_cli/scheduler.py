"""Topological scheduling: each unit starts the moment its last prerequisite completes.

No central loop waits on all running units: a unit's task, when it settles, updates its dependents'
counts and starts whatever became ready itself (at most `concurrency` running at once, ready units
taken by task priority, then document order). The outcomes a unit settled with are deferred writes
(`Store.flush`): the units it starts carry them in their first write, and a flush queued behind
those units' first steps commits whatever is left, before anything waits on I/O.
"""

from __future__ import annotations

import asyncio
import heapq

from claude_task_cli.outcomes import StepStatus
from claude_task_cli.unit_runner import UnitRunner

_BAD = (StepStatus.FAILED, StepStatus.SKIPPED)


class Scheduler:
    """Runs the pending units of `scope`; `await Scheduler(...).run()` once."""

    def __init__(self, runner: UnitRunner, scope: set[str], concurrency: int) -> None:
        self.runner = runner
        self.scope = scope
        self.concurrency = concurrency
        self.waiting: dict[str, int] = {}
        self.ready: list[tuple[int, int, str]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None
        self.finished = asyncio.Event()
        self.flush_queued = False

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
        self._start_ready()
        try:
            if self.tasks:
                await self.finished.wait()
        finally:
            for task in self.tasks:
                task.cancel()  # their attempts stay `running`: resumed as interrupted
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
        self.runner.store.flush()
        if self.error is not None:
            raise self.error

    def _push(self, uid: str) -> None:
        unit = self.runner.units[uid]
        heapq.heappush(self.ready, (unit.rank, unit.order, uid))

    def _start_ready(self) -> None:
        states = self.runner.states
        while (
            self.ready
            and len(self.tasks) < self.concurrency
            and self.runner.abort is None
            and self.error is None
        ):
            uid = heapq.heappop(self.ready)[2]
            if states[uid].status != StepStatus.PENDING:
                continue  # skipped while it waited
            states[uid].status = StepStatus.RUNNING
            task = asyncio.create_task(self._run(uid))
            self.tasks.add(task)
        if not self.flush_queued:
            # queued after the first steps of the tasks just created: they go first
            self.flush_queued = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.flush_queued = False
        try:
            self.runner.store.flush()
        except Exception as exc:  # the store failing stops the run
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.error = self.error or exc
        self.finished.set()

    async def _run(self, uid: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            await self.runner.run(uid)
            self._settled(uid)
        except Exception as exc:  # a bug: stop the run, the error propagates from `run`
            self._fail(exc)
        finally:
            self.tasks.discard(task)
        self._start_ready()
        if not self.tasks:
            self.finished.set()

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
