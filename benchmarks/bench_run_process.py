"""execute_task as a user runs it, whole processes (issue 16 targets).

Run: `.venv/bin/python benchmarks/bench_run_process.py` (`--runs N`, `--only memory|resume`).

1. Peak memory: `execute_task` of a document of 40 steps each returning a 5 MB result, from a
   real stdio MCP server (a few lines of the SDK's `MCPServer` with one tool, started by the run);
   peak RSS of the run's process tree (`wait4`, as `/usr/bin/time -v` reports it) ≤ 300 MB.
2. Resume: `execute_task` of a 10,000-step document whose run has 9,999 steps done (the state
   written beforehand through the store) against `execute_task` of a fresh 1-step document of
   the same shape: ≤ 1.5×. Both call the built-in command server's `run_command` once; the
   converting of the document (`convert_task --check` of it, a whole process) is reported beside.

Each process's stdout is a pipe (plain output, as in CI); medians of `--runs` alternating runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.machine import conditions  # noqa: E402

CLI = [sys.executable, "-m", "claude_task_cli"]
BLOB_SERVER = (
    "from mcp.server.mcpserver import MCPServer\n"
    "async def blob(size: int) -> dict[str, str]:\n"
    "    return {'data': 'x' * size}\n"
    "server = MCPServer('blob', log_level='WARNING')\n"
    "server.add_tool(blob, structured_output=True)\n"
    "server.run()\n"
)


def project(root: Path, servers: dict[str, list[str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    entries = {name: {"command": argv[0], "args": argv[1:]} for name, argv in servers.items()}
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": entries}), encoding="utf-8")
    return root


def document(steps: int, block: list[str], *, parallel: bool = False) -> str:
    """One task of `steps` steps, each with the mcp block `block` (a chain unless `parallel`)."""
    lines = ["# Task 95: Benchmark", "", "## Task 1: Steps", ""]
    for i in range(1, steps + 1):
        lines.append(f"- [ ] 1.{i} [P] Step {i}" if parallel else f"- [ ] 1.{i} Step {i}")
        if parallel:
            lines.append("  - Depends on: none")
        lines += ["  ```mcp", *(f"  {line}" for line in block), "  ```"]
    return "\n".join(lines) + "\n"


def timed(argv: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run a process; (seconds, peak RSS in MB of its largest process, its own or a child's,
    CPU seconds: user + system of the process and of the children it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {stderr[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def memory(tmp: Path, runs: int) -> list[tuple[str, str, str, str]]:
    root = project(tmp / "memory", {"blob": [sys.executable, "-c", BLOB_SERVER]})
    doc = root / "blobs.md"
    block = ["server: blob", "tool: blob", "args: {size: 5000000}"]
    doc.write_text(document(40, block, parallel=True), encoding="utf-8")
    peaks = []
    for _ in range(runs):
        shutil.rmtree(root / ".claude-task", ignore_errors=True)
        peaks.append(timed([*CLI, "execute_task", str(doc), "-q"], root)[1])
    peak = statistics.median(peaks)
    verdict = "met" if peak <= 300 else "MISSED"
    return [
        ("execute_task, 40 steps × 5 MB results: peak RSS", f"{peak:.0f} MB", "≤ 300 MB", verdict)
    ]


def prepare_resume(root: Path, doc: Path, done: int) -> None:
    """The document's run with its first `done` steps completed, as an executor leaves it: its
    state database, and the converted document kept (`convert/document_cache.py`, in the cache
    directory `$CLAUDE_TASK_CACHE_DIR` names), named as the run names it (from the project)."""
    from claude_task_cli.operations import load_document
    from claude_task_cli.outcomes import RunStatus, StepStatus
    from claude_task_cli.store import Claim, Store

    here = Path.cwd()
    os.chdir(root)
    try:
        converted, _ = load_document(str(doc))
    finally:
        os.chdir(here)
    claim = Claim()
    with Store(root / ".claude-task" / "state.db") as store:
        run, _ = store.open_run(
            doc_key=str(doc.resolve()),
            doc_path=converted.source.path,
            doc_id=converted.id,
            sha256=hashlib.sha256(doc.read_bytes()).hexdigest(),
            claim=claim,
        )
        result = {"exit_code": 0, "stdout": "", "stderr": "", "duration_ms": 1.0}
        for i in range(1, done + 1):
            sid = f"1.{i}"
            attempt = store.start_attempt(run.id, sid, {"command": "true"})
            store.finish_attempt(
                run.id, sid, attempt, StepStatus.COMPLETED, result=result, defer=True
            )
        store.finish_run(run.id, claim, RunStatus.PAUSED)


def resume(tmp: Path, runs: int) -> list[tuple[str, str, str, str]]:
    command_server = [sys.executable, "-m", "claude_task_cli.mcp.command_server"]
    block = ["server: cmd", "tool: run_command", 'args: {command: "true"}']
    big = project(tmp / "big", {"cmd": command_server})
    big_doc = big / "big.md"
    big_doc.write_text(document(10_000, block), encoding="utf-8")
    small = project(tmp / "small", {"cmd": command_server})
    small_doc = small / "small.md"
    small_doc.write_text(document(1, block), encoding="utf-8")
    state = big / ".claude-task"
    prepare_resume(big, big_doc, 9_999)
    saved = tmp / "saved"
    shutil.copytree(state, saved)
    fresh, resumed, converted = [], [], []
    for _ in range(runs):
        shutil.rmtree(small / ".claude-task", ignore_errors=True)
        fresh.append(timed([*CLI, "execute_task", str(small_doc), "-q"], small))
        shutil.rmtree(state)
        shutil.copytree(saved, state)
        resumed.append(timed([*CLI, "execute_task", str(big_doc), "-q"], big))
        converted.append(timed([*CLI, "convert_task", str(big_doc), "--check"], big))
    ratio = statistics.median(r[0] / f[0] for f, r in zip(fresh, resumed, strict=True))
    cpu_ratio = statistics.median(r[2] / f[2] for f, r in zip(fresh, resumed, strict=True))
    f, r, c = (statistics.median(x[0] for x in xs) * 1000 for xs in (fresh, resumed, converted))
    fc, rc, cc = (statistics.median(x[2] for x in xs) * 1000 for xs in (fresh, resumed, converted))
    return [
        ("execute_task of a fresh 1-step document", f"{f:.0f} ms (CPU {fc:.0f} ms)", "", ""),
        (
            "execute_task resuming 10,000 steps with 9,999 done",
            f"{r:.0f} ms ({ratio:.2f}×); CPU {rc:.0f} ms ({cpu_ratio:.2f}×)",
            "≤ 1.5×",
            "met" if ratio <= 1.5 else "MISSED",
        ),
        (
            "  convert_task --check of that document alone",
            f"{c:.0f} ms (CPU {cc:.0f} ms)",
            "reported",
            "",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--only", choices=["memory", "resume"])
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        os.environ["CLAUDE_TASK_CACHE_DIR"] = str(tmp / "cache")  # the processes' too
        if options.only in (None, "memory"):
            rows += memory(tmp, options.runs)
        if options.only in (None, "resume"):
            rows += resume(tmp, options.runs)
    print("| measurement | result | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{conditions()}")


if __name__ == "__main__":
    main()
