"""The scheduler alone: a graph of names, a priority, and work that says whether a unit completed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from claude_task_cli.run.scheduler import Scheduler


def run(
    graph: Mapping[str, list[str]],
    *,
    concurrency: int = 1,
    fails: frozenset[str] = frozenset(),
    stop_at: str | None = None,
    priority: Mapping[str, int] | None = None,
) -> tuple[list[str], int]:
    """The units in the order they started, and the most that ran at once."""
    started: list[str] = []
    running = [0, 0]
    scheduler: Scheduler

    async def work(uid: str) -> bool:
        started.append(uid)
        running[0] += 1
        running[1] = max(running)
        await asyncio.sleep(0.001)
        running[0] -= 1
        if uid == stop_at:
            scheduler.stop()
        return uid not in fails

    async def main() -> None:
        nonlocal scheduler
        ranks = priority or {}
        scheduler = Scheduler(
            graph, priority=lambda uid: (ranks.get(uid, 0), uid), concurrency=concurrency
        )
        await asyncio.wait_for(scheduler.run(work), timeout=10)

    asyncio.run(main())
    return started, running[1]


def test_a_unit_starts_once_its_last_prerequisite_completed() -> None:
    started, _ = run({"b": ["a"], "c": ["a", "b"], "a": []})
    assert started == ["a", "b", "c"]


def test_ready_units_are_taken_by_priority() -> None:
    started, _ = run({"a": [], "b": [], "c": []}, priority={"c": 0, "a": 1, "b": 2})
    assert started == ["c", "a", "b"]


def test_what_depends_on_a_unit_that_did_not_complete_never_starts() -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    started, _ = run(graph, fails=frozenset({"a"}))
    assert started == ["a", "d"]


def test_at_most_concurrency_units_run_at_once() -> None:
    graph = {f"u{i}": [] for i in range(12)}
    started, most = run(graph, concurrency=3)
    assert sorted(started) == sorted(graph)
    assert most == 3


def test_stop_starts_nothing_more() -> None:
    started, _ = run({"a": [], "b": ["a"], "c": []}, stop_at="a", priority={"a": 0, "c": 1})
    assert started == ["a"]


def test_a_cycle_is_refused() -> None:
    from graphlib import CycleError

    with pytest.raises(CycleError):
        run({"a": ["b"], "b": ["a"]})
