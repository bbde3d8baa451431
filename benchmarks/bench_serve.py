"""`claude-task serve` benchmarks (issue 19). Run: `.venv/bin/python benchmarks/bench_serve.py`.

Over stdio, with the official SDK's `ClientSession`, in a temporary project holding the seed
document (`../shared/seeds/task-003-orchestration-spec.md`):

1. start to ready: spawning `python -m claude_task_cli serve` until its `initialize` answer —
   beside the same for the built-in command server (a bare MCPServer: the SDK's own floor);
2. `convert_task` of the seed on an open session: the first call (it pays the lazy imports and
   the SDK's hidden `tools/list`) and the median of the next ones; and, inside that, what the
   SDK client spends checking each result against the tool's output schema (the converter's
   contract) with `jsonschema`, measured alone on the same graph;
3. with `--steps N` (e.g. 1000): `execute_task` of a document of N chained `echo` steps (the
   tests' tools server) through
   the door (the call, on an open session) against the CLI's `execute_task -q` (the process,
   start-up included), alternating, each a new run. Not a pure ratio of the engine's work: the CLI
   side pays its process start, the door side the tool's result (the run document) on the wire.

Prints a markdown table and the machine's conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import conditions

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "task-003-orchestration-spec.md"
COMMANDS = [sys.executable, "-m", "claude_task_cli.mcp.command_server"]
TOOLS = [sys.executable, str(REPO / "tests" / "servers" / "tools_server.py")]  # echo, sleep


def project(root: Path, steps: int) -> None:
    """The seed under docs/tasks/, the command server declared, and a chain of `steps` steps."""
    tasks = root / "docs" / "tasks"
    tasks.mkdir(parents=True)
    shutil.copy(SEED, tasks / "003_seed.md")
    config = {"mcpServers": {"tools": {"command": TOOLS[0], "args": TOOLS[1:]}}}
    (root / ".mcp.json").write_text(json.dumps(config))
    lines = ["# Task 900: Chain", "", "### Task 1: Echo", ""]
    for i in range(1, steps + 1):
        lines += [f"- [ ] 1.{i} Echo {i}", "  ```mcp", "  server: tools", "  tool: echo",
                  "  args:", f"    value: {i}", "  ```"]  # fmt: skip
        if i > 1:
            lines.append(f"  - Depends on: 1.{i - 1}")
    (tasks / "900_chain.md").write_text("\n".join(lines) + "\n")


def params(root: Path, argv: list[str]) -> StdioServerParameters:
    env = {"CLAUDE_TASK_LOG_DIR": str(root / "logs"), "NO_COLOR": "1"}
    return StdioServerParameters(command=argv[0], args=argv[1:], cwd=root, env=env)


async def ready_ms(root: Path, argv: list[str]) -> float:
    """Spawn to `initialize` answered (closing is not timed)."""
    started = time.perf_counter()
    async with stdio_client(params(root, argv)) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        took = time.perf_counter() - started
    return took * 1000


async def convert_ms(root: Path, calls: int) -> tuple[float, float]:
    """The first `convert_task` of the seed, and the median of `calls` more, in ms."""
    serve = [sys.executable, "-m", "claude_task_cli", "serve"]
    async with stdio_client(params(root, serve)) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        times = []
        for _ in range(calls + 1):
            started = time.perf_counter()
            result = await s.call_tool("convert_task", {"path": "docs/tasks/003_seed.md"})
            times.append(time.perf_counter() - started)
            assert not result.is_error, result.content
    return times[0] * 1000, statistics.median(times[1:]) * 1000


def schema_check_ms(root: Path, runs: int) -> float:
    """The median time of one check of the seed's graph against convert_task's output schema,
    as the SDK client makes it on every result (`jsonschema`, the validator the schema names)."""
    from jsonschema import validators

    from claude_task_cli.operations import load_document
    from claude_task_cli.server.registration import without_titles
    from claude_task_cli.server.schemas import output_schemas

    doc, _ = load_document(str(root / "docs" / "tasks" / "003_seed.md"))
    graph = json.loads(doc.to_json())
    schema = without_titles(output_schemas()["convert_task"])
    check = validators.validator_for(schema)(schema)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert check.is_valid(graph)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def door_run_ms(root: Path) -> float:
    serve = [sys.executable, "-m", "claude_task_cli", "serve"]
    async with stdio_client(params(root, serve)) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        started = time.perf_counter()
        result = await s.call_tool("execute_task", {"task": "900", "no_resume": True})
        took = time.perf_counter() - started
        assert result.structured_content is not None, result.content
        assert result.structured_content["runStatus"] == "completed", result.structured_content
    return took * 1000


def cli_run_ms(root: Path) -> float:
    argv = [sys.executable, "-m", "claude_task_cli", "execute_task", "900", "-q", "--no-resume"]
    started = time.perf_counter()
    subprocess.run(argv, cwd=root, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="start-ups of each server")
    parser.add_argument("--calls", type=int, default=30, help="convert_task calls after the first")
    parser.add_argument("--steps", type=int, default=0, help="also execute N chained steps")
    parser.add_argument("--executions", type=int, default=3, help="runs of each side (--steps)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project(root, max(args.steps, 1))
        serve = [sys.executable, "-m", "claude_task_cli", "serve"]
        door, floor = [], []
        for _ in range(args.runs):  # alternating, so drift on a shared machine cancels
            door.append(await ready_ms(root, serve))
            floor.append(await ready_ms(root, COMMANDS))
        first, steady = await convert_ms(root, args.calls)
        rows = [
            ("`serve` start to ready (spawn → initialize answered)",
             f"{statistics.median(door):.0f} ms", "~0.9 s (issue 19)"),
            ("  the command server, the same (a bare MCPServer)",
             f"{statistics.median(floor):.0f} ms", "reported"),
            ("`convert_task` of the seed, first call", f"{first:.1f} ms", "reported"),
            (f"`convert_task` of the seed, median of {args.calls} more", f"{steady:.1f} ms",
             "~8–16 ms (issue 19)"),
            ("  of which the client's output-schema check of the graph",
             f"{schema_check_ms(root, args.calls):.1f} ms", "reported"),
        ]  # fmt: skip
        if args.steps:
            through, cli = [], []
            for _ in range(args.executions):
                through.append(await door_run_ms(root))
                cli.append(await asyncio.to_thread(cli_run_ms, root))
            ratio = statistics.median(d / c for d, c in zip(through, cli, strict=True))
            rows += [
                (f"`execute_task` of {args.steps} chained steps, the door's call",
                 f"{statistics.median(through):.0f} ms", "reported"),
                ("  the CLI's process, the same run", f"{statistics.median(cli):.0f} ms",
                 "reported"),
                ("  door / CLI", f"{ratio:.2f}×", "≤ 1.2× (issue 19)"),
            ]  # fmt: skip
    print("| measurement | result | target |")
    print("|---|---|---|")
    for name, result, target in rows:
        print(f"| {name} | {result} | {target} |")
    print(f"\n{conditions()}")


if __name__ == "__main__":
    asyncio.run(main())
