"""The MCP server (`claude-task serve`): every tool in-process through `Client(server)`, then the
real thing over stdio and streamable HTTP, and driven by the official MCP Inspector CLI (npm).

Executions call real servers: `mcp-server-time` (PyPI) and the built-in command server, declared in
the tmp project's `.mcp.json` exactly as `test_cli_execute.py` declares them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.server.tools import build_server
from tests.server.support import data, serve_over_stdio
from tests.support import SAMPLE, servers

pytestmark = pytest.mark.anyio
TOOLS = {"convert_task", "execute_task", "record_step", "task_status", "generate_report",
         "cancel_run", "claim_task", "move_task"}  # fmt: skip


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text
    return text


# -- in-process: every tool, the error paths --------------------------------------------------


async def test_lists_the_five_tools_with_schemas(project: Path) -> None:
    async with Client(build_server(project)) as client:
        listed = (await client.list_tools()).tools
    assert {tool.name for tool in listed} == TOOLS
    by_name = {tool.name: tool for tool in listed}
    assert by_name["execute_task"].input_schema["required"] == ["task"]
    assert set(by_name["execute_task"].input_schema["properties"]) == {
        "task", "only_task", "only_step", "concurrency", "per_server", "no_resume", "dry_run",
        "fail_fast", "rerun_interrupted",
        "wait",
    }  # fmt: skip
    assert by_name["task_status"].annotations is not None
    assert by_name["task_status"].annotations.read_only_hint is True
    assert all(tool.description for tool in listed)


async def test_convert_task_returns_the_same_graph_as_the_cli(project: Path) -> None:
    async with Client(build_server(project)) as client:
        graph = data(await client.call_tool("convert_task", {"path": f"docs/tasks/{SAMPLE.name}"}))
        by_id = data(await client.call_tool("convert_task", {"path": "010"}))
    printed = CliRunner().invoke(app, ["convert_task", f"docs/tasks/{SAMPLE.name}", "--stdout"])
    assert printed.exit_code == 0, printed.output
    assert graph == json.loads(printed.stdout) == by_id
    assert [task["id"] for task in graph["tasks"]] == ["1", "2", "3"]


async def test_convert_task_errors_carry_file_and_line(project: Path) -> None:
    async with Client(build_server(project)) as client:
        result = await client.call_tool("convert_task", {"path": "docs/tasks/030_broken.md"})
    text = error_text(result)
    assert text == (
        "docs/tasks/030_broken.md:7: step 1.2 depends on step 9.9, which does not exist"
    )
    assert result.structured_content == {
        "code": "invalid_input",
        "exitCode": 2,
        "kind": "taskSpec",
        "message": text,
        "where": {"path": "docs/tasks/030_broken.md", "line": 7},
        "errors": [
            {
                "path": "docs/tasks/030_broken.md",
                "line": 7,
                "message": "step 1.2 depends on step 9.9, which does not exist",
            }
        ],
    }


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("convert_task", {"path": "../outside.md"}),
        ("convert_task", {"path": "docs/../../outside.md"}),
        ("task_status", {"task": "/etc/passwd"}),
        ("execute_task", {"task": "OUTSIDE_ABSOLUTE"}),
        ("record_step", {"task": "docs/tasks/escape.md", "step": "1.1", "result": 1}),
        ("generate_report", {"task": "010", "out": "../reports"}),
    ],
)
async def test_paths_outside_the_project_are_refused(
    project: Path, tool: str, arguments: dict[str, Any]
) -> None:
    outside = project.parent / "outside.md"
    outside.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (project / "docs" / "tasks" / "escape.md").symlink_to(outside)  # a link leading out
    arguments = {k: str(outside) if v == "OUTSIDE_ABSOLUTE" else v for k, v in arguments.items()}
    async with Client(build_server(project)) as client:
        result = await client.call_tool(tool, arguments)
    text = error_text(result)
    assert text.endswith(f"outside the project root {project.resolve()}; refused"), text
    assert result.structured_content is not None
    assert result.structured_content["exitCode"] == 2
    assert not (project.parent / "reports").exists()
    assert not (project / ".claude-task").exists()


async def test_a_document_id_found_above_the_root_is_refused(project: Path, tmp_path: Path) -> None:
    """Lookups by id search docs/tasks/ upwards; the server keeps to its own root."""
    shutil.rmtree(project / "docs")
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    shutil.copy(SAMPLE, tmp_path / "docs" / "tasks" / SAMPLE.name)
    async with Client(build_server(project)) as client:
        text = error_text(await client.call_tool("task_status", {"task": "010"}))
    assert "outside the project root" in text


async def test_domain_errors_are_one_line_tool_errors(project: Path) -> None:
    async with Client(build_server(project)) as client:
        unknown = error_text(await client.call_tool("task_status", {"task": "999"}))
        no_run = error_text(
            await client.call_tool("record_step", {"task": "010", "step": "3.1", "result": True})
        )
        neither = error_text(await client.call_tool("record_step", {"task": "010", "step": "3.1"}))
        missing = error_text(await client.call_tool("execute_task", {"task": "docs/nope.md"}))
    assert unknown.startswith("999: no task document with that id or name in ")
    assert no_run == f"docs/tasks/{SAMPLE.name}: no run yet; nothing to record into"
    assert neither == "3.1: give exactly one of result or failure"
    assert missing == "docs/nope.md: no such file"
    for text in (unknown, no_run, neither, missing):
        assert "\n" not in text


async def test_a_bug_is_one_line_with_the_traceback_in_the_log(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_task_cli import report_operations
    from claude_task_cli.cli.boundary import configure_logging
    from claude_task_cli.log_file import log_dir

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the matrix fell over")

    configure_logging(False)  # what `claude-task serve` does: the log file gets everything
    monkeypatch.setattr(report_operations, "status_json", broken)
    async with Client(build_server(project)) as client:
        text = error_text(await client.call_tool("task_status", {"task": "010"}))
    log = log_dir() / "claude-task.log"
    assert text == f"internal error: the matrix fell over (traceback in {log})"
    assert "Traceback" in log.read_text(encoding="utf-8")


async def test_dry_run_returns_the_plan_and_calls_nothing(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps(servers(["/bin/false"])))
    async with Client(build_server(project)) as client:
        planned = data(await client.call_tool("execute_task", {"task": "010", "dry_run": True}))
    assert planned["dryRun"] is True
    first = planned["plan"][0]
    assert (first["step_id"], first["server"], first["tool"]) == ("1.1", "time", "get_current_time")
    assert first["args"] == {"timezone": "UTC"}


@pytest.mark.slow
async def test_execute_record_status_report_through_the_tools(project: Path) -> None:
    heard: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append((progress, total, message))

    async with Client(build_server(project)) as client:
        run = data(
            await client.call_tool("execute_task", {"task": "010"}, progress_callback=on_progress)
        )
        assert (run["status"], run["runStatus"], run["runId"]) == ("paused", "paused", 1)
        # a notification each time a step settled, all of them before the result; 3.1 waits
        # for a person: not done, not counted
        assert [(p, t) for p, t, _m in heard] == [(n, 6) for n in range(1, 6)]
        assert "step 1.1 completed" in {m for _p, _t, m in heard}
        assert not any("3.1" in str(m) for _p, _t, m in heard)
        assert [r["type"] for r in run["pauseReasons"]] == ["awaitingClient"]
        assert run["handoff"]["remaining"][0]["step_id"] == "3.1"
        results = {r["step_id"]: r for r in run["results"]}
        assert results["1.1"]["result"]["timezone"] == "UTC"  # a real mcp-server-time answer
        assert results["2.2"]["result"]["stdout"] == "README present\n"

        status = data(await client.call_tool("task_status", {"task": "010"}))
        printed = CliRunner().invoke(app, ["task_status", "010", "--json"])
        assert status == json.loads(printed.stdout)  # the same matrix as the CLI's
        assert status["verdict"] == "INCOMPLETE"

        recorded = data(  # a step id sent as a number, as some clients do, is taken as text
            await client.call_tool(
                "record_step", {"task": "010", "step": 3.1, "result": {"confirmed": True}}
            )
        )
        assert recorded == {
            "recorded": "result",
            "step": "3.1",
            "stepStatus": "completed",
            "error": None,
            "runId": 1,
            "runStatus": "completed",
            "pauseReasons": [],
        }
        report = data(await client.call_tool("generate_report", {"task": "010"}))
        one = data(await client.call_tool("generate_report", {"task": "010", "subtask": "1"}))
    assert report["complete"] is True
    assert report["verdict"].startswith("010: COMPLETE — 6 of 6 steps complete")
    assert "docs/reports/010_final_summary.md" in report["written"]
    assert all((project / name).is_file() for name in report["written"])
    assert one["written"] == ["docs/reports/010_task_1_read_the_clock.md"]


def test_serve_rejects_an_unknown_transport() -> None:
    result = CliRunner().invoke(app, ["serve", "--transport", "carrier-pigeon"])
    assert result.exit_code == 2
    assert "choose stdio or http" in result.stderr


def test_the_cli_does_not_import_mcp_until_serving() -> None:
    code = "import sys, claude_task_cli.cli.app; print('mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- real transports ------------------------------------------------------------------------


@pytest.mark.slow
async def test_over_stdio_converts_and_executes(project: Path, tmp_path: Path) -> None:
    params = serve_over_stdio(project, tmp_path)
    errlog = tmp_path / "server-stderr.txt"
    with errlog.open("w") as err, anyio.fail_after(60):
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            graph = data(await session.call_tool("convert_task", {"path": "010"}))
            heard: list[str | None] = []

            async def on_progress(_done: float, _total: float | None, message: str | None) -> None:
                heard.append(message)

            run = data(
                await session.call_tool(
                    "execute_task", {"task": "010", "only_task": "1"}, progress_callback=on_progress
                )
            )
    assert graph["id"] == "010"
    assert (run["status"], run["runStatus"]) == ("completed", "paused")  # task 3 still waits
    assert heard == ["step 1.1 completed", "step 1.2 completed"]  # notifications over stdio
    steps = {s["name"]: s["status"] for s in run["progress"]["steps"]}
    assert (steps["1.1"], steps["1.2"]) == ("completed", "completed")
    results = {r["step_id"]: r for r in run["results"]}
    assert results["1.2"]["result"]["target"]["timezone"] == "Asia/Tokyo"
    assert set(run) == {
        "runId", "document", "status", "runStatus", "progress", "results", "pauseReasons",
        "handoff",
    }  # fmt: skip
    assert "Traceback" not in errlog.read_text()
    assert (project / ".claude-task" / "state.db").is_file()


@pytest.mark.slow
async def test_over_streamable_http(http_server: str, project: Path) -> None:
    with anyio.fail_after(30):
        async with Client(http_server) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            status = data(await client.call_tool("task_status", {"task": "010"}))
            refused = await client.call_tool("convert_task", {"path": "/etc/passwd"})
    assert names == TOOLS
    assert (status["doc_id"], status["run_id"], status["verdict"]) == ("010", None, "INCOMPLETE")
    assert "outside the project root" in error_text(refused)


# -- the official MCP Inspector CLI ------------------------------------------------------------


@pytest.mark.slow
def test_the_mcp_inspector_cli_lists_and_calls_tools(
    project: Path, tmp_path: Path, inspector: Callable[..., Any]
) -> None:
    started = time.monotonic()
    target = ["-e", f"CLAUDE_TASK_LOG_DIR={tmp_path / 'logs'}",
              "-e", f"CLAUDE_TASK_CACHE_DIR={tmp_path / 'cache'}",
              sys.executable, "-m", "claude_task_cli", "serve"]  # fmt: skip
    listed = inspector(*target, "--method", "tools/list")
    assert {tool["name"] for tool in listed["tools"]} == TOOLS

    def call(tool: str, *pairs: str) -> dict[str, Any]:
        result = inspector(*target, "--method", "tools/call", "--tool-name", tool,
                           "--tool-arg", *pairs)  # fmt: skip
        assert result["isError"] is False, result
        content: dict[str, Any] = result["structuredContent"]
        return content

    run = call("execute_task", "task=010")
    assert (run["status"], run["pauseReasons"][0]["blockedStep"]) == ("paused", "3.1")
    # The Inspector sends step=3.1 as a number: the server takes it as the step id.
    recorded = call("record_step", "task=010", "step=3.1", 'result={"confirmed": true}')
    assert (recorded["step"], recorded["runStatus"]) == ("3.1", "completed")
    status = call("task_status", "task=010")
    assert (status["doc_id"], status["verdict"]) == ("010", "COMPLETE")
    assert time.monotonic() - started < 60
