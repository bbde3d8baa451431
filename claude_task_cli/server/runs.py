"""The runs this server executes: each on a thread of its own, waited on, polled, or cancelled.

A run is the facade's blocking `execute_document`, which runs the engine on an event loop of its
own (`asyncio.run`) on a worker thread: the server's loop stays free to answer other requests. A
call that waits (`execute_task`, the default) receives the run's step ends as progress
notifications, in order and all before its result; a call that does not wait (`wait: false`)
returns once the run is claimed, and the run goes on in the server until it stops.

Cancelling a run (`cancel_run`, `notifications/cancelled` for the call waiting on it, the server
shutting down) cancels the run's main task on its own loop — what `asyncio.run` does on Ctrl-C
— so the engine stops the way the CLI's does on an interrupt: its scheduler's workers and their
calls are cancelled, the servers closed, and the run's claim released. What the engine records
for the steps that were in flight is the engine's (see docs/mcp-server.md, "Cancellation").
The main task is the one that emits the run's first event (`run_started` / `resumed`, from
`engine.execute` itself); a cancel that comes before it is applied when it comes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from claude_task_cli.outcomes import STEP_SETTLED

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from claude_task_cli.run.results import RunOutcome
    from claude_task_cli.store.database import Event

Watch = Callable[[str, "Event"], None]  # (the document's key, one of its run's events)
STOP_WITHIN = 30.0  # seconds a cancelled run is given to stop before the caller stops waiting
_FIRST = ("run_started", "resumed")


class RunHandle:
    """One run executing in this server: its thread, its events, how it ended."""

    def __init__(
        self,
        key: str,
        run: Callable[..., RunOutcome],
        on_end: Callable[[RunHandle], None],
        watch: Watch | None = None,
    ) -> None:
        self.key = key
        self._on_end = on_end
        self._watch = watch
        self.run_id: int | None = None
        self.selected: list[str] | None = None  # the run's selection (None: every step)
        self.outcome: RunOutcome | None = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.events: asyncio.Queue[Event | None] = asyncio.Queue()
        self.started = asyncio.Event()  # the run is claimed (run_id known), or it ended
        self.finished = asyncio.Event()
        self._server_loop = asyncio.get_running_loop()
        self._run_loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._body, args=(run,), name=f"run {key}")

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop the run (from the server's loop); a no-op once it ended."""
        with self._lock:
            self.cancelled = True
            if self._run_loop is not None and self._main is not None:
                self._run_loop.call_soon_threadsafe(self._main.cancel)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    # on the run's thread -----------------------------------------------------------------------

    def _body(self, run: Callable[..., RunOutcome]) -> None:
        try:
            self.outcome = run(on_event=self._on_event)
        except BaseException as exc:  # a domain error, a bug, or the cancellation itself
            self.error = exc
        finally:
            self._post(self._ended)

    def _on_event(self, event: Event) -> None:
        if self._main is None and event.kind in _FIRST:
            with self._lock:
                self._run_loop, self._main = asyncio.get_running_loop(), asyncio.current_task()
                self.run_id = event.run_id
                selected = event.payload.get("selected")
                self.selected = list(selected) if selected is not None else None
                if self.cancelled and self._main is not None:
                    self._main.cancel()
            self._post(self.started.set)
        self._post(self.events.put_nowait, event)
        if self._watch is not None:
            self._post(self._watch, self.key, event)

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        self._server_loop.call_soon_threadsafe(fn, *args)

    def _ended(self) -> None:
        self.events.put_nowait(None)
        self.started.set()
        self.finished.set()
        self._on_end(self)


class Runs:
    """The runs executing in this server, by document (its resolved path); `watch` hears every
    event of each, on the server's loop (`subscriptions.Subscribers.heard`)."""

    def __init__(self, watch: Watch | None = None) -> None:
        self.active: dict[str, RunHandle] = {}
        self.watch = watch

    def start(self, key: str, run: Callable[..., RunOutcome]) -> RunHandle:
        """Start `run` (an `execute_document` waiting for its `on_event`) on its own thread."""
        handle = RunHandle(key, run, self._forget, self.watch)
        handle.start()
        return handle

    async def claimed(self, handle: RunHandle) -> None:
        """Wait until the run is claimed (listed in `active` then, until it ends) or ended; raise
        what ended it before it was claimed (a locked run, an unknown step, ...)."""
        await handle.started.wait()
        if handle.run_id is None:
            if handle.error is not None:
                raise handle.error
        elif not handle.finished.is_set():
            self.active.setdefault(handle.key, handle)

    async def wait(
        self, handle: RunHandle, ctx: Context | None, total: Callable[[RunHandle], int]
    ) -> RunOutcome:
        """Wait for the run to stop, sending each step it settles (completed, failed, skipped) to
        `ctx` as progress, counted against `total(handle)`, what the run will run; a step that
        pauses for a person or the client is not counted (progress only rises). Cancelled while
        waiting (the client cancelled the call), it cancels the run and waits for it to stop
        before passing the cancel on."""
        try:
            await self.claimed(handle)
            done, of = 0, None
            while (event := await handle.events.get()) is not None:
                if event.kind not in STEP_SETTLED or ctx is None:
                    continue  # a step left to a person or the client is not done: not counted
                if of is None:
                    of = total(handle)
                done += 1
                label = event.kind.removeprefix("step_")
                await ctx.report_progress(done, max(of, done), f"step {event.step_id} {label}")
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_WITHIN):
                handle.cancel()
                await handle.finished.wait()
            raise
        await handle.finished.wait()
        if handle.error is not None:
            raise handle.error
        assert handle.outcome is not None
        return handle.outcome

    async def stop(self, handle: RunHandle) -> bool:
        """Cancel a run and wait (a while) for it to stop; whether it stopped."""
        handle.cancel()
        with anyio.move_on_after(STOP_WITHIN):
            await handle.finished.wait()
        return handle.finished.is_set()

    def _forget(self, handle: RunHandle) -> None:
        if self.active.get(handle.key) is handle:
            del self.active[handle.key]

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[dict[str, Any]]:
        """The server's lifespan: when it shuts down, every run it executes is cancelled, and
        waited for, so none is left holding its claim or its servers."""
        try:
            yield {}
        finally:
            with anyio.CancelScope(shield=True):
                handles = list(self.active.values())
                for handle in handles:
                    handle.cancel()
                for handle in handles:
                    await anyio.to_thread.run_sync(handle.join, STOP_WITHIN)
