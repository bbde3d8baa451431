"""generate_report / task_status benchmarks (issue 4). Run: `.venv/bin/python benchmarks/bench_report.py`.

Targets: every report of a recorded 10,000-step run rendered in ≤ 1 s; `task_status --json` of
that run ≤ 300 ms, whole process: the first call after the run (`execute_task` leaves the outline
and the matrix cached when it stops; what that adds to the run is measured), repeated calls, the
call after a change to the run (matrix rebuilt) and the first call with no cache at all. Prints a
markdown table: measurement, result, target, verdict,
then the conditions (versions, load average). `--only status` measures task_status alone.

The package's bytecode is compiled first, as installing it does: with PYTHONDONTWRITEBYTECODE set
(as it is on this machine) an edited module would otherwise be compiled again in every process.

The 10,000-step run is benchmark input, not report evidence: `bench_convert`'s generated document
(2,000 tasks of 5 steps, each task depending on the two before it) with a run synthesised through
the store's own write API (`Store.open_run`, `start_attempt`, `finish_attempt`, `record_outcome`),
on a fake clock: each step a result with an exit-code check, one in 50 failing with a
`verificationFailed`, the steps after it skipped, the last step awaiting the client.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_convert import generated_document  # noqa: E402
from benchmarks.machine import conditions  # noqa: E402

# `claude-task COMMAND`, with this module's command registered if cli/app.py does not yet.
LAUNCHER = (
    "from claude_task_cli.cli import app as a, report\n"
    "if not any(c.callback is report.{0} for c in a.app.registered_commands):\n"
    "    a.app.registered_commands[:] = [c for c in a.app.registered_commands\n"
    "        if c.name not in ('{0}', '{0}'.replace('_', '-'))]\n"
    "    a.app.command('{0}')(report.{0})\n"
    "a.main()\n"
)
STATUS_LAUNCHER = LAUNCHER.format("task_status")
REPORT_LAUNCHER = LAUNCHER.format("generate_report")


def synthesise_run(document: Path, database: Path) -> None:
    """A recorded run of the document, written through the store's API (fake clock)."""
    from claude_task_cli.convert.converter import convert_file
    from claude_task_cli.outcomes import (
        AwaitingClient,
        RunStatus,
        StepStatus,
        UnresolvedDependency,
        VerificationFailed,
    )
    from claude_task_cli.store import Claim, Store

    doc = convert_file(document)
    now = [1_795_000_000.0]

    def clock() -> float:
        now[0] += 0.0005
        return now[0]

    claim = Claim()
    with Store(database, clock=clock) as store:
        run, _ = store.open_run(
            doc_key=str(document.resolve()),
            doc_path=doc.source.path,
            doc_id=doc.id,
            sha256=doc.source.sha256,
            claim=claim,
        )
        steps = [step for _task, step in doc.all_steps()]
        for index, step in enumerate(steps):
            if index == len(steps) - 1:
                reason = AwaitingClient(blocked_step=step.id, guidance=f"{step.id}: {step.title}")
                store.record_outcome(
                    run.id, step.id, StepStatus.AWAITING_CLIENT, pause_reason=reason
                )
                continue
            if index % 50 == 1:  # the step after a failed one
                skip = UnresolvedDependency(
                    blocked_step=step.id,
                    missing_output=f"${{step:{steps[index - 1].id}/stdout}}",
                    producing_step=steps[index - 1].id,
                    suggested_tool="run_command",
                )
                store.record_outcome(
                    run.id, step.id, StepStatus.SKIPPED, error="did not complete", pause_reason=skip
                )
                continue
            command = {"command": f"make check-{index}", "timeout": 600}
            attempt = store.start_attempt(run.id, step.id, command)
            failed = index % 50 == 0
            code = 2 if failed else 0
            result = {
                "exit_code": code,
                "stdout": f"step {step.id}: {'FAILED' if failed else 'ok'} | `{index}`\n" * 3,
                "stderr": "",
                "duration_ms": 1.5,
                "timed_out": False,
            }
            check = {
                "passed": not failed,
                "expectation": {"path": "", "exit_code": 0},
                "description": "result has exit_code 0",
                "actual": result,
                "message": "exit_code is 2" if failed else "",
            }
            store.finish_attempt(
                run.id,
                step.id,
                attempt,
                StepStatus.FAILED if failed else StepStatus.COMPLETED,
                result=result,
                error=f"command 'make check-{index}' exited 2" if failed else None,
                pause_reason=VerificationFailed(
                    failed_step=step.id, expectation="exit code 0", actual=2
                )
                if failed
                else None,
                checks=[check],
            )
        store.finish_run(run.id, claim, RunStatus.PAUSED)


def forget_matrix(database: Path) -> None:
    """Drop the cached matrices, as any change to the run makes them stale."""
    conn = sqlite3.connect(database)
    with conn:
        conn.execute("DELETE FROM matrix_cache")
    conn.close()


def median_ms(fn: object, runs: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def process_ms(
    args: list[str],
    cwd: Path,
    runs: int,
    ok: tuple[int, ...] = (0,),
    before: Callable[[], object] = lambda: None,
) -> tuple[float, float]:
    """(median, minimum) whole-process time in ms; `before` runs, untimed, before each."""
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, stdout=subprocess.DEVNULL, check=False)
        assert done.returncode in ok, args
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per measurement")
    parser.add_argument(
        "--only", choices=("all", "status"), default="all", help="status: task_status alone"
    )
    options = parser.parse_args()
    compileall.compile_dir(REPO / "claude_task_cli", quiet=1)

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / ".git").mkdir()
        (project / "docs" / "tasks").mkdir(parents=True)
        document = project / "docs" / "tasks" / "900_generated.md"
        document.write_text(generated_document(), encoding="utf-8")
        database = project / ".claude-task" / "state.db"
        started = time.perf_counter()
        synthesise_run(document, database)
        setup_s = time.perf_counter() - started

        if options.only == "all":
            rows.extend(report_rows(project, document, database, options.runs))
        rows.extend(status_rows(project, document, database, options.runs))
        rows.append(
            ("  setting up: writing the run through the store API", f"{setup_s:.1f} s", "", "")
        )

    print("| measurement | result | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    import typer  # the version the CLI runs on

    print(f"\ntyper {typer.__version__}; {conditions()}")


def report_rows(
    project: Path, document: Path, database: Path, runs: int
) -> list[tuple[str, str, str, str]]:
    """Rendering every report, in memory and written; generate_report whole process."""
    from claude_task_cli.convert.converter import convert_file
    from claude_task_cli.report.evidence import load_evidence
    from claude_task_cli.report.render import Rendered, Reports, render, write
    from claude_task_cli.report.templating import environment
    from claude_task_cli.store import Store

    rows: list[tuple[str, str, str, str]] = []
    doc = convert_file(document, "docs/tasks/900_generated.md")
    with Store(database) as store:
        load = median_ms(lambda: load_evidence(store, doc, doc_key=str(document.resolve())), runs)
        evidence = load_evidence(store, doc, doc_key=str(document.resolve()))
    out = project / "docs" / "reports"
    rendered: list[list[Rendered]] = []

    def render_all() -> None:
        rendered.append(render(Reports.of(doc, evidence), environment()))

    render_ms = median_ms(render_all, runs)
    files = rendered[-1]
    write_ms = median_ms(lambda: write(files, out), runs)
    size = sum(len(r.text.encode()) for r in files) / 1e6
    rows.append(
        (
            f"all reports of the 10,000-step run ({len(files)} files, {size:.1f} MB): "
            "completion matrix + Jinja rendering (median)",
            f"{render_ms:.0f} ms",
            "≤ 1 s",
            "met" if render_ms <= 1000 else "NOT met",
        )
    )
    rows.append(("  writing those files (atomic replace, median)", f"{write_ms:.0f} ms", "", ""))
    rows.append(("  reading the run's evidence (store API, median)", f"{load:.0f} ms", "", ""))
    convert = median_ms(lambda: convert_file(document), 1)
    rows.append(("  converting the document", f"{convert:.0f} ms", "", ""))
    report_cmd = [sys.executable, "-c", REPORT_LAUNCHER, "generate_report", "900"]
    whole, _ = process_ms(report_cmd, project, 3, ok=(0, 1))
    rows.append(
        ("  `generate_report 900` whole process (all of the above)", f"{whole:.0f} ms", "", "")
    )
    return rows


def status_rows(
    project: Path, document: Path, database: Path, runs: int
) -> list[tuple[str, str, str, str]]:
    """`task_status 900 --json` whole process, first after the run, repeated, after a change to
    the run, with no cache at all; start-up alone."""
    from claude_task_cli.convert.converter import convert_file
    from claude_task_cli.report.completion import remember

    rows: list[tuple[str, str, str, str]] = []
    launcher = [sys.executable, "-c", STATUS_LAUNCHER, "task_status", "900", "--json"]

    def forget_all() -> None:
        shutil.rmtree(database.parent / "outlines", ignore_errors=True)
        forget_matrix(database)

    doc = convert_file(document)  # the document execute_task holds when the run stops
    remembered = []
    for _ in range(runs):
        forget_all()
        remembered.append(median_ms(lambda: remember(document, doc, state_path=database), 1))
    first, _ = process_ms(launcher, project, 1)
    warm, fastest = process_ms(launcher, project, max(runs, 10))
    changed, _ = process_ms(launcher, project, runs, before=lambda: forget_matrix(database))
    cold, _ = process_ms(launcher, project, 1, before=forget_all)
    worst = max(first, warm)
    rows.append(
        (
            "`task_status 900 --json` of that run, whole process: the first call after the run",
            f"{first:.0f} ms",
            "≤ 300 ms",
            "met" if worst <= 300 else "NOT met",
        )
    )
    rows.append(("  and each call after it (median)", f"{warm:.0f} ms (min {fastest:.0f})", "", ""))
    rows.append(
        (
            "  what leaving both caches adds to the end of the run (in execute_task, median)",
            f"{statistics.median(remembered):.0f} ms",
            "",
            "",
        )
    )
    rows.append(
        ("  after a change to the run: matrix rebuilt and cached", f"{changed:.0f} ms", "", "")
    )
    rows.append(
        ("  with no cache at all: converts, caches outline and matrix", f"{cold:.0f} ms", "", "")
    )
    helped, _ = process_ms([sys.executable, "-m", "claude_task_cli", "--help"], project, 10)
    rows.append(("  for reference: `claude-task --help`", f"{helped:.0f} ms", "", ""))
    python = process_ms([sys.executable, "-c", "pass"], project, 10)[0]
    rows.append(("  for reference: `python -c pass`", f"{python:.0f} ms", "", ""))
    return rows


if __name__ == "__main__":
    main()
