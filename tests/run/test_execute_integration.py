"""The engine against REAL servers over real stdio, through the real ServerPool and .mcp.json.

Servers: the built-in command server (`python -m claude_task_cli.mcp.command_server`), the tests'
tools server (`tests/servers/tools_server.py`) and the reference `mcp-server-time` (PyPI), which
no one here wrote; once over streamable HTTP too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from claude_task_cli.convert.converter import convert_file
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import RunLockedError
from claude_task_cli.mcp.config import load_mcp_config
from claude_task_cli.mcp.sessions import ServerPool
from claude_task_cli.outcomes import (
    AwaitingClient,
    Interrupted,
    RunStatus,
    SchemaMismatch,
    StepStatus,
    ToolError,
    UnresolvableParams,
    UnresolvedDependency,
)
from claude_task_cli.run.continuation import record_step_result, status_of
from claude_task_cli.run.engine import execute
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import RunOutcome
from claude_task_cli.run.runner import run_document
from claude_task_cli.store import Event, Store
from tests import support

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def write_mcp_json(directory: Path, **extra: dict[str, Any]) -> Path:
    """`time`, the command server as `cmd` and the tests' tools server as `tools`, plus `extra`
    entries."""
    return support.write_mcp_json(
        directory,
        {
            "time": {"command": sys.executable, "args": ["-m", "mcp_server_time"]},
            "cmd": support.stdio(support.COMMAND_SERVER),
            "tools": support.stdio(support.TOOLS_SERVER),
            **extra,
        },
    )


@pytest.fixture(scope="module")
async def pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServerPool]:
    config = load_mcp_config(write_mcp_json(tmp_path_factory.mktemp("project")))
    async with ServerPool(config) as opened:
        yield opened


def write_doc(directory: Path, body: str, name: str = "task.md") -> TaskDocument:
    path = directory / name
    path.write_text(body, encoding="utf-8")
    return convert_file(path)


async def run(
    doc: TaskDocument, pool: ServerPool, store: Store, **options: Any
) -> tuple[RunOutcome, list[Event]]:
    events: list[Event] = []
    with anyio.fail_after(30):
        outcome = await execute(
            doc, pool, store, RunOptions(**options), command_server="cmd", on_event=events.append
        )
    return outcome, events


PAUSES = """# Task 20: Pause reasons from real calls

## Task 1: Branches

- [ ] 1.1 [P] Missing the required timezone
  ```mcp
  server: time
  tool: get_current_time
  args: {}
  ```
- [ ] 1.2 [P] An invalid timezone
  ```mcp
  server: time
  tool: get_current_time
  args: {timezone: Mars/Olympus}
  ```
- [ ] 1.3 Uses the failed step's output
  - Depends on: 1.2
  ```mcp
  server: time
  tool: convert_time
  args: {source_timezone: "${step:1.2/timezone}", time: "12:00", target_timezone: Asia/Tokyo}
  ```
- [ ] 1.4 [P] Work for a person
  - Depends on: none
  - Read the clock on the wall
- [ ] 1.5 [P] A good call on an independent branch
  - Depends on: none
  ```mcp
  server: time
  tool: get_current_time
  args: {timezone: UTC}
  expect:
    - {path: timezone, equals: UTC}
    - {path: datetime, matches: "\\\\+00:00$"}
  ```
- [ ] 1.6 Then a value flows into the next call
  - Depends on: 1.5
  ```mcp
  server: tools
  tool: echo
  args: {value: "read at ${step:1.5/datetime}"}
  ```
- [ ] 1.7 A path the real result does not have
  - Depends on: 1.5
  ```mcp
  server: tools
  tool: echo
  args: {value: "${step:1.5/no_such_field}"}
  ```
"""


async def test_each_pause_reason_comes_from_a_real_call(pool: ServerPool, tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        outcome, _events = await run(write_doc(tmp_path, PAUSES), pool, store)
    by_step = {s.step_id: s for s in outcome.steps}
    assert by_step["1.1"].pause_reason == SchemaMismatch(
        blocked_step="1.1", missing_fields=["timezone"], suggested_tool="get_current_time"
    )
    assert by_step["1.1"].attempts == 0  # checked against the real inputSchema, never called
    error = by_step["1.2"].pause_reason
    assert isinstance(error, ToolError)  # the server's own answer
    assert (error.failed_step, error.retryable, by_step["1.2"].status) == (
        "1.2",
        False,
        StepStatus.FAILED,
    )
    assert "Mars/Olympus" in error.error
    assert by_step["1.3"].pause_reason == UnresolvedDependency(
        blocked_step="1.3",
        missing_output="${step:1.2/timezone}",
        producing_step="1.2",
        suggested_tool="convert_time",
    )
    assert by_step["1.3"].status == StepStatus.SKIPPED
    waiting = by_step["1.4"].pause_reason
    assert isinstance(waiting, AwaitingClient)
    assert "Read the clock on the wall" in waiting.guidance
    # independent branches kept running, with verification evidence kept
    assert by_step["1.5"].status == StepStatus.COMPLETED
    assert [c["passed"] for c in by_step["1.5"].checks or []] == [True, True]
    datetime = by_step["1.5"].result["datetime"]
    assert by_step["1.6"].result == {"value": f"read at {datetime}"}
    assert by_step["1.7"].pause_reason == UnresolvableParams(
        blocked_step="1.7", missing_param="value", suggested_tool="echo"
    )
    assert (by_step["1.7"].status, by_step["1.7"].attempts) == (StepStatus.PAUSED, 0)
    assert outcome.status == RunStatus.PAUSED
    assert {type(r).__name__ for r in outcome.pause_reasons} == {
        "SchemaMismatch",
        "ToolError",
        "UnresolvedDependency",
        "UnresolvableParams",
        "AwaitingClient",
    }


PARALLEL = """# Task 21: Parallel sleeps

## Task 1: Two sleeps

- [ ] 1.1 [P] Sleep A
  ```mcp
  server: tools
  tool: sleep
  args: {seconds: 0.5}
  ```
- [ ] 1.2 [P] Sleep B
  ```mcp
  server: tools
  tool: sleep
  args: {seconds: 0.5}
  ```
"""


async def test_independent_steps_overlap_in_time(pool: ServerPool, tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        outcome, _ = await run(write_doc(tmp_path, PARALLEL), pool, store, concurrency=2)
        stored = store.events(outcome.run_id or 0)
    assert outcome.status == RunStatus.COMPLETED
    span = {
        (e.step_id, e.kind): e.ts for e in stored if e.kind in ("step_started", "step_completed")
    }
    a = (span["1.1", "step_started"], span["1.1", "step_completed"])
    b = (span["1.2", "step_started"], span["1.2", "step_completed"])
    assert a[1] - a[0] >= 0.45
    assert b[1] - b[0] >= 0.45
    assert max(a[0], b[0]) < min(a[1], b[1])  # the two sleeps overlapped (no wall-time bound:
    # a loaded machine may stretch either)


def test_each_server_is_listed_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp import ClientSession

    listed: list[int] = []
    real_list_tools = ClientSession.list_tools

    async def counting(self: ClientSession, **kwargs: Any) -> Any:
        listed.append(id(self))
        return await real_list_tools(self, **kwargs)

    monkeypatch.setattr(ClientSession, "list_tools", counting)
    write_mcp_json(tmp_path)
    body = "# Task 24: Listed once\n\n## Task 1: Calls\n\n" + "".join(
        f"- [ ] 1.{n} call {n}\n  ```mcp\n  server: {server}\n  tool: {tool}\n"
        f"  args: {args}\n  ```\n"
        for n, (server, tool, args) in enumerate(
            [
                ("tools", "echo", "{value: 1}"),
                ("time", "get_current_time", "{timezone: UTC}"),
                ("tools", "sleep", "{seconds: 0}"),
                ("time", "convert_time", '{source_timezone: UTC, time: "12:00", '
                 "target_timezone: Asia/Tokyo}"),
                ("tools", "echo", "{value: 2}"),
            ],
            start=1,
        )
    )  # fmt: skip
    outcome = run_document(
        write_doc(tmp_path, body),
        RunOptions(state=tmp_path / "s.db"),
        doc_path=tmp_path / "task.md",
    )
    assert outcome.status == RunStatus.COMPLETED, outcome.pause_reasons
    # two servers, five calls of four tools: one tools/list per server's session, none per call
    assert len(listed) == 2
    assert len(set(listed)) == 2


def test_a_per_server_limit_serialises_calls_to_one_server(tmp_path: Path) -> None:
    write_mcp_json(tmp_path)
    doc = write_doc(tmp_path, PARALLEL)  # two independent 0.5 s sleeps on one server
    options = RunOptions(concurrency=2, per_server=1, state=tmp_path / "state.db")
    outcome = run_document(doc, options, doc_path=tmp_path / "task.md")
    assert outcome.status == RunStatus.COMPLETED
    with Store(tmp_path / "state.db") as store:
        spans = sorted((a.started_at, a.ended_at) for a in store.attempts(outcome.run_id or 0))
    (start_a, end_a), (start_b, end_b) = spans
    assert start_b < end_a  # both steps started at once (concurrency 2) ...
    assert end_b - start_a >= 0.95  # ... but the server took one call at a time


def flaky_doc(counter: Path) -> str:
    script = (
        f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; test $n -ge 3"
    )
    return f"""# Task 22: Flaky

## Task 1: Retry

- [ ] 1.1 Succeeds on the third attempt
  ```mcp
  server: cmd
  tool: run_command
  args: {{command: "{script}"}}
  retryable: true
  retries: 3
  expect:
    - exit_code: 0
  ```
"""


async def test_a_retryable_step_fails_twice_then_succeeds(pool: ServerPool, tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    with Store(tmp_path / "state.db") as store:
        outcome, events = await run(
            write_doc(tmp_path, flaky_doc(counter)), pool, store, retry_backoff=0.05
        )
        attempts = store.attempts(outcome.run_id or 0)
    assert outcome.status == RunStatus.COMPLETED
    assert counter.read_text().strip() == "3"
    assert [e.kind for e in events if e.step_id == "1.1"] == [
        "step_started",
        "step_retried",
        "step_started",
        "step_retried",
        "step_started",
        "step_completed",
    ]
    assert [(a.attempt, a.status, a.result["exit_code"]) for a in attempts] == [
        (1, StepStatus.FAILED, 1),
        (2, StepStatus.FAILED, 1),
        (3, StepStatus.COMPLETED, 0),
    ]


async def test_a_server_that_dies_mid_run(tmp_path: Path) -> None:
    doc = write_doc(
        tmp_path,
        """# Task 23: A server dies

## Task 1: T

- [ ] 1.1 Kill the command server from inside
  ```mcp
  server: cmd
  tool: run_command
  args: {command: "kill -9 $PPID"}
  ```
- [ ] 1.2 [P] The time server is unaffected
  - Depends on: none
  ```mcp
  server: time
  tool: get_current_time
  args: {timezone: UTC}
  ```
""",
    )
    config = load_mcp_config(write_mcp_json(tmp_path))
    with Store(tmp_path / "state.db") as store:
        async with ServerPool(config) as own_pool:
            outcome, _ = await run(doc, own_pool, store)
    dead = outcome.step("1.1")  # not retryable, and it may have taken effect: not run again
    assert dead.status == StepStatus.PAUSED
    assert dead.pause_reason == Interrupted(
        blocked_step="1.1",
        attempt=1,
        suggested_tool="run_command",
        cause="the server died during the call",
    )
    assert outcome.step("1.2").status == StepStatus.COMPLETED
    assert outcome.status == RunStatus.PAUSED


async def test_over_streamable_http(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_task_cli.mcp.command_server", "--transport", "http"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        with anyio.fail_after(20):
            line = await anyio.to_thread.run_sync(proc.stderr.readline)
        url = re.search(r"http://\S+/mcp", line)
        assert url is not None, line
        doc = write_doc(
            tmp_path,
            """# Task 24: HTTP

## Task 1: T

- [ ] 1.1 A command over HTTP
  ```mcp
  server: web
  tool: run_command
  args: {command: [printf, "%s", "1 2"]}
  expect: [{path: stdout, equals: "1 2"}]
  ```
""",
        )
        path = write_mcp_json(tmp_path, web={"type": "http", "url": url.group(0)})
        with Store(tmp_path / "state.db") as store:
            async with ServerPool(load_mcp_config(path)) as http_pool:
                outcome, _ = await run(doc, http_pool, store)
        assert outcome.status == RunStatus.COMPLETED
        assert outcome.step("1.1").result["stdout"] == "1 2"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


CRASH = """# Task 25: Crash and resume

## Task 1: T

- [ ] 1.1 Quick first step
  ```mcp
  server: tools
  tool: echo
  args: {value: first}
  ```
- [ ] 1.2 [P] Long and not safe to repeat
  ```mcp
  server: cmd
  tool: run_command
  args: {command: "echo $$ > long.pid; exec sleep 30"}
  ```
- [ ] 1.3 [P] Long but retryable: quick the second time
  ```mcp
  server: cmd
  tool: run_command
  args: {command: "if [ -f marker ]; then echo again; else touch marker; echo $$ > retry.pid; exec sleep 30; fi"}
  retryable: true
  ```
- [ ] 1.4 After the retryable one
  - Depends on: 1.3
  ```mcp
  server: tools
  tool: echo
  args: {value: "${step:1.3/stdout}"}
  ```
"""

EXECUTOR = (
    "import sys; from pathlib import Path;"
    "from claude_task_cli.convert.converter import convert_file;"
    "from claude_task_cli.run import RunOptions, run_document;"
    "doc = Path(sys.argv[1]); run_document(convert_file(doc), RunOptions(), doc_path=doc)"
)


def sigkill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process with SIGKILL (if it still runs) and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def kill_pid_file(path: Path) -> None:
    """End the `sleep` a killed run left behind (we started it; its pid is in the file)."""
    if path.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(path.read_text()), signal.SIGKILL)


def test_crash_then_resume_runs_no_completed_step_twice(tmp_path: Path) -> None:
    write_mcp_json(tmp_path)
    doc_path = tmp_path / "task.md"
    doc_path.write_text(CRASH, encoding="utf-8")
    state = tmp_path / ".claude-task" / "state.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", EXECUTOR, str(doc_path)], cwd=tmp_path, stderr=subprocess.DEVNULL
    )
    try:
        support.wait_for(
            lambda: (tmp_path / "long.pid").exists() and (tmp_path / "retry.pid").exists(),
            30,
            "both long steps to start",
        )
        doc = convert_file(doc_path)
        with pytest.raises(RunLockedError, match="is being executed by pid"):  # the atomic claim
            run_document(doc, RunOptions(), doc_path=doc_path)
    finally:
        sigkill(proc)
        kill_pid_file(tmp_path / "long.pid")
        kill_pid_file(tmp_path / "retry.pid")
    with Store(state) as store:
        before = status_of(doc, store)
    assert before.step("1.1").status == StepStatus.COMPLETED  # committed before the kill
    assert before.step("1.2").status == before.step("1.3").status == StepStatus.RUNNING

    resumed = run_document(doc, RunOptions(), doc_path=doc_path)
    assert resumed.resumed
    assert resumed.step("1.3").status == StepStatus.COMPLETED  # retryable: run again
    assert resumed.step("1.4").result == {"value": "again\n"}
    assert resumed.pause_reasons == [
        Interrupted(blocked_step="1.2", attempt=1, suggested_tool="run_command")
    ]
    with Store(state) as store:
        finished = record_step_result(store, doc, "1.2", result={"checked_by": "a person"})
        events = store.events(finished.run_id or 0)
    assert finished.run_status == RunStatus.COMPLETED
    kinds = [e.kind for e in events]
    assert kinds.count("run_started") == 1
    assert kinds.count("resumed") == 1
    assert "claim_refused" in kinds
    started = Counter(e.step_id for e in events if e.kind == "step_started")
    completed = Counter(e.step_id for e in events if e.kind == "step_completed")
    assert started["1.1"] == 1  # never re-run after the crash
    assert started["1.2"] == 1  # not retryable: never re-run blindly
    assert started["1.3"] == 2  # interrupted, then retried
    assert all(n == 1 for n in completed.values()), completed


def chain_document(steps: int) -> str:
    lines = ["# Chain", "", "## Task 1: A chain of quick calls", ""]
    for i in range(1, steps + 1):
        lines += [
            f"- [ ] 1.{i} Echo {i}",
            "  ```mcp",
            "  server: tools",
            "  tool: echo",
            f"  args: {{value: {i}}}",
            "  retryable: true",
            "  ```",
        ]
    return "\n".join(lines) + "\n"


def test_a_run_killed_mid_chain_loses_no_step(tmp_path: Path) -> None:
    """SIGKILL in the middle of a chain of quick calls: the resumed run runs each completed step
    never again, retries at most the one in flight, and completes."""
    write_mcp_json(tmp_path)
    doc_path = tmp_path / "chain.md"
    doc_path.write_text(chain_document(400), encoding="utf-8")
    database = tmp_path / ".claude-task" / "state.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", EXECUTOR, str(doc_path)], cwd=tmp_path, stderr=subprocess.DEVNULL
    )

    def completed() -> int:
        if not database.exists():
            return 0
        conn = sqlite3.connect(database, timeout=10)
        try:
            query = "SELECT count(*) FROM step_attempts WHERE status = 'completed'"
            return int(conn.execute(query).fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0
        finally:
            conn.close()

    try:
        support.wait_for(lambda: completed() >= 20, 60, "some steps to complete")
    finally:
        sigkill(proc)
    assert completed() < 400  # killed mid-chain

    resumed = run_document(convert_file(doc_path), RunOptions(), doc_path=doc_path)
    assert resumed.resumed
    assert resumed.run_status == RunStatus.COMPLETED
    with Store(database) as store:
        events = store.events(resumed.run_id or 0)
    started = Counter(e.step_id for e in events if e.kind == "step_started")
    completed_events = Counter(e.step_id for e in events if e.kind == "step_completed")
    assert len(completed_events) == 400
    assert set(completed_events.values()) == {1}
    twice = [step for step, n in started.items() if n > 1]
    assert len(twice) <= 1, twice  # at most the step in flight at the kill, retried


def test_the_servers_a_document_calls_start_at_once(tmp_path: Path) -> None:
    # each server serves only once all three have started: opened on first use, one after the
    # other (1.1, then 1.2, then 1.3), the first would never answer
    wait = ["--wait-for", str(tmp_path / "started"), "3"]
    entries = {
        name: {"command": support.TOOLS_SERVER[0], "args": [*support.TOOLS_SERVER[1:], *wait]}
        for name in ("a", "b", "c")
    }
    support.write_mcp_json(tmp_path, entries)
    body = "# Task 26: Three servers\n\n## Task 1: Calls\n\n" + "".join(
        f"- [ ] 1.{n} call {name}\n  ```mcp\n  server: {name}\n  tool: echo\n"
        f"  args: {{value: {name}}}\n  ```\n"
        for n, name in enumerate(["a", "b", "c"], start=1)
    )
    outcome = run_document(
        write_doc(tmp_path, body),
        RunOptions(state=tmp_path / "s.db"),
        doc_path=tmp_path / "task.md",
    )
    assert outcome.status == RunStatus.COMPLETED, outcome.pause_reasons
    assert [outcome.step(s).result for s in ("1.1", "1.2", "1.3")] == [
        {"value": "a"},
        {"value": "b"},
        {"value": "c"},
    ]


TIMEOUTS = """# Task 27: Timeouts

## Task 1: Slow calls

- [ ] 1.1 [P] The step's own timeout
  ```mcp
  server: tools
  tool: sleep
  args: {seconds: 30}
  timeout: 0.5
  ```
- [ ] 1.2 [P] The run's timeout
  ```mcp
  server: tools
  tool: sleep
  args: {seconds: 30}
  ```
- [ ] 1.3 [P] A step's timeout wins over the run's
  ```mcp
  server: tools
  tool: sleep
  args: {seconds: 1.5}
  timeout: 20
  ```
"""


def test_a_call_timeout_per_step_and_per_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from claude_task_cli.cli.app import app

    write_mcp_json(tmp_path)
    (tmp_path / "task.md").write_text(TIMEOUTS, encoding="utf-8")
    ran = CliRunner().invoke(
        app, ["execute_task", str(tmp_path / "task.md"), "--json", "--call-timeout", "1"]
    )
    assert ran.exit_code == 3, ran.output  # a call cut by its timeout may have taken effect
    results = {r["step_id"]: r for r in json.loads(ran.stdout)["results"]}
    assert results["1.1"]["error"] == "interrupted: no answer within 0.5 s"
    assert results["1.2"]["error"] == "interrupted: no answer within 1.0 s"
    for cut in ("1.1", "1.2"):
        assert results[cut]["status"] == "paused"
        assert results[cut]["pause_reason"]["cause"] == "the call ran out of time"
    assert results["1.3"]["status"] == "completed"
