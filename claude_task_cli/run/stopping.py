"""Stopping a run cleanly on Ctrl-C (SIGINT) or SIGTERM.

The first signal cancels the run's main task: the engine records each step cut while it ran as
interrupted and finishes the run (it is no longer `running`), the server pool closes its servers,
and `RunStoppedError` (exit 130 for SIGINT, 143 for SIGTERM) reaches the door. A second signal
while that happens is not caught: the process ends as the signal says.

Handlers can only be set in the main thread; elsewhere (a run inside the MCP server) the caller's
own cancellation stops a run the same way, without this.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from claude_task_cli.errors import ExitCode, RunStoppedError

_T = TypeVar("_T")
SIGNALS = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


async def stoppable(body: Callable[[], Awaitable[_T]]) -> _T:
    """`await body()`, stopped by the first SIGINT or SIGTERM (see the module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        return await body()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    caught: list[signal.Signals] = []

    def on_signal(signum: signal.Signals) -> None:
        if caught:  # a second one: no more grace
            loop.remove_signal_handler(signum)
            signal.raise_signal(signum)
            return
        caught.append(signum)
        task.cancel()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await body()
    except asyncio.CancelledError:
        if not caught:
            raise
        task.uncancel()  # the cancellation was ours, and is answered by the error below
        raise RunStoppedError(caught[0].name, SIGNALS[caught[0]]) from None
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)
