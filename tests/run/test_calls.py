"""How a failing shell block is worded: its failing line named, and for an `sh` block whose last
line read closes a loop or block, that it is the end of one."""

from __future__ import annotations

from typing import Any

import pytest

from claude_task_cli.convert.model import Command
from claude_task_cli.run.calls import expected_of, failed_block


def block(lang: str) -> Command:
    return Command(lang=lang, script="…\n", line=6)


def result(line: int | None, text: str | None, code: int = 1) -> dict[str, Any]:
    return {"exit_code": code, "failed_line": line, "failed_command": text, "timed_out": False}


@pytest.mark.parametrize(
    ("lang", "line", "text", "expected"),
    [
        ("bash", 2, "false", "'false' at line 8 (the bash block at line 6) exits 0"),
        ("sh", 2, "test -e x", "'test -e x' at line 8 (the sh block at line 6) exits 0"),
        ("sh", 4, "done", "the loop or block ending at line 10 ('done') (the sh block at line 6) exits 0"),
        ("sh", 4, "fi > log", "the loop or block ending at line 10 ('fi > log') (the sh block at line 6) exits 0"),
        ("sh", 4, "};", "the loop or block ending at line 10 ('};') (the sh block at line 6) exits 0"),
        ("bash", 4, "done", "'done' at line 10 (the bash block at line 6) exits 0"),  # bash names the command
        ("sh", 4, "donel", "'donel' at line 10 (the sh block at line 6) exits 0"),
        ("sh", None, None, "the sh block at line 6 exits 0"),
    ],
)  # fmt: skip
def test_the_failing_line_is_worded(
    lang: str, line: int | None, text: str | None, expected: str
) -> None:
    assert expected_of(block(lang), result(line, text)) == expected


def test_a_failed_block_says_its_exit_code_or_its_timeout() -> None:
    assert failed_block(block("sh"), result(2, "false")) == (
        "'false' at line 8 (the sh block at line 6) exited 1"
    )
    timed_out = {**result(None, None, -9), "timed_out": True}
    assert failed_block(block("bash"), timed_out) == (
        "the bash block at line 6 ran out of time and was killed"
    )
