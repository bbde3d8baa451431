"""Rendering a run as it goes: live rich rows in a terminal, plain lines elsewhere.

The engine reports through its `on_event` callback (store Events); this module only draws them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

from claude_task_cli.cli.boundary import plain_output
from claude_task_cli.outcomes import STEP_END as _STEP_END

if TYPE_CHECKING:
    from claude_task_cli.store.database import Event


class PlainProgress:
    """One line per step transition, on stderr (stdout stays clean for --json)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.finished = 0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def suspended(self) -> contextlib.AbstractContextManager[None]:
        """While a person is asked a question: nothing to stop here."""
        return contextlib.nullcontext()

    def on_event(self, event: Event) -> None:
        step = event.step_id or ""
        if event.kind == "step_progress":
            typer.echo(f"  progress  {step} {_progress_text(event.payload)}", err=True)
        elif event.kind == "step_started":
            typer.echo(f"  started   {step} (attempt {event.payload.get('attempt', 1)})", err=True)
        elif event.kind == "step_retried":
            delay = event.payload.get("delay")
            typer.echo(f"  retrying  {step} in {delay}s: {event.payload.get('error')}", err=True)
        elif event.kind in _STEP_END or event.kind.startswith("step_"):
            self.finished += event.kind in _STEP_END
            label = _STEP_END.get(event.kind, event.kind.removeprefix("step_"))
            ms = event.payload.get("duration_ms")
            took = f" in {ms:.0f} ms" if isinstance(ms, int | float) else ""
            typer.echo(f"  {label:<9} {step}{took} [{self.finished}/{self.total}]", err=True)
        elif event.kind in ("run_started", "resumed"):
            typer.echo(f"{event.kind.replace('_', ' ')}: run {event.run_id}", err=True)


class LiveProgress:
    """A rich Live view: a row per running step and an overall bar."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.total = total
        self.done = 0
        self.overall = self.bar.add_task(self._headline(), total=total)
        self.running: dict[str, Any] = {}
        self.live = Live(self.bar, console=self.console, refresh_per_second=10, transient=False)

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
        step = event.step_id or ""
        if event.kind == "step_progress":  # what the step's server says of its call
            if step in self.running:
                payload = event.payload
                self.bar.update(
                    self.running[step],
                    description=f"  {step} {_progress_text(payload)}",
                    completed=payload.get("progress"),
                    total=payload.get("total"),
                )
        elif event.kind == "step_started":
            if step not in self.running:
                self.running[step] = self.bar.add_task(f"  {step} running", total=None)
        elif event.kind == "step_retried":
            if step in self.running:
                self.bar.update(self.running[step], description=f"  {step} retrying")
        elif event.kind.startswith("step_"):
            task = self.running.pop(step, None)
            if task is not None:
                self.bar.remove_task(task)
            label = _STEP_END.get(event.kind, event.kind.removeprefix("step_"))
            colour = {"completed": "green", "failed": "red", "skipped": "yellow"}.get(label, "cyan")
            self.console.print(f"[{colour}]{label:<9}[/] {step}")
            if event.kind in _STEP_END:
                self.done += 1
                self.bar.update(self.overall, advance=1, description=self._headline())

    def _headline(self) -> str:
        return f"steps {self.done}/{self.total}"


def _progress_text(payload: dict[str, Any]) -> str:
    """`3/5 message`: a server's progress notification as shown."""
    progress, total, message = payload.get("progress"), payload.get("total"), payload.get("message")
    done = f"{progress:g}" if isinstance(progress, int | float) else str(progress)
    if isinstance(total, int | float):
        done += f"/{total:g}"
    return f"{done} {message}" if message else done


def progress_view(total: int, quiet: bool) -> PlainProgress | LiveProgress:
    if quiet or plain_output() or not sys.stderr.isatty():
        return PlainProgress(total) if not quiet else _Silent(total)
    return LiveProgress(total)


class _Silent(PlainProgress):
    def on_event(self, event: Event) -> None:
        return None
