"""A question a step's server asks a person (MCP elicitation), asked in the terminal.

Only when stdin and stderr are both terminals (`terminal_asker` is None otherwise: the executor
then declines each question, and the step pauses with it in its handoff). One question at a time,
with the live view stopped while it is asked; the prompt waits on a worker thread, so the run's
other calls go on meanwhile.

A form is asked field by field, each with its title, description and default (Enter keeps the
default, or leaves out a field that is not required): text, numbers, yes/no, and choices (one, or
several separated by commas) by number or by value; each value is checked against the field's
schema and asked again until it fits. "Answer it?" no → declined; Ctrl-D → cancelled. A URL is
shown, and the person says when they are done with it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from claude_task_cli.mcp.client_side import Answer, Question, form_problem

if TYPE_CHECKING:
    from rich.console import Console

    from claude_task_cli.mcp.client_side import Asker

Suspend = Callable[[], contextlib.AbstractContextManager[Any]]
_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}


def terminal_asker(suspend: Suspend = contextlib.nullcontext) -> Asker | None:
    """The person at this terminal, when stdin and stderr are both terminals; else None."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    from rich.console import Console

    return TerminalQuestions(Console(stderr=True), suspend=suspend).ask


class TerminalQuestions:
    """Questions asked on `console`, answered on `stream` (default: stdin)."""

    def __init__(
        self,
        console: Console,
        stream: TextIO | None = None,
        suspend: Suspend = contextlib.nullcontext,
    ) -> None:
        import anyio

        self.console = console
        self.stream = stream
        self.suspend = suspend
        self._one_at_a_time = anyio.Lock()

    async def ask(self, question: Question) -> Answer:
        import anyio.to_thread

        async with self._one_at_a_time:
            return await anyio.to_thread.run_sync(self.ask_now, question, abandon_on_cancel=True)

    def ask_now(self, question: Question) -> Answer:
        """Ask `question` and wait for the answer (blocking)."""
        with self.suspend():
            try:
                return self._answer(question)
            except EOFError:
                self.console.print("[yellow]cancelled[/]")
                return Answer("cancel")

    def _answer(self, question: Question) -> Answer:
        console = self.console
        console.print()
        console.rule(f"[bold]MCP server {question.server} asks[/]")
        console.print(question.message, markup=False)
        if question.url is not None:
            console.print(f"Open: {question.url}", markup=False)
            done = self._yes_no("Done with it?", default=True)
            return Answer("accept" if done else "decline")
        if not self._yes_no("Answer it? (no: decline)", default=True):
            return Answer("decline")
        schema = question.schema or {}
        required = set(schema.get("required") or [])
        content: dict[str, Any] = {}
        for name, spec in (schema.get("properties") or {}).items():
            value = self._field(name, spec, name in required)
            if value is not _LEFT_OUT:
                content[name] = value
        return Answer("accept", content)

    def _field(self, name: str, spec: dict[str, Any], required: bool) -> Any:
        """One field's value, asked until it fits its schema (`_LEFT_OUT`: not given)."""
        console = self.console
        choices = _choices(spec)
        label = str(spec.get("title") or name) + (" (required)" if required else "")
        if spec.get("description"):
            console.print(f"  {spec['description']}", style="dim", markup=False)
        for number, (_value, shown) in enumerate(choices, start=1):
            console.print(f"    {number}) {shown}", markup=False)
        default = _shown_default(spec, choices)
        form = {"type": "object", "properties": {name: spec}}
        while True:
            text = self._line(label, default)
            if not text:
                if not required:
                    return _LEFT_OUT
                console.print("  an answer is required", style="red")
                continue
            try:
                value = _parsed(spec, choices, text)
            except ValueError as exc:
                console.print(f"  {exc}", style="red", markup=False)
                continue
            problem = form_problem(form, {name: value})
            if problem is None:
                return value
            console.print(f"  {problem}", style="red", markup=False)

    def _yes_no(self, label: str, *, default: bool) -> bool:
        while True:
            text = self._line(label, "y" if default else "n").lower()
            if text in _YES or text in _NO:
                return text in _YES
            self.console.print("  answer y or n", style="red")

    def _line(self, label: str, default: str | None) -> str:
        """One line of input (`default` when it is empty); EOFError at the end of input."""
        shown = f"{label} [{default}]: " if default else f"{label}: "
        text = self.console.input(shown, markup=False, stream=self.stream)
        if self.stream is not None and text == "":  # a stream's end (an empty line is "\n")
            raise EOFError
        return text.strip() or (default or "")


class _LeftOut:
    """A field the person did not give (not required, no default)."""


_LEFT_OUT = _LeftOut()


def _choices(spec: dict[str, Any]) -> list[tuple[Any, str]]:
    """A field's choices as (value, what is shown): `enum` (with the legacy `enumNames`),
    `oneOf` / `anyOf` of `const` + `title`, and the same under `items` for several."""
    if spec.get("type") == "array":
        spec = spec.get("items") or {}
    options = spec.get("oneOf") or spec.get("anyOf")
    if options:
        return [(o["const"], str(o.get("title") or o["const"])) for o in options if "const" in o]
    values = spec.get("enum") or []
    names = spec.get("enumNames") or []
    return [
        (value, f"{names[i]} ({value})" if i < len(names) else str(value))
        for i, value in enumerate(values)
    ]


def _shown_default(spec: dict[str, Any], choices: list[tuple[Any, str]]) -> str | None:
    """The default as the person would type it (None: no default)."""
    if "default" not in spec:
        return None
    default = spec["default"]
    values = [value for value, _shown in choices]
    if spec.get("type") == "array" and isinstance(default, list):
        return ", ".join(str(values.index(d) + 1) if d in values else str(d) for d in default)
    if default in values:
        return str(values.index(default) + 1)
    if isinstance(default, bool):
        return "y" if default else "n"
    return str(default)


def _parsed(spec: dict[str, Any], choices: list[tuple[Any, str]], text: str) -> Any:
    """What the person typed, as the field's type; ValueError when it cannot be."""
    kind = spec.get("type")
    if kind == "array":
        return [_choice(choices, part.strip(), text) for part in text.split(",") if part.strip()]
    if choices:
        return _choice(choices, text, text)
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in _YES | _NO:
            raise ValueError("answer y or n")
        return lowered in _YES
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _choice(choices: list[tuple[Any, str]], given: str, whole: str) -> Any:
    """A choice by its number, its value or what is shown for it."""
    if given.isdigit() and 1 <= int(given) <= len(choices):
        return choices[int(given) - 1][0]
    for value, shown in choices:
        if given in (str(value), shown):
            return value
    raise ValueError(f"{whole!r}: choose by number, 1 to {len(choices)}")
