"""A new user's first minutes, for real: the wheel built from this tree, installed without extras
into a fresh virtual environment, `claude-task init` in an empty folder, and the starter it
writes executed — it pauses for the person's step (exit 3), `record_step … --done` completes it.

Slow (a wheel build and an install of the dependencies, from pip's cache when it has them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

pytestmark = pytest.mark.slow


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel of this tree and its dependencies, nothing else."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = scratch / "source"  # a copy: building in the tree would leave build/ behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "claude_task_cli", source / "claude_task_cli",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_TASK_PYTHON")}
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", ".", "-w", str(scratch)],
        source,
        env,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = scratch.glob("claude_task_cli-*.whl")
    venv = scratch / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], scratch, env)
    assert made.returncode == 0, made.stderr
    pip = run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], scratch, env
    )
    assert pip.returncode == 0, pip.stderr
    return venv


def test_init_then_the_starter_runs_from_a_plain_install(installed: Path, tmp_path: Path) -> None:
    claude = str(installed / "bin" / "claude-task")
    env = {
        k: v for k, v in os.environ.items() if k not in ("CLAUDE_TASK_PYTHON", "CLAUDE_TASK_STATE")
    }
    env["NO_COLOR"] = "1"
    no_extras = run(
        [str(installed / "bin" / "python"), "-c", "import mcp_server_time"], tmp_path, env
    )
    assert "No module named 'mcp_server_time'" in no_extras.stderr  # nothing but the package

    project = tmp_path / "fresh"
    project.mkdir()
    init = run([claude, "init"], project, env)
    assert init.returncode == 0, init.stderr
    assert "created   docs/tasks/starter.md" in init.stdout

    paused = run([claude, "execute_task", "starter"], project, env)
    assert paused.returncode == 3, paused.stdout + paused.stderr
    assert "run 1 paused: 1 awaiting_client, 3 completed" in paused.stdout
    assert "- 2.1 Look at what the run recorded" in paused.stdout

    done = run(
        [claude, "record_step", "starter", "2.1", "--done", "--note", "read it"], project, env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "recorded step 2.1 as done; run 1 is completed\n"

    status = run([claude, "task_status", "starter", "--json"], project, env)
    assert status.returncode == 0, status.stderr
    assert '"verdict":"COMPLETE"' in status.stdout.replace(" ", "")
