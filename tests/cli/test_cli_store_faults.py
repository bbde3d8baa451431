"""A state database that cannot be used — corrupt, truncated, a directory in its place,
read-only, on a full disk — is one line and exit 4 from every command that reads or writes it,
task_status included; and what was recorded before the fault is all there once it is gone.

Read-only: as root (who ignores file modes) a read-only bind mount of the state directory, else
`chmod`. Disk full: the command runs under `RLIMIT_FSIZE` (no file may grow past the limit, as
on a full disk; it needs no privilege), with the log file on /dev/null, which the limit does not
reach — the state database is what the test is about.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.store import Store
from tests.support import CLI, COMMAND_SERVER, stdio, write_mcp_json

runner = CliRunner()

DOCUMENT = """# Task 90: Faults

### Task 1: Work

- [ ] 1.1 A command
  ```bash
  echo one
  ```
- [ ] 1.2 A person's check
  - Look at it
- [ ] 1.3 After it
  ```bash
  echo three
  ```
"""

COMMANDS = [
    ["execute_task", "task.md", "-q"],
    ["record_step", "task.md", "1.2", "--done"],
    ["task_status", "task.md"],
    ["generate_report", "task.md", "--stdout"],
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A project whose run paused at 1.2 (1.1 completed), and its state database's bytes."""
    project = tmp_path_factory.mktemp("faults")
    write_mcp_json(project, {"cmd": stdio(COMMAND_SERVER)})
    (project / "task.md").write_text(DOCUMENT, encoding="utf-8")
    with contextlib.chdir(project):
        ran = runner.invoke(app, ["execute_task", "task.md", "-q"])
    assert ran.exit_code == 3, ran.output
    return project, (project / ".claude-task" / "state.db").read_bytes()


@pytest.fixture
def project(recorded: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The recorded project, its state as recorded (the previous test's fault undone)."""
    path, state = recorded
    directory = path / ".claude-task"
    directory.chmod(0o755)
    if (directory / "state.db").is_dir():
        (directory / "state.db").rmdir()
    for extra in directory.glob("state.db-*"):
        extra.unlink()
    (directory / "state.db").write_bytes(state)
    (directory / "state.db").chmod(0o644)
    monkeypatch.chdir(path)
    yield path
    shutil.rmtree(path / "docs", ignore_errors=True)


def one_line_exit_4(args: list[str]) -> str:
    result = runner.invoke(app, args)
    lines = result.stderr.strip().splitlines()
    assert (result.exit_code, len(lines)) == (4, 1), (args, result.exit_code, result.stderr)
    return lines[0]


def nothing_lost(project: Path) -> None:
    """Once the fault is gone, the run is there as recorded: 1.1 completed, 1.2 waiting."""
    shown = runner.invoke(app, ["task_status", "task.md", "--json"])
    steps = {s["id"]: s["state"] for s in json.loads(shown.stdout)["steps"]}
    assert steps == {"1.1": "completed", "1.2": "awaiting_client", "1.3": "not_run"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("corrupt", "cannot open the state database: file is not a database"),
        ("truncated", "cannot open the state database: database disk image is malformed"),
        ("directory", "cannot open the state database: it is a directory"),
    ],
)
def test_a_damaged_database_is_one_line_from_every_command(
    project: Path, fault: str, said: str
) -> None:
    state = project / ".claude-task" / "state.db"
    if fault == "corrupt":
        with state.open("r+b") as file:
            file.write(b"not a database at all" * 5)
    elif fault == "truncated":
        with state.open("r+b") as file:
            file.truncate(state.stat().st_size // 2)
    else:
        state.unlink()
        state.mkdir()
    for args in COMMANDS:
        assert one_line_exit_4(args) == f"{state}: {said}"


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        for path in (directory / "state.db", directory):
            path.chmod(0o555 if path.is_dir() else 0o444)
        yield
        return
    mount = ["mount", "--bind", str(directory), str(directory)]
    if subprocess.run(mount, check=False, capture_output=True).returncode != 0:
        pytest.skip("root, but no bind mount here to make a read-only directory")
    try:
        remount = ["mount", "-o", "remount,ro,bind", str(directory)]
        subprocess.run(remount, check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True, capture_output=True)


@pytest.mark.slow
def test_a_read_only_database_is_one_line_from_every_command(project: Path) -> None:
    directory = project / ".claude-task"
    with read_only(directory):
        for args in COMMANDS:
            line = one_line_exit_4(args)
            assert line.startswith(f"{directory / 'state.db'}: cannot open the state database: ")
            assert line.endswith("is read-only)")
    nothing_lost(project)


def limited(project: Path, args: list[str], limit: int, log_dir: Path) -> list[str]:
    """Run a command where no file may grow past `limit` bytes: its exit code, then its stderr
    lines."""

    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "CLAUDE_TASK_LOG_DIR": str(log_dir), "NO_COLOR": "1"}
    done = subprocess.run(
        [*CLI, *args],
        cwd=project,
        env=env,
        preexec_fn=set_limit,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [str(done.returncode), *done.stderr.strip().splitlines()]


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_loses_nothing(project: Path, tmp_path: Path) -> None:
    (tmp_path / "claude-task.log").symlink_to(os.devnull)
    state = project / ".claude-task" / "state.db"
    # Smaller than the WAL index SQLite keeps beside the database: not even a read.
    for args in COMMANDS:
        code, *lines = limited(project, args, 16384, tmp_path)
        assert (code, lines) == ("4", [f"{state}: cannot open the state database: disk I/O error"])
    nothing_lost(project)
    # Room for the index and a few pages: a new run starts, then a write finds the disk full.
    code, *lines = limited(
        project, ["execute_task", "task.md", "--no-resume", "-q"], 36864, tmp_path
    )
    assert (code, lines) == ("4", [f"{state}: cannot write the state database: disk I/O error"])
    with Store(state) as store:
        first, second = store.runs()
        kept = {step: s.status for step, s in store.step_states(first.id).items()}
        started = {step: s.status for step, s in store.step_states(second.id).items()}
    assert kept == {"1.1": "completed", "1.2": "awaiting_client"}  # run 1, as it was
    # What run 2 made durable before a write found the disk full — in the database, or in the step
    # journal the next store applied: its first step at least started; nothing is half-recorded.
    assert started in (
        {"1.1": "running"},
        {"1.1": "completed"},
        {"1.1": "completed", "1.2": "awaiting_client"},
    )
    assert not list(state.parent.glob("state.db-steps-*"))
    resumed = runner.invoke(app, ["execute_task", "task.md"])  # room again: run 2 resumes
    assert resumed.exit_code == 3, resumed.output
    assert resumed.stdout.startswith("run 2 paused")
