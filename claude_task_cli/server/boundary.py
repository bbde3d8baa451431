"""The MCP server's boundary: domain errors and bugs as tool errors, run progress as
notifications. The tools themselves are in `mcp_server.py`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent

from claude_task_cli.errors import TaskCliError, TaskSpecError, TaskSpecErrors
from claude_task_cli.outcomes import STEP_END, STEP_SETTLED

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from claude_task_cli.store.database import Event

P = ParamSpec("P")
R = TypeVar("R")


def error_result(exc: TaskCliError) -> CallToolResult:
    """A domain error as an MCP tool error: its lines as text, the problems as data."""
    specific = exc.errors if isinstance(exc, TaskSpecErrors) else [exc]
    errors: list[dict[str, Any]] = []
    for item in specific:
        if isinstance(item, TaskSpecError):
            errors.append({"path": item.path, "line": item.line, "message": item.message})
        else:
            path = getattr(item, "path", None)
            message = getattr(item, "message", None) if path is not None else None
            errors.append({"path": path, "line": None, "message": message or str(item)})
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(exc.lines()))],
        structured_content={"errors": errors, "exitCode": int(exc.exit_code)},
        is_error=True,
    )


def tool_boundary(
    fn: Callable[P, Awaitable[R]] | Callable[P, R],
) -> Callable[P, Awaitable[R | CallToolResult]] | Callable[P, R | CallToolResult]:
    """The server's one error boundary: domain errors and bugs become tool errors."""
    if inspect.iscoroutinefunction(fn):
        coroutine: Callable[P, Awaitable[R]] = fn

        @functools.wraps(fn)
        async def waited(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
            try:
                return await coroutine(*args, **kwargs)
            except Exception as exc:
                return _failure(fn.__name__, exc)

        return waited

    plain = cast("Callable[P, R]", fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
        try:
            return plain(*args, **kwargs)
        except Exception as exc:
            return _failure(fn.__name__, exc)

    return wrapper


def _failure(name: str, exc: Exception) -> CallToolResult:
    from loguru import logger

    if isinstance(exc, TaskCliError):
        logger.opt(exception=exc).debug(f"{name}: domain error")
        return error_result(exc)
    from claude_task_cli.log_file import log_path

    logger.opt(exception=exc).debug(f"{name}: internal error: {exc!r}")
    log = log_path()
    text = f"internal error: {exc} (traceback in {log})"
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


class StepProgress:
    """A run's settled steps (completed, failed, skipped) as progress notifications to the client
    (a no-op when it sent no progress token). `on_event` is called on the run's own thread."""

    def __init__(self, portal: BlockingPortal, ctx: Context | None, total: int) -> None:
        self.portal, self.ctx, self.total, self.done = portal, ctx, total, 0

    def on_event(self, event: Event) -> None:
        # a step waiting on the client is not progress, and progress must increase: no notice
        label = STEP_END.get(event.kind)
        if event.kind not in STEP_SETTLED or label is None or self.ctx is None:
            return
        self.done += 1
        message = f"step {event.step_id} {label}"
        self.portal.start_task_soon(self.ctx.report_progress, self.done, self.total, message)
