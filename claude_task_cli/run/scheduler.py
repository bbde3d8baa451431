"""Topological scheduling: each unit starts the moment its last prerequisite completes.

The graph is `graphlib.TopologicalSorter`'s: `get_ready` gives the units whose prerequisites are
all done, `done` marks a completed one. A unit that does not complete (it failed, paused, or waits
on the client) is never marked done, so whatever depends on it never becomes ready. `concurrency`
workers share one ready heap, ordered by `priority`; a worker that finishes a unit takes the next
ready one itself, so a chain runs on one worker with no task switch between steps.

The scheduler knows nothing of what a unit is: `run(work)` calls `work(uid)`, which returns
whether the unit completed. `before_wait` is called before a worker waits with nothing to do (the
engine commits the outcomes not committed yet there, so none waits uncommitted).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from graphlib import TopologicalSorter
from typing import Any


class Scheduler:
    """Runs every unit of `graph` (unit → its prerequisites) that becomes ready; `run` once."""

    def __init__(
        self,
        graph: Mapping[str, Collection[str]],
        *,
        priority: Callable[[str], Any],
        concurrency: int,
        before_wait: Callable[[], None] = lambda: None,
    ) -> None:
        self._sorter: TopologicalSorter[str] = TopologicalSorter(graph)
        self._sorter.prepare()
        self._priority = priority
        self._workers = max(1, min(concurrency, len(graph)))
        self._before_wait = before_wait
        self._ready: list[tuple[Any, str]] = []
        self._active = 0
        self._idle = 0
        self._over = False
        self._stopped = False
        self._changed = asyncio.Event()

    def stop(self) -> None:
        """Start no more units; the ones running finish."""
        self._stopped = True

    async def run(self, work: Callable[[str], Awaitable[bool]]) -> None:
        self._push(self._sorter.get_ready())
        workers = [asyncio.create_task(self._worker(work)) for _ in range(self._workers)]
        try:
            # the first failure (a bug, the store failing) cancels the rest and propagates
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _push(self, ready: Iterable[str]) -> None:
        for uid in ready:
            heapq.heappush(self._ready, (self._priority(uid), uid))

    def _next(self) -> str | None:
        if not self._ready or self._stopped:
            return None
        uid = heapq.heappop(self._ready)[1]
        if self._ready and self._idle:
            self._changed.set()  # more ready work than this worker: wake another
        return uid

    async def _worker(self, work: Callable[[str], Awaitable[bool]]) -> None:
        while not self._over:
            uid = self._next()
            if uid is None:
                if self._active == 0:  # nothing ready, nothing running: the run is over
                    self._over = True
                    self._changed.set()
                    return
                self._before_wait()
                self._changed.clear()
                self._idle += 1
                try:
                    await self._changed.wait()
                finally:
                    self._idle -= 1
                continue
            self._active += 1
            try:
                if await work(uid):
                    self._sorter.done(uid)
                    self._push(self._sorter.get_ready())
            finally:
                self._active -= 1
            # wake an idle worker only for work this one will not take next, or to end the run:
            # in a chain, waking them at each step costs task switches and a commit a step
            over = self._active == 0 and (self._stopped or not self._ready)
            if self._idle and (over or len(self._ready) > 1):
                self._changed.set()
