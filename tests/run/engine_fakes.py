"""A tiny in-memory ToolCaller and helpers for the engine's pure-logic tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.run.engine import execute
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import RunOutcome
from claude_task_cli.store import Event, Store

ANY_OBJECT: dict[str, Any] = {"type": "object"}


@dataclass
class Info:
    input_schema: dict[str, Any]


@dataclass
class Result:
    structured: Any = None
    text: str = ""
    is_error: bool = False
    error: str | None = None
    kind: str | None = None
    sent: bool = True
    pause: Any = None


Handler = Callable[[str, dict[str, Any]], Awaitable[Result] | Result]


@dataclass
class FakeCaller:
    """Tools by server; `handlers` by tool name (default: echo the arguments back)."""

    tools: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    delay: float = 0.0
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    async def list_tools(self, server: str) -> dict[str, Info]:
        return {name: Info(schema) for name, schema in self.tools.get(server, {}).items()}

    async def call(
        self,
        server: str,
        tool: str,
        args: Any = None,
        timeout: float | None = None,
        *,
        on_progress: Any = None,
    ) -> Result:
        args = dict(args or {})
        self.calls.append((server, tool, args))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        started = time.perf_counter()
        try:
            await asyncio.sleep(args.get("sleep", self.delay) if isinstance(args, dict) else 0)
            handler = self.handlers.get(tool)
            if handler is None:
                return Result(structured={"echo": args})
            out = handler(server, args)
            return await out if asyncio.iscoroutine(out) else out  # type: ignore[return-value]
        finally:
            self.in_flight -= 1
            self.spans.append((str(args.get("id", tool)), started, time.perf_counter()))

    def count(self, tool: str) -> int:
        return sum(1 for _s, t, _a in self.calls if t == tool)


def caller_for(*tools: str, server: str = "srv", **schemas: dict[str, Any]) -> FakeCaller:
    return FakeCaller(tools={server: {t: schemas.get(t, ANY_OBJECT) for t in tools}})


def doc_from(markdown: str, name: str = "doc.md") -> TaskDocument:
    return convert_bytes(markdown.encode(), name)


def mcp(tool: str, server: str = "srv", indent: str = "  ", **extra: str) -> str:
    """An ```mcp fence for a step (args and other keys as YAML flow text)."""
    lines = ["```mcp", f"server: {server}", f"tool: {tool}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    lines.append("```")
    return "\n".join(indent + line for line in lines)


@dataclass
class Harness:
    store: Store
    events: list[Event] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def run(self, doc: TaskDocument, caller: Any, **options: Any) -> RunOutcome:
        """Execute `doc`; `options` are `RunOptions` fields or `execute`'s own keywords."""

        async def fake_sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        names = set(RunOptions.__dataclass_fields__)
        run_options = RunOptions(**{k: v for k, v in options.items() if k in names})
        rest = {k: v for k, v in options.items() if k not in names}

        async def bounded() -> RunOutcome:
            return await asyncio.wait_for(
                execute(
                    doc,
                    caller,
                    self.store,
                    run_options,
                    sleep=fake_sleep,
                    on_event=self.events.append,
                    **rest,
                ),
                timeout=20,
            )

        return asyncio.run(bounded())

    def kinds(self, step: str | None = None) -> list[str]:
        return [e.kind for e in self.events if step is None or e.step_id == step]


def open_harness(tmp_path: Path) -> Harness:
    return Harness(Store(tmp_path / "state.db"))
