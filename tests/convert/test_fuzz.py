"""Fuzzing the converter: hostile documents end in a JSON document or one domain error, in
bounded time and memory, never a traceback or a hang.

Two sources: hypothesis documents built from hostile pieces (deep nesting, long lines, NUL
bytes, stray bytes, other encodings), converted in this process, each under a time bound; and a
fixed set of generated pathological documents at full size, converted in one real process that
reports each outcome and its own peak memory (a hang there is cut by the process timeout).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.errors import TaskCliError

BOUND_SECONDS = 30  # each conversion; none below takes a second on a quiet machine
PEAK_MB = 800


def _bounded(work: Callable[[], Any], seconds: float = BOUND_SECONDS) -> Any:
    """`work()` in a thread that must finish within `seconds` (its exception re-raised)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised below, in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"conversion still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _convert_or_domain_error(data: bytes) -> None:
    try:
        json.loads(convert_bytes(data, "fuzz.md").to_json())
    except TaskCliError as exc:
        lines = exc.lines()
        assert lines
        assert all(line.startswith("fuzz.md") or "CLAUDE_TASK" in line for line in lines)


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_HOSTILE = st.one_of(
    st.builds(lambda n, w: "".join("  " * i + f"- [ ] {w}\n" for i in range(n)), st.integers(0, 70), _TEXT),
    st.builds(lambda n, w: ">" * n + f" - [ ] {w}\n", st.integers(0, 200), _TEXT),
    st.builds(lambda n: "  ```mcp\n  server: s\n  tool: t\n  args: {a: " + "[" * n + "]" * n + "}\n  ```\n", st.integers(0, 200)),
    st.builds(lambda n, c: c * n, st.integers(0, 5_000), st.sampled_from(["*", "`", "[", "|", "#", "-", ">", "\t", " ", "\\", "<", "~"])),
    st.builds(lambda n: "".join("### Task 1: x\n- [ ] 1.1 y\n" for _ in range(n)), st.integers(0, 50)),
    st.builds(lambda n: "```\n" + "- [ ] hidden\n" * n, st.integers(0, 50)),
    st.builds(lambda n: "| a |" + " b |" * n + "\n|---|" + "---|" * n + "\n" + "| c |\n" * n, st.integers(0, 60)),
    st.sampled_from(["# Task 1: x ⏳ Not Started", "### Task 2: y", "**Depends on**: Task 1-99999999", "- Depends on: 1.1, 9.9", "  - Depends on: " + ", ".join(f"1.{i}" for i in range(500)), "\x00", "\r", "\r\n", "\ufeff", "\u2028", "&#0;", "<!--", "<div>"]),
    _TEXT,
)  # fmt: skip
_ENCODINGS = st.sampled_from(
    ["utf-8", "utf-16", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-7"]
)


@st.composite
def hostile_documents(draw: st.DrawFn) -> bytes:
    text = "\n".join(draw(st.lists(_HOSTILE, max_size=10)))
    data = text.encode(draw(_ENCODINGS), errors="replace")
    if draw(st.booleans()):
        where = draw(st.integers(0, len(data)))
        data = data[:where] + draw(st.binary(max_size=64)) + data[where:]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents())
def test_hostile_documents_convert_or_fail_with_one_domain_error(data: bytes) -> None:
    _bounded(lambda: _convert_or_domain_error(data))


def _task(body: str) -> str:
    return "# Plan\n\n### Task 1: A\n\n- [ ] 1.1 step\n" + body


def pathological_documents() -> dict[str, bytes]:
    """Generated documents past every limit, and large enough for a recursion or a blow-up to
    show (how time grows with size is measured by benchmarks/bench_convert.py)."""
    noise = random.Random(17)
    texts = {
        "lists-nested-1000": "".join("  " * i + "- [ ] x\n" for i in range(1000)),
        "quotes-nested-100k": ">" * 100_000 + " - [ ] x\n",
        "quotes-by-line": "".join(">" * i + " x\n" for i in range(400)),
        "yaml-nested-40": _task(
            "  ```mcp\n  server: s\n  tool: t\n  args:\n"
            + "".join("  " * (d + 2) + f"k{d}:\n" for d in range(40))
            + "  ```\n"
        ),
        "yaml-nested-100k": _task(
            "  ```mcp\n  server: s\n  tool: t\n  args: {a: "
            + "[" * 100_000
            + "]" * 100_000
            + "}\n  ```\n"
        ),
        "yaml-alias-bomb": _task(
            "  ```mcp\n  server: s\n  tool: t\n  args:\n    a: &a [x, x]\n"
            + "".join(
                f"    {b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
                for a, b in zip("abcdefg", "bcdefgh", strict=True)
            )
            + "  ```\n"
        ),
        "yaml-many-placeholders": _task(
            '- [ ] 1.2 uses\n  ```mcp\n  server: s\n  tool: t\n  args: {a: "'
            + "${step:1.1/x}" * 10_000
            + '"}\n  ```\n'
        ),
        "line-2mb": "# Plan\n\n" + "word " * 400_000 + "\n",
        "heading-1mb": "# " + "x" * 1_000_000 + "\n",
        "checklist-item-1mb": _task("- [ ] 1.2 " + "y" * 1_000_000 + "\n"),
        "headings-10k": "# Plan\n\n" + "".join(f"## H{i}\n" for i in range(10_000)),
        "duplicate-ids-2k": "# Plan\n\n"
        + "### Task 1: again\n\n- [ ] 1.1 same\n- [ ] step\n" * 2_000,
        "unclosed-fence-20k-boxes": "# Plan\n\n```\n" + "- [ ] hidden\n" * 20_000,
        "dependencies-10k": _task(
            "  - Depends on: " + ", ".join(f"1.{i}" for i in range(2, 10_002)) + "\n"
        ),
        "dependency-range-huge": "# Plan\n\n### Task 2: B\n\n**Depends on**: Task 1-99999999\n",
        "task-chain-5k": "# Plan\n\n### Task 1: first\n"
        + "".join(f"### Task {i}: t\n**Depends on**: Task {i - 1}\n" for i in range(2, 5_001)),
        "task-cycle-5k": "# Plan\n\n"
        + "".join(
            f"### Task {i}: t\n**Depends on**: Task {i % 5_000 + 1}\n" for i in range(1, 5_001)
        ),
        "table-2k-columns": "# Plan\n\n## Usage\n\n"
        + "| c " * 2_000
        + "|\n"
        + "|---" * 2_000
        + "|\n"
        + "| x |\n" * 200,
        "stars-1m": "*" * 1_000_000,
        "backticks-1m": "`" * 1_000_000,
        "brackets-1m": "[" * 500_000 + "]" * 500_000,
        "lazy-lines": "> a\nb\n" * 10_000,
        "html-blocks": "<div>\n" * 20_000,
        "tabs-1m": "\t" * 1_000_000 + "- [ ] x\n",
        "carriage-returns": "# Plan\r" + "- [ ] x\r" * 10_000,
    }
    data = {name: text.encode("utf-8") for name, text in texts.items()}
    data.update(
        {
            "nul-first": b"\x00" * 100,
            "nul-after-64k": b"# Plan\n" + b"a" * 70_000 + b"\x00\x00\n- [ ] x\n",
            "utf-16": "# Task 1: x\n\n- [ ] 1.1 y\n".encode("utf-16"),
            "utf-32": "# Task 1: x\n\n- [ ] 1.1 y\n".encode("utf-32"),
            "shift-jis": "# タスク 1\n\n- [ ] 1.1 テスト\n".encode("shift_jis"),
            "random-bytes-200k": noise.randbytes(200_000),
            "invalid-utf8-everywhere": b"# Plan\n" + b"- [ ] \xff\xfe caf\xe9\n" * 5_000,
        }
    )
    return data


_REPORTER = """
import json, resource, sys, time, traceback
from pathlib import Path
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.errors import TaskCliError
for path in sorted(Path(sys.argv[1]).iterdir()):
    started = time.perf_counter()
    try:
        convert_file(path, path.name).to_json()
        outcome = "converted"
    except TaskCliError as exc:
        outcome = "error: " + exc.lines()[0]
    except BaseException:
        outcome = "CRASH " + traceback.format_exc()
    seconds = time.perf_counter() - started
    print(json.dumps({"name": path.name, "outcome": outcome, "seconds": seconds}), flush=True)
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")
def test_pathological_documents_in_a_real_process(tmp_path: Path) -> None:
    for name, data in pathological_documents().items():
        (tmp_path / f"{name}.md").write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _REPORTER, str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    *rows, peak = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(pathological_documents())
    crashes = [row for row in rows if row["outcome"].startswith("CRASH")]
    assert crashes == []
    slow = [(row["name"], round(row["seconds"], 1)) for row in rows if row["seconds"] > 30]
    assert slow == []
    assert peak["peak_mb"] < PEAK_MB
    outcome = {row["name"]: row["outcome"] for row in rows}
    assert outcome["lists-nested-1000.md"].endswith("nested deeper than 64 levels")
    assert outcome["yaml-nested-40.md"].endswith(":41: mcp block nested deeper than 32 levels")
    assert "nesting depth" in outcome["yaml-nested-100k.md"]  # libyaml's own limit, first
    assert "anchors and aliases" in outcome["yaml-alias-bomb.md"]
    assert outcome["task-cycle-5k.md"].startswith("error: task-cycle-5k.md:4: dependency cycle")
    assert outcome["utf-16.md"] == "error: utf-16.md: binary file: not a markdown task document"
    converted = ["headings-10k.md", "duplicate-ids-2k.md", "task-chain-5k.md", "lazy-lines.md"]
    assert {outcome[name] for name in converted} == {"converted"}


@pytest.mark.slow
def test_the_command_line_shows_one_line_per_bad_document(tmp_path: Path) -> None:
    small = {k: v for k, v in pathological_documents().items() if len(v) < 100_000}
    for name, data in small.items():
        (tmp_path / f"{name}.md").write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "convert_task", str(tmp_path), "--check"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    assert all(line.startswith(str(tmp_path)) for line in done.stderr.splitlines())
