"""The MCP server's one error boundary: what a tool raises becomes a tool error an agent can use.

A domain error (`errors.py`) keeps the CLI's words and meaning: the text is the one-line message
the CLI prints (one line per problem), and the structured content says what kind of error it is,
the exit code the CLI would have used, and where the problem is:

    {"code": "environment", "exitCode": 4, "kind": "runLocked", "message": "...",
     "where": {"document": "docs/tasks/010.md", "runId": 3},
     "errors": [{"path": ..., "line": ..., "message": ...}]}

It is found wherever the core raised it: an `ExceptionGroup` (a task group, the portal that carries
a run's events) is unwrapped to the domain error inside it. Anything else is a bug: one line to the
client (`internal error: ...`), the traceback to the log file.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from claude_task_cli.errors import ExitCode, TaskCliError, TaskSpecError, TaskSpecErrors

P = ParamSpec("P")
R = TypeVar("R")

# the attributes of domain errors that say where the problem is, and their names in `where`;
# a refused board move (`TransitionError`) says which task, the rule and what blocks it
_WHERE = (("path", "path"), ("line", "line"), ("server", "server"), ("doc", "document"),
          ("run_id", "runId"), ("where", "task"), ("rule", "rule"),
          ("blocker", "blocker"))  # fmt: skip


def domain_error(exc: BaseException) -> TaskCliError | None:
    """The domain error `exc` is, or the first one inside it when it is an exception group."""
    if isinstance(exc, TaskCliError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = domain_error(inner)
            if found is not None:
                return found
    return None


def error_data(exc: TaskCliError) -> dict[str, Any]:
    """A domain error as data: its kind, exit code, message, where, and every problem."""
    specific = exc.errors if isinstance(exc, TaskSpecErrors) else [exc]
    errors: list[dict[str, Any]] = []
    for item in specific:
        if isinstance(item, TaskSpecError):
            errors.append({"path": item.path, "line": item.line, "message": item.message})
        else:
            path = getattr(item, "path", None)
            message = getattr(item, "message", None) if path is not None else None
            line = getattr(item, "line", None)
            errors.append({"path": path, "line": line, "message": message or str(item)})
    first = specific[0] if specific else exc
    where = {name: getattr(first, attr) for attr, name in _WHERE if getattr(first, attr, None)}
    return {
        "code": exc.exit_code.name.lower(),
        "exitCode": int(exc.exit_code),
        "kind": _kind(exc),
        "message": "\n".join(exc.lines()),
        "where": where or None,
        "errors": errors,
    }


def error_result(exc: TaskCliError) -> CallToolResult:
    """A domain error as a tool error: its lines as text, `error_data` as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(exc.lines()))],
        structured_content=error_data(exc),
        is_error=True,
    )


def protocol_error(exc: TaskCliError) -> Exception:
    """A domain error met reading a resource or getting a prompt, as the protocol error to raise
    (`MCPError`: invalid params for bad input, internal for the environment), `error_data` as its
    data."""
    from mcp import MCPError
    from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

    code = INVALID_PARAMS if exc.exit_code == ExitCode.INVALID_INPUT else INTERNAL_ERROR
    return MCPError(code=code, message="\n".join(exc.lines()), data=error_data(exc))


def arguments_result(tool: str, exc: ValidationError) -> CallToolResult:
    """Arguments that do not fit a tool's input schema, one line per problem (exit code 2)."""
    lines = []
    for problem in exc.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "arguments"
        if problem["type"] == "extra_forbidden":
            lines.append(f"{tool}: unknown argument {where!r}")
        else:
            lines.append(f"{tool}: argument {where!r}: {problem['msg']}")
    first = ".".join(str(part) for part in exc.errors()[0]["loc"]) if exc.errors() else None
    data = {
        "code": "invalid_input",
        "exitCode": int(ExitCode.INVALID_INPUT),
        "kind": "arguments",
        "message": "\n".join(lines),
        "where": {"argument": first} if first else None,
        "errors": [{"path": None, "line": None, "message": line} for line in lines],
    }
    return CallToolResult(
        content=[TextContent(type="text", text=data["message"])],
        structured_content=data,
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
                return failure(fn.__name__, exc)

        return waited

    plain = cast("Callable[P, R]", fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
        try:
            return plain(*args, **kwargs)
        except Exception as exc:
            return failure(fn.__name__, exc)

    return wrapper


def failure(name: str, exc: Exception) -> CallToolResult:
    """What `name` raised, as a tool error (logged; a bug's traceback goes to the log file)."""
    from loguru import logger

    found = domain_error(exc)
    if found is not None:
        logger.opt(exception=exc).debug(f"{name}: domain error")
        return error_result(found)
    from claude_task_cli.log_file import log_path

    logger.opt(exception=exc).debug(f"{name}: internal error: {exc!r}")
    text = f"internal error: {exc} (traceback in {log_path()})"
    data = {
        "code": "internal",
        "exitCode": int(ExitCode.INTERNAL),
        "kind": "internal",
        "message": text,
        "where": None,
        "errors": [],
    }
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data, is_error=True
    )


def _kind(exc: TaskCliError) -> str:
    """`RunLockedError` → `runLocked`: the error's class, for an agent to branch on."""
    name = re.sub(r"Errors?$", "", type(exc).__name__)
    return name[0].lower() + name[1:]
