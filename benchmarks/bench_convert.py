"""convert_task benchmarks (issue 2 targets). Run: `.venv/bin/python benchmarks/bench_convert.py`.

Prints a markdown table: measurement, result, target, verdict. Whole-process numbers include the
interpreter's start-up, as a user sees them.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "docs" / "tasks" / "003_test_mcp.md"


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


def median_ms(fn: object, runs: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def process_ms(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def peak_rss_mb(document: Path) -> tuple[float, float]:
    """Convert in a fresh process; (seconds for the conversion, peak RSS in MB of that process)."""
    code = (
        "import sys, time; from pathlib import Path; from claude_task_cli.convert.converter import convert_file\n"
        "t = time.perf_counter(); d = convert_file(Path(sys.argv[1])); d.to_json()\n"
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(document)], capture_output=True, text=True, check=True
    )
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return float(done.stdout), rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="repetitions for medians")
    options = parser.parse_args()

    from markdown_it import MarkdownIt

    from claude_task_cli.convert.converter import convert_file

    text = SEED.read_text(encoding="utf-8")
    rows: list[tuple[str, str, str, str]] = []
    convert_file(SEED)  # warm-up
    seed_ms = median_ms(lambda: convert_file(SEED), options.runs * 5)
    rows.append(
        (
            "seed document, in-process convert_file (median)",
            f"{seed_ms:.2f} ms",
            "≤ 10 ms",
            _ok(seed_ms <= 10),
        )
    )
    md = MarkdownIt("commonmark")
    rows.append(
        (
            "  for reference: markdown-it-py `parse` of the seed",
            f"{median_ms(lambda: md.parse(text), options.runs * 3):.2f} ms",
            "",
            "",
        )
    )
    blocks = MarkdownIt("commonmark")
    blocks.core.ruler.disable(["inline", "text_join"])
    rows.append(
        (
            "  for reference: markdown-it-py block rules only",
            f"{median_ms(lambda: blocks.parse(text), options.runs * 3):.2f} ms",
            "",
            "",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "generated.md"
        big.write_text(generated_document(), encoding="utf-8")
        gc.collect()
        results = [peak_rss_mb(big) for _ in range(5)]
        seconds = statistics.median(r[0] for r in results)
        rss = max(r[1] for r in results)
        size = big.stat().st_size / 1e6
        rows.append(
            (
                f"10,000 steps / 2,000 tasks ({size:.2f} MB), convert + JSON (median of 5)",
                f"{seconds * 1000:.0f} ms",
                "≤ 1 s",
                _ok(seconds <= 1),
            )
        )
        rows.append(("  peak RSS of that process", f"{rss:.0f} MB", "≤ 300 MB", _ok(rss <= 300)))

        exe = shutil.which("claude-task") or str(Path(sys.executable).parent / "claude-task")
        out = Path(tmp) / "out.json"
        convert = process_ms([exe, "convert_task", str(SEED), "-o", str(out)], options.runs)
        rows.append(
            (
                "`claude-task convert_task <seed> -o out.json` whole process (median)",
                f"{convert:.0f} ms",
                "≤ 250 ms",
                _ok(convert <= 250),
            )
        )
        helptime = process_ms([exe, "--help"], options.runs)
        rows.append(
            (
                "`claude-task --help` whole process (median)",
                f"{helptime:.0f} ms",
                "≤ 150 ms",
                _ok(helptime <= 150),
            )
        )
        bare = process_ms([sys.executable, "-c", "pass"], options.runs)
        rows.append(("  for reference: `python -c pass`", f"{bare:.0f} ms", "", ""))

    print("| measurement | result | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    main()
