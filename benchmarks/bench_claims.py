"""Claims under contention (issue 18, §7): 8 processes claiming 10,000 ready tasks from one board.

    .venv/bin/python benchmarks/bench_claims.py                  # both engines
    .venv/bin/python benchmarks/bench_claims.py --engine sqlite --tasks 2000

Per engine: claims per second (from the moment every worker is connected and told to go until the
last one finds nothing ready), double claims (must be 0: every task claimed exactly once, checked
against the board), and the slowest worker's share of the claims against its fair share (must be
at least a quarter). SQLite is a file in a temporary folder (WAL, synchronous=NORMAL, as the CLI
opens it); PostgreSQL a throwaway server started for the run (`tests/postgres_server.py`) with its
durable defaults (fsync and synchronous commit on).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import conditions
from claude_task_cli.board import Board, ImportOptions
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.store.engines import parse_url


def _document(folder: Path, tasks: int) -> Path:
    (folder / ".git").mkdir(exist_ok=True)
    (folder / "docs" / "tasks").mkdir(parents=True, exist_ok=True)
    lines = ["# Task 990: Claims benchmark", "", "## Implementation Tasks"]
    for n in range(1, tasks + 1):
        lines += ["", f"### Task {n}: Benchmark task {n}", "", "**Depends on**: none", ""]
        lines += ["**Implementation Steps**:", f"- [ ] {n}.1 Step of task {n}"]
    path = folder / "docs" / "tasks" / "990_claims.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fill(url: str, folder: Path, tasks: int) -> None:
    path = _document(folder, tasks)
    doc = convert_file(path, str(path))
    with Board.open(parse_url(url)) as board:
        board.import_document(doc, path, ImportOptions(auto_ready=True), "bench")


def worker(url: str, name: str) -> None:
    """One claiming process: connect, say so, wait for `go`, claim until nothing is ready."""
    with Board.open(parse_url(url)) as board:
        print("ready", flush=True)
        sys.stdin.readline()
        claimed = []
        while True:
            got, _why = board.claim(name, 600.0)
            if got is None:
                break
            claimed.append(got.task.id)
        print(json.dumps(claimed), flush=True)


def measure(url: str, folder: Path, tasks: int, workers: int) -> dict[str, float | int]:
    _fill(url, folder, tasks)
    command = [sys.executable, __file__, "--worker", url]
    procs = [
        subprocess.Popen(
            [*command, f"w{n}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for n in range(workers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate()[0] for proc in procs]
    elapsed = time.perf_counter() - started
    per_worker = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    claimed = [task for ids in per_worker for task in ids]
    with Board.open(parse_url(url)) as board:
        on_board = [t.id for t in board.tasks() if t.state.value == "in_progress"]
    fair = tasks / workers
    return {
        "claims_per_s": round(len(claimed) / elapsed),
        "seconds": round(elapsed, 2),
        "claimed": len(claimed),
        "double_claims": len(claimed) - len(set(claimed)),
        "missed": len(set(on_board) - set(claimed)),
        "slowest_share": round(min(len(ids) for ids in per_worker) / fair, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--worker", nargs=2, metavar=("URL", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    print(conditions())
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    failed = False
    for engine in engines:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            server = None
            if engine == "sqlite":
                url = f"sqlite:///{folder / 'state.db'}"
            else:
                from tests.postgres_server import PostgresServer

                server = PostgresServer(durable=True).start()
                url = server.url()
            try:
                result = measure(url, folder, args.tasks, args.workers)
            finally:
                if server is not None:
                    server.stop()
        ok = (
            result["double_claims"] == 0
            and result["missed"] == 0
            and result["claimed"] == args.tasks
            and result["slowest_share"] >= 0.25
        )
        failed |= not ok
        print(f"{engine:<11} {json.dumps(result)} {'ok' if ok else 'TARGET MISSED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
