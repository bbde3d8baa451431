"""What handing an `sh` script to the shell a line at a time costs (`mcp/sh_script.py`).

Run: `.venv/bin/python benchmarks/bench_sh_scripts.py [--runs N]`.

Each row is one script, run by the command server's own functions in this process, both ways
alternating: as the command server runs it (fed through a pipe, the failing line known) and as
plain `/bin/sh -e -c SCRIPT` (no line known). The extra time is divided by the script's lines.
Not a target: the price of naming an `sh` block's failing line, reported so it stays visible.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import conditions
from claude_task_cli.mcp.command_server import _execute, _run_script

SCRIPTS = {
    "500 × `true`": "true\n" * 500,
    "100 × `sleep 0.003`": "sleep 0.003\n" * 100,
    "20 × `python3 -c pass`": "python3 -c pass\n" * 20,
}


async def _timed(run: Awaitable[object]) -> float:
    started = time.perf_counter()
    await run
    return time.perf_counter() - started


async def measure(script: str, runs: int) -> tuple[float, float]:
    """Median seconds: fed a line at a time, and as one `sh -e -c` argument."""
    fed, plain = [], []
    for _ in range(runs):
        fed.append(await _timed(_run_script(script, "sh", None, None, 120)))
        plain.append(await _timed(_execute(["/bin/sh", "-e", "-c", script], None, None, 120)))
    return statistics.median(fed), statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| script | fed a line at a time | `sh -e -c` | extra per line |")
    print("|---|---|---|---|")
    for name, script in SCRIPTS.items():
        fed, plain = asyncio.run(measure(script, args.runs))
        extra = (fed - plain) / script.count("\n") * 1000
        print(f"| {name} | {fed * 1000:.0f} ms | {plain * 1000:.0f} ms | {extra:+.2f} ms |")
    print(f"\n{conditions()}")


if __name__ == "__main__":
    main()
