"""Server start benchmark (issue 16 §6). Run: `.venv/bin/python benchmarks/bench_servers.py`.

Target: a document calling three servers starts them in ≤ 1.3× the time of one.

1. The pool alone, in this process (the MCP SDK imported beforehand): from entering a
   `ServerPool` to every server having answered `initialize` and `tools/list`, for three built-in
   command servers (stdio, `python -m claude_task_cli.mcp.command_server`) opened at once by
   `ServerPool.start`, over one of them — the target. Also reported: the same three opened one
   after the other, as the executor did before `start` (a step's first call opened its server).
2. The floor, reported: three Python processes started at once that only import the SDK's
   server side (`import mcp.server.mcpserver`, what each server spends most of its start on),
   over one. On a machine with fewer free cores than servers the pool cannot beat it.
3. The whole process, as a user sees it: `claude-task execute_task` of a document whose steps
   each call one server once (`run_command true`), with three servers over one. Reported: it also
   holds what does not change with the number of servers (Python, the SDK import, the store).

The sides alternate and a ratio is the median of the per-repetition ratios, so drift on a shared
machine cancels; the time columns are each side's median. Starting a Python MCP server is mostly
CPU (importing the SDK), so on a machine with fewer free cores than servers the three starts
share them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from claude_task_cli.mcp.config import McpConfig, StdioServer
from claude_task_cli.mcp.sessions import ServerPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import conditions

COMMAND_SERVER = ["-m", "claude_task_cli.mcp.command_server"]


def config(names: list[str]) -> McpConfig:
    entries = {n: StdioServer(name=n, command=sys.executable, args=COMMAND_SERVER) for n in names}
    return McpConfig(servers=entries)


async def pool_start(names: list[str], *, at_once: bool) -> float:
    """Seconds from entering the pool until every server listed its tools."""
    started = time.perf_counter()
    async with ServerPool(config(names)) as pool:
        if at_once:
            pool.start(names)
        for name in names:
            await pool.list_tools(name)
        elapsed = time.perf_counter() - started
    return elapsed


def document(names: list[str]) -> str:
    steps = "".join(
        f"- [ ] 1.{n} [P] Call {name}\n  ```mcp\n  server: {name}\n  tool: run_command\n"
        '  args: {command: ["true"]}\n  ```\n'
        for n, name in enumerate(names, start=1)
    )
    return f"# Task 1: Servers\n\n## Task 1: Calls\n\n{steps}"


def whole_process(project: Path, names: list[str]) -> float:
    """Seconds of `claude-task execute_task` of a document calling each of `names` once."""
    entries = {n: {"command": sys.executable, "args": COMMAND_SERVER} for n in names}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": entries}), encoding="utf-8")
    doc = project / f"servers-{len(names)}.md"
    doc.write_text(document(names), encoding="utf-8")
    env = {**os.environ, "CLAUDE_TASK_LOG_DIR": str(project / "logs"), "NO_COLOR": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "execute_task", str(doc), "--no-resume", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"execute_task exited {done.returncode}:\n{done.stderr}")
    return elapsed


async def sdk_imports(count: int) -> float:
    """Seconds for `count` Python processes started at once that only import what a Python MCP
    server imports (the SDK's server side) and exit: the floor under the pool's ratio, set by
    this machine's cores, not by how the pool starts its servers."""
    started = time.perf_counter()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import mcp.server.mcpserver", stdout=subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    for proc in procs:
        if await proc.wait() != 0:
            raise SystemExit("python -c 'import mcp.server.mcpserver' failed")
    return time.perf_counter() - started


def paired(base: list[float], ours: list[float]) -> float:
    return statistics.median(o / b for b, o in zip(base, ours, strict=True))


async def alternate(runs: int, sides: list[Callable[[], Awaitable[float]]]) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in sides]
    for _ in range(runs):
        for side, measured in zip(sides, times, strict=True):
            measured.append(await side())
    return times


async def main(runs: int) -> list[tuple[str, str, str, str, str]]:
    one, three = ["a"], ["a", "b", "c"]
    await pool_start(one, at_once=True)  # import the SDK, warm the page cache
    single, together, in_turn = await alternate(
        runs,
        [
            lambda: pool_start(one, at_once=True),
            lambda: pool_start(three, at_once=True),
            lambda: pool_start(three, at_once=False),
        ],
    )
    import_one, import_three = await alternate(
        runs, [lambda: sdk_imports(1), lambda: sdk_imports(3)]
    )
    rows = [
        ("pool: 3 servers started at once / 1 server", single, together, "≤ 1.3×"),
        ("pool: 3 servers opened one after the other / 1 server", single, in_turn, "reported"),
        (
            f"the floor: 3 processes only importing the MCP SDK at once / 1 ({os.cpu_count()} cores)",
            import_one,
            import_three,
            "reported",
        ),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)

        async def process(names: list[str]) -> float:
            return whole_process(project, names)

        whole_one, whole_three = await alternate(
            runs, [lambda: process(one), lambda: process(three)]
        )
    rows.append(("execute_task, whole process: 3 servers / 1 server", whole_one, whole_three,
                 "reported"))  # fmt: skip
    return [
        (
            name,
            f"{statistics.median(base) * 1000:.0f} ms",
            f"{statistics.median(ours) * 1000:.0f} ms",
            f"{paired(base, ours):.2f}×",
            target,
        )
        for name, base, ours, target in rows
    ]


def verdict(ratio: str, target: str) -> str:
    if target == "reported":
        return ""
    return "met" if float(ratio.rstrip("×")) <= float(target.split()[1].rstrip("×")) else "MISSED"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions; medians are reported")
    options = parser.parse_args()
    table = asyncio.run(main(options.runs))
    print("| measurement | one server | three servers | ratio | target | verdict |")
    print("|---|---|---|---|---|---|")
    for name, base, ours, ratio, target in table:
        print(f"| {name} | {base} | {ours} | {ratio} | {target} | {verdict(ratio, target)} |")
    print(f"\n{conditions()}")
