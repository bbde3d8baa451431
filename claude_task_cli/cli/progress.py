"""Rendering a run as it goes: live rich rows in a terminal, plain lines elsewhere (on stderr, so
stdout stays clean for --json).

The run reports through its `on_event` callback: the store's events, and the servers' start
events (not stored: they come before the run opens). `Tally` follows them — which servers are
starting, which steps run since when and at which attempt, how many settled — and the two views
draw it. A step counts as progress when it settles in this run (completed, failed or skipped);
one that waits on the client (paused, awaiting) is shown but not counted. A resumed run's count
starts from what earlier runs completed, as its `resumed` event says. Every step is named by its
id and its title.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from claude_task_cli.cli.boundary import plain_output
from claude_task_cli.outcomes import STEP_END, STEP_SETTLED
from claude_task_cli.report.failure_text import describe_reason, first_line

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from claude_task_cli.store import Event

_COLOUR = {"completed": "green", "failed": "red", "skipped": "yellow", "interrupted": "red"}
_REASON = 100  # characters of a failure's reason on its line


@dataclass
class Running:
    since: float
    attempt: int
    note: str = ""


class Tally:
    """Where the run stands, from its events: what the views draw."""

    def __init__(
        self, total: int, titles: Mapping[str, str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.titles = titles
        self.clock = clock
        self.settled = 0
        self.running: dict[str, Running] = {}  # step id → since when, which attempt
        self.servers: dict[str, float] = {}  # server → starting since

    def follow(self, event: Event) -> None:
        kind, step, payload = event.kind, event.step_id or "", event.payload
        if kind == "server_starting":
            self.servers[payload["server"]] = self.clock()
        elif kind in ("server_ready", "server_failed"):
            self.servers.pop(payload["server"], None)
        elif kind in ("run_started", "resumed"):
            selected = payload.get("selected")
            self.total = payload.get("total", len(selected) if selected else self.total)
            self.settled = payload.get("completed", 0)
        elif kind == "step_started":
            attempt = payload.get("call", payload.get("attempt", 1))
            self.running[step] = Running(self.clock(), attempt)
        elif kind == "step_retried" and step in self.running:
            self.running[step].note = f"retrying in {payload.get('delay')}s"
        elif kind == "step_progress" and step in self.running:  # what its server says of it
            self.running[step].note = progress_text(payload)
        elif kind in STEP_END or kind == "step_interrupted":
            self.running.pop(step, None)
            self.settled += kind in STEP_SETTLED

    def name(self, step: str) -> str:
        """`1.2 Use it`: a step's id and title."""
        title = self.titles.get(step)
        return f"{step} {title}" if title else step

    @property
    def counter(self) -> str:
        return f"[{self.settled}/{self.total}]"


def ended(event: Event, tally: Tally) -> tuple[str, str] | None:
    """A step's end as (its word, its line's text after the word); None for other events."""
    kind, payload = event.kind, event.payload
    if kind == "step_interrupted":
        attempt = payload.get("attempt")
        return "interrupted", f"{tally.name(event.step_id or '')} (attempt {attempt} was running)"
    word = STEP_END.get(kind)
    if word is None:
        return None
    ms = payload.get("duration_ms")
    took = f" in {ms:.0f} ms" if isinstance(ms, int | float) else ""
    # completed needs no reason; awaiting's is the step's own title again
    why = _why(payload) if kind not in ("step_completed", "step_awaiting_client") else ""
    return word, f"{tally.name(event.step_id or '')}{took} {tally.counter}{why}"


def _why(payload: Mapping[str, Any]) -> str:
    """`: ` and the one-line reason a step did not complete, when the event gives one."""
    reason = payload.get("reason")
    text = describe_reason(reason) if isinstance(reason, dict) else first_line(payload.get("error"))
    if not text:
        return ""
    return ": " + (text if len(text) <= _REASON else text[: _REASON - 1] + "…")


def progress_text(payload: Mapping[str, Any]) -> str:
    """`3/5 message`: a server's progress notification for a step's call, as shown."""
    progress, total, message = payload.get("progress"), payload.get("total"), payload.get("message")
    done = f"{progress:g}" if isinstance(progress, int | float) else str(progress)
    if isinstance(total, int | float):
        done += f"/{total:g}"
    return f"{done} {message}" if message else done


def server_line(event: Event) -> str | None:
    """The line for a server's start event; None for other events."""
    server, payload = event.payload.get("server"), event.payload
    if event.kind == "server_starting":
        return f"starting server {server}"
    if event.kind == "server_ready":
        return f"server {server} ready in {payload.get('seconds', 0):.1f} s"
    if event.kind == "server_failed":
        return f"server {server} did not start: {first_line(payload.get('error'))}"
    return None


class PlainProgress:
    """One line per server start and per step transition, on stderr."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def suspended(self) -> contextlib.AbstractContextManager[None]:
        """While a person is asked a question (`questions.py`): nothing to stop here."""
        return contextlib.nullcontext()

    def on_event(self, event: Event) -> None:
        self.tally.follow(event)
        line = self.line(event)
        if line is not None:
            typer.echo(line, err=True)

    def line(self, event: Event) -> str | None:
        tally, step = self.tally, event.step_id or ""
        if event.kind == "step_progress":
            return f"  progress  {tally.name(step)} {progress_text(event.payload)}"
        if event.kind == "step_started":
            return f"  started   {tally.name(step)} (attempt {tally.running[step].attempt})"
        if event.kind == "step_retried":
            delay, error = event.payload.get("delay"), first_line(event.payload.get("error"))
            return f"  retrying  {tally.name(step)} in {delay}s: {error}"
        end = ended(event, tally)
        if end is not None:
            return f"  {end[0]:<9} {end[1]}"
        if event.kind == "run_started":
            return f"run {event.run_id} started: {tally.total} steps"
        if event.kind == "resumed":
            return f"run {event.run_id} resumed: {tally.settled} of {tally.total} steps done before"
        return server_line(event)


class LiveProgress:
    """A rich Live view: the overall count and bar, a row per server starting and per step
    running (its id, title, attempt and time so far); each step's end printed above it."""

    def __init__(self, tally: Tally, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.tally = tally
        self.console = console or Console(stderr=True)
        self.live = Live(
            console=self.console,
            get_renderable=self.renderable,
            refresh_per_second=4,
            transient=True,
        )

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """The live view stopped while a person is asked a question, and drawn again after."""
        self.live.stop()
        try:
            yield
        finally:
            self.live.start()

    def on_event(self, event: Event) -> None:
        from rich.text import Text

        self.tally.follow(event)
        end = ended(event, self.tally)
        if end is not None:
            word, rest = end
            self.console.print(Text.assemble((f"{word:<9}", _COLOUR.get(word, "cyan")), " ", rest))
        elif event.kind in ("server_ready", "server_failed"):
            self.console.print(Text(server_line(event) or ""))

    def renderable(self) -> RenderableType:
        """What the live area shows now: the count and its bar, then a row per server starting
        and per step running, with its time so far."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        tally, now = self.tally, self.tally.clock()
        head = Table.grid(padding=(0, 1))
        bar = ProgressBar(total=max(tally.total, 1), completed=tally.settled, width=30)
        head.add_row(f"steps {tally.settled}/{tally.total}", bar)
        rows = Table.grid(padding=(0, 2), expand=True)
        rows.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        rows.add_column(no_wrap=True)
        rows.add_column(no_wrap=True, justify="right")
        for server, since in tally.servers.items():
            rows.add_row(Text(f"  starting server {server}"), "", _elapsed(now - since))
        for step, running in tally.running.items():
            what = f"attempt {running.attempt}" + (f", {running.note}" if running.note else "")
            rows.add_row(Text(f"  {tally.name(step)}"), Text(what), _elapsed(now - running.since))
        return Group(head, rows) if rows.row_count else head


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(int(max(seconds, 0)), 60)
    return f"{minutes}:{rest:02d}"


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def suspended(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def on_event(self, event: Event) -> None:
        return None


def progress_view(
    total: int, titles: Mapping[str, str], quiet: bool
) -> PlainProgress | LiveProgress | _Silent:
    """The view for this terminal: none (quiet), plain lines, or the live rows."""
    if quiet:
        return _Silent()
    tally = Tally(total, titles)
    if plain_output() or not sys.stderr.isatty():
        return PlainProgress(tally)
    return LiveProgress(tally)
