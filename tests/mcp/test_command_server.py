"""The built-in command server, spoken to over real stdio and real streamable HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from claude_task_cli.mcp.config import HttpServer, McpConfig, StdioServer
from claude_task_cli.mcp.sessions import CallOutcome, ServerPool
from tests.support import alive

pytestmark = pytest.mark.anyio

SERVER_ARGV = [sys.executable, "-m", "claude_task_cli.mcp.command_server"]


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[ServerPool]:
    """One stdio command server shared by the module (spawning one costs ~1 s)."""
    entry = StdioServer(name="cmd", command=SERVER_ARGV[0], args=SERVER_ARGV[1:])
    async with ServerPool(McpConfig(servers={"cmd": entry})) as shared:
        yield shared


async def run(pool: ServerPool, **args: Any) -> dict[str, Any]:
    with anyio.fail_after(20):
        outcome = await pool.call("cmd", "run_command", args)
    assert not outcome.is_error, outcome.error
    assert isinstance(outcome.structured, dict)
    return outcome.structured


@pytest.mark.slow
async def test_argv_form_runs_without_a_shell(pool: ServerPool) -> None:
    result = await run(pool, command=["printf", "%s|", "a b", "$HOME"])
    assert result["stdout"] == "a b|$HOME|"
    assert (result["exit_code"], result["stderr"], result["timed_out"]) == (0, "", False)
    assert result["duration_ms"] > 0


@pytest.mark.slow
async def test_string_form_runs_through_sh(pool: ServerPool) -> None:
    result = await run(pool, command="echo $((2 + 3)) && echo oops >&2")
    assert (result["stdout"], result["stderr"], result["exit_code"]) == ("5\n", "oops\n", 0)


@pytest.mark.slow
async def test_string_with_shell_false_is_split_into_argv(pool: ServerPool) -> None:
    result = await run(pool, command="printf '%s|' 'a b' $HOME", shell=False)
    assert result["stdout"] == "a b|$HOME|"


@pytest.mark.slow
async def test_non_zero_exit_is_a_normal_result(pool: ServerPool) -> None:
    result = await run(pool, command="echo partial; exit 7")
    assert (result["exit_code"], result["stdout"], result["timed_out"]) == (7, "partial\n", False)


@pytest.mark.slow
async def test_missing_program_is_exit_127(pool: ServerPool) -> None:
    result = await run(pool, command=["/definitely/not/here"])
    assert result["exit_code"] == 127
    assert "No such file" in result["stderr"]


@pytest.mark.slow
async def test_timeout_kills_the_process_group(pool: ServerPool) -> None:
    started = time.perf_counter()
    # The background sleep keeps stdout open: only killing the whole group ends this before the
    # sleeps' 30 s. The timeout leaves a loaded machine room to echo the background pid first.
    result = await run(pool, command="sleep 30 & echo $!; sleep 30; echo never", timeout=2)
    assert time.perf_counter() - started < 25
    assert result["timed_out"] is True
    assert result["exit_code"] == -9
    background = int(result["stdout"].split()[0])  # output before the kill is kept
    assert "never" not in result["stdout"]
    with anyio.fail_after(10):  # killed: gone once the kernel has reaped it
        while alive(background):
            await anyio.sleep(0.05)


@pytest.mark.slow
async def test_a_client_timeout_cancels_the_command(pool: ServerPool, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with anyio.fail_after(20):
        outcome = await pool.call(
            "cmd", "run_command", {"command": f"echo $$ > {pidfile}; sleep 30"}, timeout=1
        )
        assert outcome.kind == "timeout"
        # The SDK's cancel notification reaches the server, which kills the command's group.
        shell = int(pidfile.read_text())
        while alive(shell):
            await anyio.sleep(0.05)


@pytest.mark.slow
async def test_cwd_and_env(pool: ServerPool, tmp_path: Path) -> None:
    result = await run(
        pool, command='pwd; echo "$GREETING"', cwd=str(tmp_path), env={"GREETING": "hi"}
    )
    assert result["stdout"] == f"{tmp_path.resolve()}\nhi\n"


@pytest.mark.slow
async def test_missing_cwd_is_a_tool_error(pool: ServerPool, tmp_path: Path) -> None:
    with anyio.fail_after(20):
        missing = str(tmp_path / "x")
        outcome = await pool.call("cmd", "run_command", {"command": "pwd", "cwd": missing})
    assert (outcome.is_error, outcome.kind) == (True, "tool")
    assert outcome.error is not None
    assert "cwd does not exist" in outcome.error


@pytest.mark.slow
async def test_tools_have_input_and_output_schemas(pool: ServerPool) -> None:
    tools = await pool.list_tools("cmd")
    assert set(tools) == {"run_command"}  # the tests' echo and sleep live in tests/servers/
    run_command = tools["run_command"]
    assert set(run_command.input_schema["properties"]) == {
        "command",
        "script",
        "shell",
        "cwd",
        "env",
        "timeout",
    }
    assert run_command.input_schema.get("required", []) == []  # one of command and script
    assert run_command.output_schema is not None
    assert set(run_command.output_schema["required"]) == {
        "exit_code",
        "stdout",
        "stderr",
        "duration_ms",
        "timed_out",
    }
    assert {"failed_line", "failed_command"} <= set(run_command.output_schema["properties"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "stdout", "line", "text"),
    [
        ('echo first\nfalse\necho "all good"', "first\n", 2, "false"),
        ("false | cat\necho after", "", 1, "false | cat"),  # pipefail
        (
            "check() {\n  echo checking\n  test -d /nope\n}\ncheck\necho ok",
            "checking\n",
            3,
            "test -d /nope",
        ),
        ("(\n  cd /\n  false\n)\necho after", "", 3, "false"),
        ("out=$(false)\necho $out", "", 1, "out=$(false)"),
    ],
)
async def test_a_bash_script_stops_at_its_failing_line(
    pool: ServerPool, script: str, stdout: str, line: int, text: str
) -> None:
    result = await run(pool, script=script)
    assert (result["exit_code"], result["stdout"], result["timed_out"]) == (1, stdout, False)
    assert (result["failed_line"], result["failed_command"]) == (line, text)


@pytest.mark.slow
async def test_a_failing_script_keeps_its_output_and_exit_code(pool: ServerPool) -> None:
    result = await run(pool, script="echo before\necho warn >&2\nno-such-program --x\necho never")
    assert (result["exit_code"], result["stdout"]) == (127, "before\n")
    assert result["stderr"] == "warn\nbash: line 3: no-such-program: command not found\n"
    assert (result["failed_line"], result["failed_command"]) == (3, "no-such-program --x")


@pytest.mark.slow
async def test_failures_a_script_handles_do_not_stop_it(pool: ServerPool) -> None:
    script = (
        "grep -q x /dev/null || echo none\n"
        "if false; then echo no; fi\n"
        "! false\n"
        "set +e\n"
        "false\n"
        "echo done"
    )
    result = await run(pool, script=script)
    assert (result["exit_code"], result["stdout"]) == (0, "none\ndone\n")
    assert (result["failed_line"], result["failed_command"]) == (None, None)


@pytest.mark.slow
async def test_a_script_reads_nothing_from_stdin(pool: ServerPool) -> None:
    result = await run(pool, script="cat\necho end")  # stdin is /dev/null: cat ends at once
    assert (result["exit_code"], result["stdout"]) == (0, "end\n")


@pytest.mark.slow
async def test_an_sh_script_runs_under_sh_e(pool: ServerPool) -> None:
    result = await run(pool, script="echo $0\nfalse\necho never", shell="sh")
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (1, "/bin/sh\n", "")
    assert (result["failed_line"], result["failed_command"]) == (2, "false")
    broken = await run(pool, script="echo hi\nif true; then\n  echo x\nfi fi", shell="sh")
    assert (broken["exit_code"], broken["stdout"], broken["failed_line"]) == (2, "hi\n", 4)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "stdout", "code", "line", "text"),
    [
        ("echo a\ntest -e /nope\necho never", "a\n", 1, 2, "test -e /nope"),
        ("true; false; echo never\necho never", "", 1, 1, "true; false; echo never"),
        ("nosuch-program\n", "", 127, 1, "nosuch-program"),
        ("printf 'partial' >&2\nexit 3\necho never", "", 3, 2, "exit 3"),
        ("cat <<EOF\nx\nEOF\nfalse", "x\n", 1, 4, "false"),
        # a compound command is read whole before it runs: the line is where it ends
        ("for i in 1 2; do\n  echo $i\n  false\ndone\necho never", "1\n", 1, 4, "done"),
        ("true\n" * 300 + "false\ntrue\n", "", 1, 301, "false"),
        ("printf 'a\rb'\nfalse", "a\rb", 1, 2, "false"),  # a CR ends no line
        ("echo " + "x" * 100_000 + " | wc -c\nfalse", "100001\n", 1, 2, "false"),
    ],
)
async def test_an_sh_script_names_the_last_line_the_shell_read(
    pool: ServerPool, script: str, stdout: str, code: int, line: int, text: str
) -> None:
    result = await run(pool, script=script, shell="sh")
    assert (result["exit_code"], result["stdout"], result["timed_out"]) == (code, stdout, False)
    assert (result["failed_line"], result["failed_command"]) == (line, text)


@pytest.mark.slow
async def test_an_sh_script_is_handed_over_without_a_trace(pool: ServerPool) -> None:
    """What the script runs sees no extra descriptor, and its output is only its own."""
    script = "printf 'out'\nprintf 'err' >&2\nls /proc/self/fd\n"
    result = await run(pool, script=script, shell="sh")
    assert result["exit_code"] == 0
    assert (result["failed_line"], result["failed_command"]) == (None, None)
    assert result["stderr"] == "err"
    printed, listed = result["stdout"][:3], result["stdout"][3:].split()
    assert printed == "out"
    assert sorted(listed, key=int) == ["0", "1", "2", "3"]  # 3: the directory ls reads


@pytest.mark.slow
async def test_a_syntax_error_names_its_line(pool: ServerPool) -> None:
    result = await run(pool, script="echo hi\nif true; then\n  echo x\nfi\nfi")
    assert (result["exit_code"], result["stdout"]) == (2, "hi\nx\n")  # bash runs what parsed
    assert (result["failed_line"], result["failed_command"]) == (5, "fi")


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "sh"])
async def test_a_script_that_runs_out_of_time(pool: ServerPool, shell: str) -> None:
    result = await run(pool, script="echo started\nsleep 30\necho never", shell=shell, timeout=0.5)
    assert (result["timed_out"], result["exit_code"], result["stdout"]) == (True, -9, "started\n")
    assert result["failed_line"] is None


@pytest.mark.slow
async def test_a_command_string_through_bash(pool: ServerPool) -> None:
    result = await run(pool, command="[[ a == a ]] && echo $((6 * 7))", shell="bash")
    assert (result["exit_code"], result["stdout"]) == (0, "42\n")
    assert "failed_line" not in result  # a command's result is as it was


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "give one of command"),
        ({"command": "true", "script": "true"}, "give one of command"),
        ({"script": "  \n"}, "script is empty"),
        ({"script": "true", "shell": False}, 'shell "bash"'),
        ({"script": "true", "shell": True}, 'shell "bash"'),
        ({"script": "#" * 130_000}, "write it to a file"),
    ],
)
async def test_wrong_script_arguments_are_tool_errors(
    pool: ServerPool, args: dict[str, Any], message: str
) -> None:
    with anyio.fail_after(20):
        outcome = await pool.call("cmd", "run_command", args)
    assert (outcome.is_error, outcome.kind) == (True, "tool")
    assert outcome.error is not None
    assert message in outcome.error


@pytest.mark.slow
async def test_streamable_http_on_an_ephemeral_port() -> None:
    with anyio.fail_after(30):
        async with await anyio.open_process(
            [*SERVER_ARGV, "--transport", "http", "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            assert process.stderr is not None
            line = b""
            while not line.endswith(b"\n"):
                line += await process.stderr.receive(1)
            match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+)/mcp)\n", line.decode())
            assert match, line
            assert int(match.group(2)) > 0
            entry = HttpServer(name="web", url=match.group(1))
            try:
                async with ServerPool(McpConfig(servers={"web": entry})) as pool:
                    outcome: CallOutcome = await pool.call(
                        "web", "run_command", {"command": "echo over http; exit 3"}
                    )
                    argv = await pool.call(
                        "web", "run_command", {"command": ["printf", "%s", "1 2"]}
                    )
                    process.kill()
                    await process.wait()
                    gone = await pool.call("web", "run_command", {"command": "true"}, timeout=10)
            finally:
                if process.returncode is None:
                    process.kill()
    assert outcome.structured is not None
    assert (outcome.structured["stdout"], outcome.structured["exit_code"]) == ("over http\n", 3)
    assert argv.structured is not None
    assert argv.structured["stdout"] == "1 2"
    assert (gone.is_error, gone.kind) == (True, "transport")  # a dead endpoint, not a hang


def test_help_does_not_start_a_server() -> None:
    done = subprocess.run(
        [*SERVER_ARGV, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    assert "--transport" in done.stdout
