"""fork_map: the same strings in the same order as a plain map, whichever process made them."""

from __future__ import annotations

import os
import threading

import pytest

from claude_task_cli.report import fork_map as module
from claude_task_cli.report.fork_map import NO_FORK_ENV, fork_map

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split whatever this machine has (the rule is tested on its own below)."""
    monkeypatch.delenv(NO_FORK_ENV, raising=False)
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})


@needs_fork
def test_the_split_gives_the_plain_result_and_the_child_did_half() -> None:
    parent = os.getpid()
    texts = fork_map(lambda n: f"{n}:{os.getpid() == parent}", range(1000), min_items=10)
    assert [t.split(":")[0] for t in texts] == [str(n) for n in range(1000)]
    assert {t.split(":")[1] for t in texts[:500]} == {"True"}
    assert {t.split(":")[1] for t in texts[500:]} == {"False"}  # made in the child


@needs_fork
def test_large_strings_come_back_whole() -> None:
    texts = fork_map(lambda n: "é|`\n" * 20_000 + str(n), range(40), min_items=2)
    assert texts == ["é|`\n" * 20_000 + str(n) for n in range(40)]


@needs_fork
def test_a_failing_child_half_is_done_again_here_and_the_error_is_the_real_one() -> None:
    parent = os.getpid()

    def only_here(n: int) -> str:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return str(n)

    assert fork_map(only_here, range(10), min_items=2) == [str(n) for n in range(10)]

    def bad(n: int) -> str:
        if n == 7:
            raise ValueError("item 7 is bad")
        return str(n)

    with pytest.raises(ValueError, match="item 7 is bad"):
        fork_map(bad, range(10), min_items=2)


def test_when_the_split_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    assert module._can_split(200, 200) is hasattr(os, "fork")
    assert not module._can_split(199, 200)  # too few items
    monkeypatch.setenv(NO_FORK_ENV, "1")
    assert not module._can_split(1000, 200)
    monkeypatch.delenv(NO_FORK_ENV)
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
        assert not module._can_split(1000, 200)  # one CPU
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not module._can_split(1000, 200)  # another thread is running
    finally:
        stop.set()
        other.join()


def test_the_split_point_halves_the_work_not_the_items() -> None:
    assert module.split_point([1, 1, 1, 1]) == 2
    assert module.split_point([6, 1, 1, 1, 1, 1, 1]) == 1  # a heavy first item is a half alone
    assert module.split_point([1, 1, 1, 1, 1, 1, 6]) == 6
    assert module.split_point([100, 1]) == 1  # each part keeps one item
    assert module.split_point([1, 100]) == 1
    assert module.split_point([3, 1, 1, 1]) == 1


@needs_fork
def test_weighted_items_are_split_by_weight_and_come_back_in_order() -> None:
    parent = os.getpid()
    weights = [8.0] + [1.0] * 8  # the first item weighs half of all
    texts = fork_map(
        lambda n: f"{n}:{os.getpid() == parent}", range(9), min_items=2, weights=weights
    )
    assert [t.split(":")[0] for t in texts] == [str(n) for n in range(9)]
    assert [t.split(":")[1] for t in texts] == ["True"] + ["False"] * 8
