"""Long runs through the server: `wait: false` and polling, `cancel_run`, a call cancelled by its
client (`notifications/cancelled`), the server shutting down, and progress that counts this
run's steps only."""

from __future__ import annotations

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

from claude_task_cli.server.tools import build_server
from tests.server.support import data, serve_over_stdio, server_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def step_state(client: Any, doc: str, step: str) -> str:
    status = data(await client.call_tool("task_status", {"task": doc}))
    return str(next(s["state"] for s in status["steps"] if s["id"] == step))


async def until_running(client: Any, doc: str, step: str) -> None:
    """Poll task_status until `step` of `doc` is running (its call is in flight)."""
    with anyio.fail_after(60):
        while await step_state(client, doc, step) != "running":
            await anyio.sleep(0.1)


async def test_wait_false_returns_the_run_and_polling_sees_it_finish(project: Path) -> None:
    async with Client(build_server(project)) as client:
        started = data(await client.call_tool("execute_task", {"task": "071", "wait": False}))
        with anyio.fail_after(60):
            while (status := data(await client.call_tool("task_status", {"task": "071"})))[
                "run_status"
            ] != "completed":
                await anyio.sleep(0.2)
    assert (started["status"], started["runStatus"]) == ("running", "running")
    assert isinstance(started["runId"], int)
    assert status["run_id"] == started["runId"]
    assert status["verdict"] == "COMPLETE"


async def test_cancel_run_stops_a_run_and_frees_its_lock(project: Path) -> None:
    async with Client(build_server(project)) as client:
        started = data(await client.call_tool("execute_task", {"task": "070", "wait": False}))
        await until_running(client, "070", "1.1")
        with anyio.fail_after(30):  # the sleep has 120 s to go: the run is cut short
            cancelled = data(await client.call_tool("cancel_run", {"task": "070"}))
        again = data(await client.call_tool("cancel_run", {"task": "070"}))
        resumed = data(await client.call_tool("execute_task", {"task": "070"}))  # not locked
    assert cancelled["cancelled"] is True
    assert cancelled["runId"] == started["runId"]
    assert again == {"cancelled": False, "runId": None, "document": "docs/tasks/070_slow.md",
                     "runStatus": None,
                     "message": "docs/tasks/070_slow.md: no run of it is executing in this server"}  # fmt: skip
    # the non-retryable step cut short is not run again blindly: it waits for the client
    assert resumed["runId"] == started["runId"]
    assert resumed["pauseReasons"][0] == {
        "type": "interrupted", "blockedStep": "1.1", "attempt": 1, "suggestedTool": "sleep",
        "cause": "the run was stopped while it ran",
    }  # fmt: skip


async def test_a_cancelled_run_is_recorded_stopped_with_its_step_interrupted(
    project: Path,
) -> None:
    async with Client(build_server(project)) as client:
        await client.call_tool("execute_task", {"task": "070", "wait": False})
        await until_running(client, "070", "1.1")
        cancelled = data(await client.call_tool("cancel_run", {"task": "070"}))
        step = await step_state(client, "070", "1.1")
    assert cancelled["runStatus"] != "running"
    assert step not in ("running", "not_run")


async def test_a_call_cancelled_by_its_client_stops_its_run(project: Path, tmp_path: Path) -> None:
    params = serve_over_stdio(project, tmp_path)
    heard: list[str | None] = []

    async def on_progress(_done: float, _total: float | None, message: str | None) -> None:
        heard.append(message)

    with anyio.fail_after(120):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            async with anyio.create_task_group() as group:
                scope = anyio.CancelScope()

                async def call() -> None:
                    with scope:
                        await session.call_tool(
                            "execute_task", {"task": "070"}, progress_callback=on_progress
                        )

                group.start_soon(call)
                await until_running(session, "070", "1.1")
                scope.cancel()  # the SDK sends notifications/cancelled for the call
            heard_at_cancel = list(heard)
            # the run stopped and let go of its lock: executing again resumes it at once
            resumed = data(await session.call_tool("execute_task", {"task": "070"}))
    assert resumed["pauseReasons"][0]["type"] == "interrupted"
    assert heard == heard_at_cancel  # no progress for the cancelled call after its cancel


async def test_a_server_shutting_down_stops_its_runs(project: Path, tmp_path: Path) -> None:
    params = serve_over_stdio(project, tmp_path)
    with anyio.fail_after(120):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.call_tool("execute_task", {"task": "070", "wait": False})
            await until_running(session, "070", "1.1")
        # the client closed stdin: the server cancelled the run and exited
    after = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "execute_task", "070", "-q"],
        cwd=project, env={**server_env(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert after.returncode == 3, after.stderr  # paused (1.1 interrupted), not 4 (locked)


def test_wait_false_and_cancel_through_the_inspector(
    http_server: str, inspector: Callable[..., Any]
) -> None:
    def call(tool: str, *pairs: str) -> dict[str, Any]:
        answer = inspector(http_server, "--method", "tools/call", "--tool-name", tool,
                           "--tool-arg", *pairs)  # fmt: skip
        assert answer["isError"] is False, answer
        content: dict[str, Any] = answer["structuredContent"]
        return content

    started = call("execute_task", "task=070", "wait=false")
    assert started["status"] == "running"
    deadline = time.monotonic() + 60  # a plain loop: the Inspector is a process per call
    while next(s["state"] for s in call("task_status", "task=070")["steps"]) != "running":
        assert time.monotonic() < deadline, "step 1.1 never started"
        time.sleep(0.2)
    cancelled = call("cancel_run", "task=070")
    assert (cancelled["cancelled"], cancelled["runId"]) == (True, started["runId"])


async def test_progress_counts_what_this_run_will_run(project: Path) -> None:
    heard: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        heard.append((done, total))

    async with Client(build_server(project)) as client:
        await client.call_tool(
            "execute_task", {"task": "010", "only_task": "1"}, progress_callback=on_progress
        )
        first, heard[:] = list(heard), []
        await client.call_tool("execute_task", {"task": "010"}, progress_callback=on_progress)
    assert first == [(1, 2), (2, 2)]  # task 1's two steps, not the document's six
    # resumed: the four steps left, of which three settle (3.1 waits for a person: not counted)
    assert heard == [(n, 4) for n in range(1, 4)]


async def test_progress_does_not_count_a_step_left_to_a_person(project: Path) -> None:
    doc = project / "docs" / "tasks" / "062_mixed.md"
    doc.write_text(
        "# Task 62: Mixed\n\n### Task 1: Both\n\n- [ ] 1.1 [P] A person signs the form\n"
        "- [ ] 1.2 [P] Echo\n  ```mcp\n  server: tools\n  tool: echo\n  args:\n"
        "    value: hi\n  ```\n",
        encoding="utf-8",
    )
    heard: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        heard.append((done, total, message))

    async with Client(build_server(project)) as client:  # no elicitation: 1.1 waits
        result = await client.call_tool(
            "execute_task", {"task": "062"}, progress_callback=on_progress
        )
    assert data(result)["runStatus"] == "paused"
    assert heard == [(1, 2, "step 1.2 completed")]  # 1.1 is not done: not counted


DEPLOY = """# Task 72: Deploy once

### Task 1: Deploy

- [ ] 1.1 Deploy (not retryable: it must happen once)
  ```bash
  echo deployed >> ran.log
  [ -e released ] || sleep 120
  ```
"""


async def test_rerun_interrupted_runs_a_cut_step_again_when_asked(project: Path) -> None:
    (project / "docs" / "tasks" / "072_deploy.md").write_text(DEPLOY, encoding="utf-8")
    async with Client(build_server(project)) as client:
        await client.call_tool("execute_task", {"task": "072", "wait": False})
        await until_running(client, "072", "1.1")
        with anyio.fail_after(30):
            await client.call_tool("cancel_run", {"task": "072"})
        again = data(await client.call_tool("execute_task", {"task": "072"}))
        assert again["pauseReasons"][0]["type"] == "interrupted"  # not run blindly
        assert (project / "ran.log").read_text().count("deployed") == 1
        (project / "released").touch()
        rerun = data(
            await client.call_tool("execute_task", {"task": "072", "rerun_interrupted": True})
        )
    assert rerun["runStatus"] == "completed"
    assert (project / "ran.log").read_text().count("deployed") == 2  # the client asked for it


FAIL_THEN_TWO = """# Task 73: Fail first

### Task 1: Checks

- [ ] 1.1 [P] Fails
  ```bash
  false
  ```
- [ ] 1.2 [P] Would pass
  ```bash
  echo 1.2 >> ran.txt
  ```
"""


async def test_fail_fast_stops_the_run_at_the_first_failure(project: Path) -> None:
    (project / "docs" / "tasks" / "073_fail.md").write_text(FAIL_THEN_TWO, encoding="utf-8")
    async with Client(build_server(project)) as client:
        fast = data(
            await client.call_tool(
                "execute_task", {"task": "073", "concurrency": 1, "fail_fast": True}
            )
        )
        plain = data(
            await client.call_tool(
                "execute_task", {"task": "073", "concurrency": 1, "no_resume": True}
            )
        )
    status = {r["step_id"]: r["status"] for r in fast["results"]}
    assert status == {"1.1": "failed", "1.2": "skipped"}
    assert {r["step_id"]: r["status"] for r in plain["results"]} == {
        "1.1": "failed",
        "1.2": "completed",
    }
    assert (project / "ran.txt").read_text().split() == ["1.2"]  # only the run without fail_fast
