"""Every domain error a tool can raise reaches the agent as a tool error with the CLI's words and
exit code (`code`, `exitCode`, `kind`, `message`, `where`), however the core raised it — including
from inside a run, where it arrives wrapped in an exception group. Each case is checked against
the CLI's own output for the same request, in-process, over stdio, over streamable HTTP and
through the MCP Inspector CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult
from typer.testing import CliRunner

from claude_task_cli import errors
from claude_task_cli.cli.app import app
from claude_task_cli.server.tools import build_server
from claude_task_cli.store.database import Claim, Store
from tests.server.support import PERSON, serve_over_stdio

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Case:
    """One request that makes `error` happen, and the CLI command that makes the same request."""

    error: type[errors.TaskCliError]
    tool: str
    arguments: dict[str, Any]
    cli: list[str]
    kind: str
    code: str
    where: dict[str, Any] | None = None
    setup: Callable[[Path], None] = field(default=lambda _root: None)


def hold_a_claim(root: Path) -> None:
    """Another live executor (this test process) holds a run of 010."""
    path = (root / "docs" / "tasks" / "010_time_and_commands.md").resolve()
    with Store(root / ".claude-task" / "state.db") as store:
        store.open_run(doc_key=str(path), doc_path=str(path), doc_id="010", sha256="0" * 64,
                       claim=Claim())  # fmt: skip


def run_then_change(root: Path) -> None:
    """060 run once (it pauses for its person), then edited."""
    result = CliRunner().invoke(app, ["execute_task", "060", "--quiet"])
    assert result.exit_code == 3, result.output
    (root / "docs" / "tasks" / "060_person.md").write_text(PERSON + "\nA note.\n")


def a_server_without_a_command(root: Path) -> None:
    """A `.mcp.json` whose `time` entry has no command."""
    config = json.loads((root / ".mcp.json").read_text())
    del config["mcpServers"]["time"]["command"]
    (root / ".mcp.json").write_text(json.dumps(config))


def no_mcp_json(root: Path) -> None:
    """No `.mcp.json` at the root (found by its .git instead)."""
    (root / ".mcp.json").unlink()
    (root / ".git").mkdir()


def newer_store(root: Path) -> None:
    """A state database written by a release newer than this one."""
    (root / ".claude-task").mkdir(exist_ok=True)
    with sqlite3.connect(root / ".claude-task" / "state.db") as conn:
        conn.execute("PRAGMA user_version = 99")


CASES = {
    "input": Case(errors.InputError, "task_status", {"task": "docs/nope.md"},
                  ["task_status", "docs/nope.md"], "input", "invalid_input",
                  {"path": "docs/nope.md"}),
    "task_spec": Case(errors.TaskSpecError, "convert_task", {"path": "030"},
                      ["convert_task", "docs/tasks/030_broken.md", "--stdout"], "taskSpec",
                      "invalid_input", {"path": "docs/tasks/030_broken.md", "line": 7}),
    "cycle": Case(errors.CycleError, "convert_task", {"path": "031"},
                  ["convert_task", "docs/tasks/031_cycle.md", "--stdout"], "taskSpec",
                  "invalid_input", {"path": "docs/tasks/031_cycle.md", "line": 4}),
    "task_specs": Case(errors.TaskSpecErrors, "convert_task", {"path": "032"},
                       ["convert_task", "docs/tasks/032_two_errors.md", "--stdout"], "taskSpec",
                       "invalid_input", {"path": "docs/tasks/032_two_errors.md", "line": 4}),
    "undeclared_server": Case(errors.TaskSpecErrors, "execute_task", {"task": "040"},
                              ["execute_task", "040", "-q"], "taskSpec", "invalid_input",
                              {"path": "docs/tasks/040_undeclared.md", "line": 7}),
    "bad_config": Case(errors.McpConfigError, "execute_task", {"task": "010"},
                       ["execute_task", "010", "-q"], "mcpConfig", "invalid_input",
                       {"server": "time"}, setup=a_server_without_a_command),
    "no_config": Case(errors.McpConfigMissingError, "execute_task", {"task": "040"},
                      ["execute_task", "040", "-q", "--mcp-config", "{root}/.mcp.json"],
                      "mcpConfigMissing", "environment", setup=no_mcp_json),
    "server_start": Case(errors.ServerStartError, "execute_task", {"task": "050"},
                         ["execute_task", "050", "-q"], "serverStart", "environment",
                         {"server": "dead"}),
    "store": Case(errors.StoreError, "execute_task", {"task": "060"}, ["execute_task", "060"],
                  "store", "environment", setup=newer_store),
    "locked": Case(errors.RunLockedError, "execute_task", {"task": "010"},
                   ["execute_task", "010", "-q"], "runLocked", "environment",
                   {"document": "docs/tasks/010_time_and_commands.md"},
                   setup=hold_a_claim),
    "changed": Case(errors.DocumentChangedError, "execute_task", {"task": "060"},
                    ["execute_task", "060", "-q"], "documentChanged", "invalid_input",
                    setup=run_then_change),
    "unknown_step": Case(errors.RunStateError, "execute_task", {"task": "060", "only_step": "9.9"},
                         ["execute_task", "060", "-q", "--step", "9.9"], "runState", "invalid_input"),
    "no_run": Case(errors.RunStateError, "record_step",
                   {"task": "060", "step": "1.1", "result": True},
                   ["record_step", "060", "1.1", "--result", "true"], "runState",
                   "invalid_input"),
    "report": Case(errors.ReportError, "generate_report", {"task": "060", "out": "README.md"},
                   ["generate_report", "060", "--out", "{root}/README.md"], "report", "invalid_input"),
}  # fmt: skip


def text_of(result: CallToolResult) -> str:
    assert result.is_error, result
    return "".join(getattr(block, "text", "") for block in result.content)


def cli_answer(case: Case) -> tuple[str, int]:
    """What the CLI prints on stderr for the same request (run in the project; `{root}` is its
    absolute path, which the server names where it resolved a path), and its exit code."""
    root = str(Path.cwd().resolve())
    result = CliRunner().invoke(app, [arg.replace("{root}", root) for arg in case.cli])
    return result.stderr.rstrip("\n"), result.exit_code


def check(case: Case, result: CallToolResult, cli: tuple[str, int]) -> None:
    text, data = text_of(result), result.structured_content
    assert data is not None
    assert "internal error" not in text
    assert "TaskGroup" not in text
    assert (text, data["exitCode"]) == cli  # the CLI's words, the CLI's exit code
    assert data["message"] == text
    assert (data["code"], data["kind"]) == (case.code, case.kind)
    if case.where is not None:
        assert data["where"] is not None
        assert data["where"].items() >= case.where.items(), data["where"]
    assert data["errors"]
    assert all(e["message"] for e in data["errors"])


def test_every_error_class_has_a_case() -> None:
    raised_by_the_cli_only = {errors.OptionError, errors.OutputError, errors.RunStoppedError}
    classes = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.TaskCliError)
    }
    assert classes - {errors.TaskCliError} - raised_by_the_cli_only == {
        case.error for case in CASES.values()
    }


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_domain_error_is_the_clis_error(project: Path, name: str) -> None:
    case = CASES[name]
    await anyio.to_thread.run_sync(case.setup, project)  # the CLI runs its own event loop
    async with Client(build_server(project)) as client:
        result = await client.call_tool(case.tool, case.arguments)
    check(case, result, await anyio.to_thread.run_sync(cli_answer, case))


@pytest.mark.parametrize("error", [errors.OptionError("-a and -b clash"),
                                   errors.OutputError("out.md", "cannot write: disk full"),
                                   errors.RunStoppedError("SIGTERM", errors.ExitCode.TERMINATED)])  # fmt: skip
async def test_errors_only_the_cli_raises_are_translated_alike(
    project: Path, monkeypatch: pytest.MonkeyPatch, error: errors.TaskCliError
) -> None:
    from claude_task_cli import report_operations

    def raising(*args: object, **kwargs: object) -> None:
        raise ExceptionGroup("wrapped as a task group would", [error])

    monkeypatch.setattr(report_operations, "status_json", raising)
    async with Client(build_server(project)) as client:
        result = await client.call_tool("task_status", {"task": "010"})
    assert result.structured_content is not None
    assert text_of(result) == str(error)
    assert result.structured_content["exitCode"] == int(error.exit_code)


# -- real transports: the same cases, one session each ----------------------------------------

# the cases whose set-up can run before the server starts, in an order that keeps them apart
SESSION_ORDER = ["input", "task_spec", "cycle", "task_specs", "undeclared_server", "server_start",
                 "unknown_step", "no_run", "report", "locked"]  # fmt: skip


def expected(project: Path) -> dict[str, tuple[str, int]]:
    """The CLI's answers, for the cases of one session (set-ups applied)."""
    answers = {}
    for name in SESSION_ORDER:
        CASES[name].setup(project)
        answers[name] = cli_answer(CASES[name])
    return answers


@pytest.mark.slow
async def test_domain_errors_over_stdio(project: Path, tmp_path: Path) -> None:
    answers = await anyio.to_thread.run_sync(expected, project)
    params = serve_over_stdio(project, tmp_path)
    with (tmp_path / "stderr.txt").open("w") as err, anyio.fail_after(120):
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for name in SESSION_ORDER:
                case = CASES[name]
                check(case, await session.call_tool(case.tool, case.arguments), answers[name])


@pytest.mark.slow
async def test_domain_errors_over_streamable_http(http_server: str, project: Path) -> None:
    answers = await anyio.to_thread.run_sync(expected, project)
    with anyio.fail_after(120):
        async with Client(http_server) as client:
            for name in SESSION_ORDER:
                case = CASES[name]
                check(case, await client.call_tool(case.tool, case.arguments), answers[name])


@pytest.mark.slow
def test_domain_errors_through_the_inspector(
    http_server: str, project: Path, inspector: Callable[..., Any]
) -> None:
    answers = expected(project)
    for name in SESSION_ORDER:
        case = CASES[name]
        pairs = [f"{key}={json.dumps(value) if not isinstance(value, str) else value}"
                 for key, value in case.arguments.items()]  # fmt: skip
        answer = inspector(http_server, "--method", "tools/call", "--tool-name", case.tool,
                           "--tool-arg", *pairs, tool_error=True)  # fmt: skip
        result = CallToolResult.model_validate(answer)
        check(case, result, answers[name])
