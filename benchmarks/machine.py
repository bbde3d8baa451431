"""The conditions a benchmark ran under, printed under its table.

This VM's speed moves from day to day (the same code, the same benchmark: `python -c pass` has
taken 22 ms one day and 64 ms another), so a result means little without a measure of the machine
taken at the same time. `cpu_loop_ms` is that measure: a fixed pure-Python loop, the kind of work
the renderer and the executor do, timed best of three.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import time

LOOP = 10_000_000


def cpu_loop_ms() -> float:
    """The best of three timings of `for i in range(10_000_000): s += i`, in ms."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(LOOP):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def conditions() -> str:
    """Versions, cores, load and the machine's speed, in one line."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores, load average {load}; "
        f"machine speed: 10M-add Python loop {cpu_loop_ms():.0f} ms (best of 3)"
    )
