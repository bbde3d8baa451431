"""generate_report / task_status benchmarks. Run: `.venv/bin/python benchmarks/bench_report.py`.

Targets (issue 16), whole process as a user runs them: every report of a recorded 10,000-step run
(`generate_report 900`) ≤ 2 s — timed twice: into an empty `docs/reports` (every file new), and
again over the reports it wrote (the same text: none is rewritten); `task_status 900 --json` of
that run ≤ 0.5 s. Prints a markdown
table — measurement, result, target, verdict — then where the time of one process goes, measured
in-process stage by stage (CPU time, best of the runs), and the conditions (versions, load).

The package's bytecode is compiled first, as installing it does: with PYTHONDONTWRITEBYTECODE set
an edited module would otherwise be compiled again in every process.

The 10,000-step run is benchmark input, not report evidence: `bench_convert`'s generated document
(2,000 tasks of 5 steps, each task depending on the two before it) with a run synthesised through
the store's own write API (`Store.open_run`, `start_attempt`, `finish_attempt`, `record_outcome`),
on a fake clock: each step a result with an exit-code check, one in 50 failing with a
`verificationFailed`, the steps after it skipped, the last step awaiting the client. As the
executor that recorded it would, it leaves the converted document kept (`convert/document_cache.py`,
in a cache directory of the benchmark's own).
"""

from __future__ import annotations

import argparse
import compileall
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_convert import generated_document  # noqa: E402
from benchmarks.machine import conditions  # noqa: E402

REPORT_TARGET_S = 2.0
STATUS_TARGET_S = 0.5


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
    from claude_task_cli.store.database import Claim, Store

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


def keep_document(project: Path, task: str) -> None:
    """Keep the converted document as a run started in `project` keeps it (in the cache
    directory `$CLAUDE_TASK_CACHE_DIR` names)."""
    from claude_task_cli.operations import load_document

    here = Path.cwd()
    os.chdir(project)
    try:
        load_document(task)
    finally:
        os.chdir(here)


def process_s(
    args: list[str],
    cwd: Path,
    runs: int,
    ok: tuple[int, ...],
    setup: Callable[[], object] | None = None,
) -> tuple[float, float, float]:
    """(median, minimum) whole-process wall time and the median CPU time (user + system) of the
    process, in seconds; `setup` runs before each, untimed."""
    times, cpu = [], []
    for _ in range(runs):
        if setup is not None:
            setup()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, stdout=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode in ok, args
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times), min(times), statistics.median(cpu)


def set_aside(directory: Path) -> None:
    """Move `directory` out of the way (one rename: deleting thousands of files just before the
    timed process would time the disk reclaiming them instead)."""
    if directory.exists():
        directory.rename(Path(tempfile.mkdtemp(dir=directory.parent)) / directory.name)


def cpu_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """(best CPU time in ms, the last result) of `fn` over `runs` calls."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best * 1000, result


def stages(project: Path, document: Path, runs: int) -> list[tuple[str, str, str, str]]:
    """Where one process's time goes, stage by stage, in-process, the cycle collector paused as
    the commands pause it while they read and render (`report_operations._collector_paused`)."""
    gc.disable()
    try:
        return _stages(project, document, runs)
    finally:
        gc.enable()


def _stages(project: Path, document: Path, runs: int) -> list[tuple[str, str, str, str]]:
    from claude_task_cli.convert.converter import convert_file
    from claude_task_cli.operations import load_document
    from claude_task_cli.report import (
        Reports,
        environment,
        latest_evidence,
        matrix_json,
        render_reports,
        state_path_for,
        write,
    )
    from claude_task_cli.report.matrix import build_matrix
    from claude_task_cli.report.outline import outline_of

    key = str(document.resolve())
    state = state_path_for(document)
    convert, doc = cpu_ms(lambda: convert_file(document, "docs/tasks/900_generated.md"), runs)
    here = Path.cwd()
    os.chdir(project)
    try:
        kept, _ = cpu_ms(lambda: load_document("900"), runs)
    finally:
        os.chdir(here)
    read, evidence = cpu_ms(lambda: latest_evidence(state, doc, key), runs)
    assert evidence is not None
    judge, matrix = cpu_ms(
        lambda: build_matrix(outline_of(doc), evidence.record, evidence.states), runs
    )
    dump, _ = cpu_ms(lambda: matrix_json(matrix), runs)
    env = environment()
    reports = Reports(doc, evidence.evidence, matrix)
    render, files = cpu_ms(lambda: render_reports(reports, env), runs)
    written, _ = cpu_ms(lambda: write(files, Path(tempfile.mkdtemp(dir=project))), runs)
    size = sum(len(r.text.encode()) for r in files) / 1e6
    return [
        ("  reading the kept converted document", f"{kept:.0f} ms", "", ""),
        ("  (converting the document instead)", f"{convert:.0f} ms", "", ""),
        ("  reading the run: store → evidence", f"{read:.0f} ms", "", ""),
        ("  the completion matrix", f"{judge:.0f} ms", "", ""),
        ("  its JSON (`--json`)", f"{dump:.0f} ms", "", ""),
        (
            f"  rendering {len(files)} reports ({size:.1f} MB) with Jinja",
            f"{render:.0f} ms",
            "",
            "",
        ),
        ("  writing them into an empty directory (CPU)", f"{written:.0f} ms", "", ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per measurement")
    options = parser.parse_args()
    compileall.compile_dir(REPO / "claude_task_cli", quiet=1)
    claude_task = [sys.executable, "-m", "claude_task_cli"]

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        (project / ".git").mkdir(parents=True)
        os.environ["CLAUDE_TASK_CACHE_DIR"] = str(Path(tmp) / "cache")  # the processes' too
        (project / "docs" / "tasks").mkdir(parents=True)
        document = project / "docs" / "tasks" / "900_generated.md"
        document.write_text(generated_document(), encoding="utf-8")
        synthesise_run(document, project / ".claude-task" / "state.db")
        keep_document(project, "900")

        report = [*claude_task, "generate_report", "900"]
        reports = project / "docs" / "reports"
        fresh = process_s(  # exit code 1: the run is incomplete
            report, project, options.runs, ok=(1,), setup=lambda: set_aside(reports)
        )
        again = process_s(report, project, options.runs, ok=(1,))
        for what, (median, fastest, cpu) in (
            ("into an empty `docs/reports`", fresh),
            ("again, over the same reports (none rewritten)", again),
        ):
            rows.append(
                (
                    f"`generate_report 900`: every report of the 10,000-step run, {what}",
                    f"{median:.2f} s (min {fastest:.2f}; CPU {cpu:.2f})",
                    f"≤ {REPORT_TARGET_S:g} s",
                    "met" if median <= REPORT_TARGET_S else "NOT met",
                )
            )
        status = [*claude_task, "task_status", "900", "--json"]
        median, fastest, cpu = process_s(status, project, options.runs, ok=(0,))
        rows.append(
            (
                "`task_status 900 --json` of that run, whole process",
                f"{median:.2f} s (min {fastest:.2f}; CPU {cpu:.2f})",
                f"≤ {STATUS_TARGET_S:g} s",
                "met" if median <= STATUS_TARGET_S else "NOT met",
            )
        )
        rows.append(("where one process's time goes (CPU, best of the runs):", "", "", ""))
        rows.extend(stages(project, document, options.runs))
        helped, _, _ = process_s([*claude_task, "--help"], project, options.runs, ok=(0,))
        rows.append(("  for reference: `claude-task --help`", f"{helped * 1000:.0f} ms", "", ""))

    print("| measurement | result | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{conditions()}")


if __name__ == "__main__":
    main()
