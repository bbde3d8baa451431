"""convert_task benchmarks: the targets of issue 16 §5-6 and issue 17 §3, as ratios in one run.

Run: `.venv/bin/python benchmarks/bench_convert.py` (`--quick` for smaller documents and fewer
repetitions, to try it out; the targets are stated for the default sizes).

Each ratio compares two measurements taken alternately in the same run (A, B, A, B, ...) and is
the median of the per-pair ratios, so load on the machine affects both sides alike. Whole-process
numbers include the interpreter's start-up, as a user sees them. Prints a markdown table:
measurement, result, target, verdict.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "task-003-orchestration-spec.md"
if not SEED.is_file():
    SEED = REPO / "docs" / "tasks" / "003_test_mcp.md"
# The generated documents of the largest sizes exceed the default 10 MiB document limit.
LIMIT = {"CLAUDE_TASK_MAX_DOCUMENT_BYTES": str(1 << 30)}


def generated_document(
    tasks: int = 2000, steps_per_task: int = 5, *, blocks: bool = False, placeholders: bool = False
) -> str:
    """A document with tasks × steps checklist steps; each task depends on the two before it.

    `blocks`: an ```mcp block on every step; `placeholders`: each block's arguments name the step
    before it (`${step:…}`), which the converter checks is an earlier step."""
    lines = [
        "# Task 900: Generated benchmark document ⏳ Not Started",
        "",
        "**Objective**: size test",
        "",
    ]
    previous = ""
    for t in range(1, tasks + 1):
        lines += [f"### Task {t}: Generated task {t} ⏳ Not Started", ""]
        lines += ["**Priority**: HIGH | **Complexity**: LOW | **Impact**: LOW", ""]
        if t > 1:
            lines += [f"**Depends on**: Task {t - 1}" + (f", Task {t - 2}" if t > 2 else ""), ""]
        lines += ["**Implementation Steps**:", ""]
        for s in range(1, steps_per_task + 1):
            lines += [f"- [ ] {t}.{s} Step {s} of task {t}", f"  - a detail line for {t}.{s}"]
            if s == 2:
                lines += [f"  - Depends on: {t}.1"]
            if blocks or placeholders:
                value = f"${{step:{previous}/text}}" if placeholders and previous else "UTC"
                lines += [
                    "  ```mcp",
                    "  server: time",
                    "  tool: get_current_time",
                    f'  args: {{timezone: "{value}"}}',
                    "  ```",
                ]
            previous = f"{t}.{s}"
        lines += [""]
    return "\n".join(lines) + "\n"


def headings_document(count: int) -> str:
    """A plan of `count` section headings, each with a line of text (no tasks)."""
    return "# Plan\n\n" + "".join(f"## Part {n}\n\ntext {n}\n\n" for n in range(count))


def paired_ratio(
    a: Callable[[], float], b: Callable[[], float], pairs: int
) -> tuple[float, float, float]:
    """(median a, median b, median of a/b), the two measured alternately."""
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(pairs):
        times_a.append(a())
        times_b.append(b())
    ratios = [x / y for x, y in zip(times_a, times_b, strict=True)]
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def process(args: list[str]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    return run


def timed(work: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    return run


_CONVERT_IN_A_PROCESS = (
    "import resource, sys; from pathlib import Path\n"
    "from claude_task_cli.convert import convert_file\n"
    "convert_file(Path(sys.argv[1])).to_json()\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def peak_mb(document: Path) -> float:
    """Peak RSS (MB) of a fresh process that converts `document` and writes its JSON text."""
    done = subprocess.run(
        [sys.executable, "-c", _CONVERT_IN_A_PROCESS, str(document)],
        capture_output=True, text=True, check=True, env={**os.environ, **LIMIT},
    )  # fmt: skip
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller documents, fewer runs")
    options = parser.parse_args()
    quick = options.quick
    pairs = 5 if quick else 11
    os.environ.update(LIMIT)

    from markdown_it import MarkdownIt

    from claude_task_cli.convert import convert_file

    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, ratio: float, target: float, detail: str) -> None:
        rows.append((name, f"{ratio:.2f}× ({detail})", f"≤ {target}×", _ok(ratio <= target)))

    # this interpreter's own console script: one found on PATH first may be another install's,
    # or a version manager's shim that adds a process of its own
    beside = Path(sys.executable).parent / "claude-task"
    exe = str(beside) if beside.exists() else shutil.which("claude-task") or "claude-task"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        a, b, ratio = paired_ratio(
            process([exe, "convert_task", str(SEED), "-o", str(out)]),
            process([sys.executable, "-c", "import typer, pydantic, markdown_it"]),
            pairs,
        )
        row(f"`convert_task {SEED.name} -o out.json` / `python -c \"import typer, pydantic, markdown_it\"`",
            ratio, 1.25, f"{a * 1000:.0f} / {b * 1000:.0f} ms")  # fmt: skip
        a, b, ratio = paired_ratio(
            process([exe, "--help"]), process([sys.executable, "-c", "import typer"]), pairs
        )
        row("`claude-task --help` / `python -c \"import typer\"`", ratio, 1.5,
            f"{a * 1000:.0f} / {b * 1000:.0f} ms")  # fmt: skip

        tasks = 400 if quick else 2000
        plain = Path(tmp) / "plain.md"
        plain.write_text(generated_document(tasks), encoding="utf-8")
        text = plain.read_text(encoding="utf-8")
        md = MarkdownIt()
        convert_file(plain)  # warm-up: imports, the parser's set-up
        a, b, ratio = paired_ratio(
            timed(lambda: convert_file(plain).to_json()), timed(lambda: md.parse(text)), 3
        )
        row(f"{tasks * 5:,}-step document: convert_file + JSON / `MarkdownIt().parse` (in-process)",
            ratio, 1.5, f"{a * 1000:.0f} / {b * 1000:.0f} ms")  # fmt: skip
        rss = max(peak_mb(plain) for _ in range(3))
        rows.append(("  peak RSS converting it in a fresh process", f"{rss:.0f} MB", "≤ 300 MB",
                     _ok(rss <= 300)))  # fmt: skip

        with_blocks = Path(tmp) / "blocks.md"
        with_blocks.write_text(generated_document(tasks, blocks=True), encoding="utf-8")
        convert_file(with_blocks)
        a, b, ratio = paired_ratio(
            timed(lambda: convert_file(with_blocks).to_json()),
            timed(lambda: convert_file(plain).to_json()),
            3,
        )
        row(f"{tasks * 5:,} steps, an ```mcp block on each / the same without blocks", ratio, 3,
            f"{a * 1000:.0f} / {b * 1000:.0f} ms")  # fmt: skip

        big = 4000 if quick else 20000
        literal = Path(tmp) / "literal.md"
        literal.write_text(generated_document(big, blocks=True), encoding="utf-8")
        referring = Path(tmp) / "placeholders.md"
        referring.write_text(generated_document(big, placeholders=True), encoding="utf-8")
        bare = Path(tmp) / "bare.md"
        bare.write_text(generated_document(big), encoding="utf-8")
        with_refs, without = peak_mb(referring), peak_mb(literal)
        row(f"{big * 5:,} steps, peak RSS: a `${{step:…}}` placeholder in every block / literal values",
            with_refs / without, 1.2, f"{with_refs:.0f} / {without:.0f} MB")  # fmt: skip
        no_blocks = peak_mb(bare)
        rows.append((f"  for reference: the same {big * 5:,} steps without any block",
                     f"{no_blocks:.0f} MB (with placeholders: {with_refs / no_blocks:.2f}× this)",
                     "", ""))  # fmt: skip

        small_count, large_count = (2_000, 20_000) if quick else (10_000, 100_000)
        small = Path(tmp) / "headings-small.md"
        small.write_text(headings_document(small_count), encoding="utf-8")
        large = Path(tmp) / "headings-large.md"
        large.write_text(headings_document(large_count), encoding="utf-8")
        convert_file(small)
        a, b, ratio = paired_ratio(
            timed(lambda: convert_file(large)), timed(lambda: convert_file(small)), 3
        )
        row(f"{large_count:,} headings / {small_count:,} headings (linear: 10×)", ratio, 15,
            f"{a * 1000:.0f} / {b * 1000:.0f} ms")  # fmt: skip

    print("| measurement | result | target | verdict |")
    print("|---|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average at the end: {load:.1f}; "
          f"this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    main()
