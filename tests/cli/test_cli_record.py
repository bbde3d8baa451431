"""`record_step`'s ways to say what happened to a step done outside: `--done [--note TEXT]`,
`--fail TEXT`, `--result JSON|@FILE`, and the one-line refusals of what does not fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import write_mcp_json

runner = CliRunner()

DOCUMENT = """# Sign-offs

## Task 1: People

- [ ] 1.1 A person reads the notes
- [ ] 1.2 [P] A person checks the numbers
- [ ] 1.3 [P] An agent summarises them
"""


@pytest.fixture
def paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose run of `signoffs` waits on its three steps (no server needed)."""
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    (tmp_path / "docs" / "tasks" / "signoffs.md").write_text(DOCUMENT)
    write_mcp_json(tmp_path, {})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["execute_task", "signoffs"])
    assert result.exit_code == 3, result.output
    return tmp_path


def test_done_with_a_note_and_a_result_from_a_file(paused: Path) -> None:
    done = runner.invoke(app, ["record_step", "signoffs", "1.1", "--done", "--note", "read"])
    assert (done.exit_code, done.stdout) == (0, "recorded step 1.1 as done; run 1 is paused\n")
    (paused / "summary.txt").write_text("three numbers, all fine\n")
    given = runner.invoke(app, ["record_step", "signoffs", "1.3", "--result", "@summary.txt"])
    assert given.exit_code == 0, given.output
    assert given.stdout == "recorded the result of step 1.3; run 1 is paused\n"
    failed = runner.invoke(app, ["record_step", "signoffs", "1.2", "--fail", "a sum is off"])
    assert (failed.exit_code, failed.stdout) == (
        0,
        "recorded the failure of step 1.2; run 1 is failed\n",
    )
    run = json.loads(runner.invoke(app, ["execute_task", "signoffs", "--json"]).stdout)
    recorded = {r["step_id"]: r for r in run["results"]}
    assert recorded["1.1"]["result"] == {"done": True, "note": "read"}
    assert recorded["1.3"]["result"] == "three numbers, all fine\n"
    assert recorded["1.2"]["status"] == "failed"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give exactly one of --done, --result or --fail"),
        (["--done", "--fail", "x"], "give exactly one of --done, --result or --fail"),
        (["--note", "hm"], "give exactly one of --done, --result or --fail"),
        (
            ["--fail", "x", "--note", "hm"],
            "--note goes with --done (a failure's message is --fail's TEXT)",
        ),
        (["--result", "@missing.json"], "missing.json: no such file (--result @FILE)"),
        (
            ["--result", "yes"],
            "--result: not valid JSON (Expecting value: line 1 column 1 (char 0)); a step done "
            "by a person takes --done [--note TEXT], a file takes --result @FILE",
        ),
    ],
)
def test_what_does_not_fit_is_one_line(paused: Path, argv: list[str], message: str) -> None:
    result = runner.invoke(app, ["record_step", "signoffs", "1.1", *argv])
    assert (result.exit_code, result.stderr) == (2, message + "\n")
