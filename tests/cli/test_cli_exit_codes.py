"""Every exit code the CLI can end with is documented: in README's table and in `--help`."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from claude_task_cli.board import NOTHING_READY
from claude_task_cli.cli.app import app
from claude_task_cli.errors import ExitCode
from tests.support import REPO

CODES = {int(code) for code in ExitCode} | {NOTHING_READY}
SIGNALS = {ExitCode.INTERRUPTED, ExitCode.TERMINATED}  # a run's only: README and execute_task


def test_readme_documents_every_exit_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| ([\d /]+) \|", table, re.M)
    documented = {int(code) for row in rows for code in row.split("/")}
    assert documented == CODES


def test_help_names_every_exit_code_but_the_signals_of_a_run() -> None:
    shown = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    line = " ".join(shown.split("Exit codes:", 1)[1].split("\n\n", 1)[0].split())
    named = {int(code) for code in re.findall(r"(?:^|, )(\d+) ", line)}
    assert named == CODES - SIGNALS
    assert "130" in CliRunner().invoke(app, ["execute_task", "--help"]).output
