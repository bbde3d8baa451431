"""ServerPool against real servers over real stdio: reuse, start failures, deaths, limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from claude_task_cli.errors import ExitCode, McpConfigError, ServerStartError
from claude_task_cli.mcp.config import McpConfig, SseServer, StdioServer, load_mcp_config
from claude_task_cli.mcp.sessions import MAX_RESTARTS, CallOutcome, ServerPool, ServerStart
from tests.support import TOOLS_SERVER, alive

pytestmark = pytest.mark.anyio

COMMAND_SERVER = ["-m", "claude_task_cli.mcp.command_server"]
TOOLS = TOOLS_SERVER[1:]  # echo, sleep, respond, exit


def stdio(name: str, *args: str, **fields: Any) -> StdioServer:
    return StdioServer(name=name, command=sys.executable, args=list(args), **fields)


def config(*entries: StdioServer | SseServer) -> McpConfig:
    return McpConfig(servers={e.name: e for e in entries})


@pytest.fixture(scope="module")
async def time_pool() -> AsyncIterator[ServerPool]:
    """The reference `mcp-server-time`, which no one here wrote."""
    async with ServerPool(config(stdio("time", "-m", "mcp_server_time"))) as pool:
        yield pool


async def server_pid(pool: ServerPool, server: str = "cmd") -> int:
    outcome = await pool.call(server, "run_command", {"command": "echo $PPID"})
    assert outcome.structured is not None, outcome.error
    return int(outcome.structured["stdout"])


@pytest.mark.slow
async def test_time_server_current_time_in_utc(time_pool: ServerPool) -> None:
    with anyio.fail_after(20):
        outcome = await time_pool.call("time", "get_current_time", {"timezone": "UTC"})
    assert (outcome.is_error, outcome.kind, outcome.error) == (False, None, None)
    content = outcome.structured if outcome.structured is not None else json.loads(outcome.text)
    assert content["timezone"] == "UTC"
    assert content["datetime"].endswith("+00:00")
    assert outcome.duration_ms > 0


@pytest.mark.slow
async def test_time_server_rejects_an_invalid_timezone(time_pool: ServerPool) -> None:
    with anyio.fail_after(20):
        outcome = await time_pool.call("time", "get_current_time", {"timezone": "Mars/Olympus"})
    assert (outcome.is_error, outcome.kind) == (True, "tool")  # the server's own answer
    assert outcome.error is not None
    assert "Mars/Olympus" in outcome.error


@pytest.mark.slow
async def test_time_server_tool_schema(time_pool: ServerPool) -> None:
    with anyio.fail_after(20):
        tools = await time_pool.list_tools("time")
    schema = tools["get_current_time"].input_schema
    assert "timezone" in schema["required"]
    assert "timezone" in schema["properties"]
    assert "convert_time" in tools


@pytest.mark.slow
async def test_one_session_serves_many_calls_and_closes_on_exit() -> None:
    with anyio.fail_after(30):
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            pids = {await server_pid(pool) for _ in range(20)}
            assert pool.sessions_opened == 1
        (pid,) = pids
        assert not alive(pid)


@pytest.mark.slow
async def test_the_pool_s_own_session_reaches_the_same_server() -> None:
    with anyio.fail_after(30):
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            session = await pool.session("cmd")
            bare = await session.call_tool("run_command", {"command": "echo $PPID"})
            assert bare.structured_content is not None
            assert int(bare.structured_content["stdout"]) == await server_pid(pool)
            assert pool.sessions_opened == 1


@pytest.mark.slow
async def test_concurrent_first_calls_open_one_session() -> None:
    pids: list[int] = []

    async def one(pool: ServerPool) -> None:
        pids.append(await server_pid(pool))

    with anyio.fail_after(30):
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(one, pool)
            assert pool.sessions_opened == 1
    assert len(pids) == 10
    assert len(set(pids)) == 1


@pytest.mark.slow
async def test_server_that_does_not_start_reports_its_stderr() -> None:
    boom = stdio("boomer", "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(1)")
    with anyio.fail_after(30):
        async with ServerPool(config(boom)) as pool:
            with pytest.raises(ServerStartError) as info:
                await pool.call("boomer", "anything")
            with pytest.raises(ServerStartError):  # remembered, not retried
                await pool.list_tools("boomer")
            assert pool.sessions_opened == 1
    error = info.value
    assert error.server == "boomer"
    assert error.stderr_tail == ["boom"]
    assert "'boomer'" in str(error)
    assert "boom" in str(error)
    assert error.exit_code == ExitCode.ENVIRONMENT


async def test_each_start_is_reported_as_it_begins_and_as_it_ends() -> None:
    boom = stdio("boomer", "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(1)")
    heard: list[ServerStart] = []
    with anyio.fail_after(60):
        async with ServerPool(config(stdio("tools", *TOOLS), boom), on_start=heard.append) as pool:
            pool.start(["tools", "boomer"])
            assert [(h.server, h.state) for h in heard] == [  # said at once, in name order
                ("boomer", "starting"),
                ("tools", "starting"),
            ]
            await pool.list_tools("tools")
            with pytest.raises(ServerStartError):
                await pool.list_tools("boomer")
            await pool.list_tools("tools")  # open already: no second report
    states = {(h.server, h.state) for h in heard}
    assert states == {("tools", "starting"), ("tools", "ready"), ("boomer", "starting"),
                      ("boomer", "failed")}  # fmt: skip
    assert len(heard) == 4
    for server in ("tools", "boomer"):
        assert next(h.state for h in heard if h.server == server) == "starting"
    failed = next(h for h in heard if h.state == "failed")
    assert failed.seconds > 0
    assert failed.error == "the server closed the connection before answering initialize"


async def test_missing_executable_is_a_start_error(tmp_path: Path) -> None:
    entry = StdioServer(name="ghost", command=str(tmp_path / "no-such-server"))
    with anyio.fail_after(10):
        async with ServerPool(config(entry)) as pool:
            with pytest.raises(ServerStartError, match="'ghost' failed to start: cannot run it"):
                await pool.call("ghost", "t")


@pytest.mark.slow
async def test_a_server_that_dies_is_started_again_for_the_next_call() -> None:
    with anyio.fail_after(60):
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            first = await server_pid(pool)
            killed = await pool.call("cmd", "run_command", {"command": "kill -9 $PPID"}, timeout=10)
            second = await server_pid(pool)  # a new server process answers
            opened = pool.sessions_opened
    assert (killed.is_error, killed.kind, killed.sent) == (True, "transport", True)
    assert killed.error is not None
    assert "closed" in killed.error
    assert second != first
    assert opened == 2


@pytest.mark.slow
async def test_a_server_that_keeps_dying_is_given_up_on() -> None:
    kill = {"command": "kill -9 $PPID"}
    with anyio.fail_after(120):
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            cut = [await pool.call("cmd", "run_command", kill, timeout=10) for _ in range(4)]
            after: CallOutcome = await pool.call("cmd", "run_command", {"command": "true"})
            opened = pool.sessions_opened
    assert [(c.kind, c.sent) for c in cut] == [("transport", True)] * 4
    assert opened == 1 + MAX_RESTARTS
    assert (after.is_error, after.kind, after.sent) == (True, "transport", False)
    assert after.error is not None
    assert "the server is gone" in after.error


@pytest.mark.slow
async def test_call_timeout_is_an_outcome_and_the_session_survives() -> None:
    with anyio.fail_after(30):
        async with ServerPool(config(stdio("tools", *TOOLS))) as pool:
            slow = await pool.call("tools", "sleep", {"seconds": 10}, timeout=0.3)
            fine = await pool.call("tools", "echo", {"value": "still here"}, timeout=10)
    assert (slow.is_error, slow.kind) == (True, "timeout")
    assert 300 <= slow.duration_ms < 5000
    assert fine.structured == {"value": "still here"}


@pytest.mark.slow
async def test_per_server_limit_bounds_concurrent_calls() -> None:
    with anyio.fail_after(30):
        async with ServerPool(config(stdio("tools", *TOOLS)), per_server_limit=2) as pool:
            await pool.list_tools("tools")  # start the server outside the measurement
            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(6):
                    tg.start_soon(pool.call, "tools", "sleep", {"seconds": 0.2})
            elapsed = time.perf_counter() - started
    assert elapsed >= 0.55  # three waves of two, not one wave of six


@pytest.mark.slow
async def test_open_session_fast_path_releases_its_slot_and_refuses_after_close() -> None:
    with anyio.fail_after(30):
        async with ServerPool(config(stdio("tools", *TOOLS)), per_server_limit=1) as pool:
            await pool.list_tools("tools")
            slow = await pool.call("tools", "sleep", {"seconds": 10}, timeout=0.3)
            fine = await pool.call("tools", "echo", {"value": 1}, timeout=10)  # the slot came back
        assert (slow.kind, fine.structured) == ("timeout", {"value": 1})
        with pytest.raises(RuntimeError, match="outside its 'async with' block"):
            await pool.call("tools", "echo", {"value": 2})


@pytest.mark.slow
async def test_env_and_cwd_from_mcp_json_reach_the_server(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "cmd": {
                        "command": "${PYTHON}",
                        "args": COMMAND_SERVER,
                        "env": {"SECRET": "${SECRET:-s3}"},
                        "cwd": "work",
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    loaded = load_mcp_config(tmp_path / ".mcp.json", environ={"PYTHON": sys.executable})
    with anyio.fail_after(30):
        async with ServerPool(loaded) as pool:
            outcome = await pool.call("cmd", "run_command", {"command": 'pwd; echo "$SECRET"'})
    assert outcome.structured is not None, outcome.error
    assert outcome.structured["stdout"] == f"{(tmp_path / 'work').resolve()}\ns3\n"


async def test_undeclared_server_is_refused_before_anything_spawns(tmp_path: Path) -> None:
    marker = tmp_path / "spawned"
    spy = stdio("spy", "-c", f"open({str(marker)!r}, 'w')")
    async with ServerPool(config(stdio("cmd", *COMMAND_SERVER), spy), allowed={"cmd"}) as pool:
        with pytest.raises(McpConfigError, match=r"server 'spy': not declared .*declared: cmd"):
            await pool.call("spy", "t")
        with pytest.raises(McpConfigError, match="server 'nobody'"):
            await pool.list_tools("nobody")
        assert pool.sessions_opened == 0
    assert not marker.exists()


async def test_sse_entries_are_refused_when_used() -> None:
    legacy = SseServer(name="old", url="http://127.0.0.1:9/sse")
    async with ServerPool(config(legacy)) as pool:
        with pytest.raises(McpConfigError, match="'sse' is not supported"):
            await pool.call("old", "t")


async def test_pool_must_be_entered() -> None:
    pool = ServerPool(config())
    with pytest.raises(RuntimeError, match="async with"):
        await pool.call("cmd", "t")


@pytest.mark.slow
async def test_an_error_in_the_run_propagates_and_servers_still_close() -> None:
    pids: list[int] = []

    async def run() -> None:
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            pids.append(await server_pid(pool))
            raise KeyError("from the run")

    with anyio.fail_after(30), pytest.raises(KeyError, match="from the run"):
        await run()
    (pid,) = pids
    assert not alive(pid)


async def test_a_pool_is_entered_once() -> None:
    pool = ServerPool(config())
    async with pool:
        pass
    with pytest.raises(RuntimeError, match="outside"):
        await pool.list_tools("cmd")
    with pytest.raises(RuntimeError, match="only once"):
        async with pool:
            pass


@pytest.mark.slow
async def test_console_script_form_works_when_on_path() -> None:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    entry = StdioServer(name="cmd", command="claude-task-command-server", env={"PATH": path})
    with anyio.fail_after(30):
        async with ServerPool(config(entry)) as pool:
            outcome = await pool.call("cmd", "run_command", {"command": ["printf", "via script"]})
    assert outcome.structured is not None, outcome.error
    assert outcome.structured["stdout"] == "via script"


def test_the_mcp_plumbing_imports_without_mcp() -> None:
    code = (
        "import sys, claude_task_cli.mcp, claude_task_cli.mcp.config, claude_task_cli.mcp.sessions,"
        " claude_task_cli.mcp.connection, claude_task_cli.mcp.content,"
        " claude_task_cli.mcp.command_server;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
async def test_cancelling_the_run_closes_its_servers() -> None:
    pids: list[int] = []
    with anyio.fail_after(30), anyio.move_on_after(25) as outer:
        async with ServerPool(config(stdio("cmd", *COMMAND_SERVER))) as pool:
            pids.append(await server_pid(pool))
            outer.cancel()
            await pool.call("cmd", "run_command", {"command": "sleep 20"})
    assert outer.cancelled_caught
    (pid,) = pids
    assert not alive(pid)


def barrier_servers(directory: Path, names: list[str]) -> list[StdioServer]:
    """Servers that serve only once all of them have started: opened one by one, none would."""
    wait = ["--wait-for", str(directory), str(len(names))]
    return [stdio(name, *TOOLS, *wait) for name in names]


@pytest.mark.slow
async def test_start_opens_every_server_at_once(tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    with anyio.fail_after(90):
        async with ServerPool(config(*barrier_servers(tmp_path / "started", names))) as pool:
            pool.start(names)
            assert pool.sessions_opened == 3  # started, not waited for
            for name in names:
                outcome = await pool.call(name, "echo", {"value": name})
                assert outcome.structured == {"value": name}, outcome.error
            pool.start(names)  # started already: nothing more
            assert pool.sessions_opened == 3


@pytest.mark.slow
async def test_a_server_started_but_never_used_fails_nothing() -> None:
    boom = stdio("boomer", "-c", "import sys; sys.exit(1)")
    with anyio.fail_after(60):
        async with ServerPool(config(stdio("tools", *TOOLS), boom)) as pool:
            pool.start(["tools", "boomer"])
            assert (await pool.call("tools", "echo", {"value": 1})).structured == {"value": 1}
            with pytest.raises(ServerStartError, match="'boomer' failed to start"):
                await pool.list_tools("boomer")  # where it is used, as without `start`


async def test_start_leaves_undeclared_and_unsupported_servers_to_their_first_use() -> None:
    legacy = SseServer(name="old", url="http://127.0.0.1:9/sse")
    async with ServerPool(config(legacy), allowed={"old"}) as pool:
        pool.start(["old", "nobody"])
        assert pool.sessions_opened == 0
        with pytest.raises(McpConfigError, match="'sse' is not supported"):
            await pool.call("old", "t")
    with pytest.raises(RuntimeError, match="async with"):
        ServerPool(config()).start(["old"])


def test_the_package_face_loads_its_names_on_first_use() -> None:
    code = (
        "import sys, claude_task_cli.mcp as face;"
        " print(sorted(m for m in sys.modules if m.startswith('claude_task_cli.mcp.')));"
        " print(all(getattr(face, name) is not None for name in face.__all__))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.splitlines() == ["[]", "True"]
    import claude_task_cli.mcp as face

    assert face.ServerPool is ServerPool
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        face.Nothing  # noqa: B018
