"""The CLI door: convert_task and schema through typer's CliRunner, plus one real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from claude_task_cli import __version__
from claude_task_cli.cli.app import app

GOLDEN = Path(__file__).resolve().parent.parent / "convert" / "golden"
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("003_test_mcp.md", "bindings.md", "plan.md"):
        shutil.copy(GOLDEN / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_convert_writes_json_beside_the_document(workdir: Path) -> None:
    result = runner.invoke(app, ["convert_task", "003_test_mcp.md"])
    assert result.exit_code == 0, result.output
    written = json.loads((workdir / "003_test_mcp.json").read_text())
    assert written["source"]["path"] == "003_test_mcp.md"
    assert (
        "converted 003_test_mcp.md -> 003_test_mcp.json (5 tasks, 28 steps, 0 warnings)"
        in result.stdout
    )


def test_dashed_spelling_and_output_file(workdir: Path) -> None:
    result = runner.invoke(app, ["convert-task", "bindings.md", "-o", "out/graph.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "out" / "graph.json").read_text())["id"] == "010"


def test_directory_input_and_output_directory(workdir: Path) -> None:
    result = runner.invoke(app, ["convert_task", ".", "-o", "graphs", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["source"] for r in rows] == ["003_test_mcp.md", "bindings.md", "plan.md"]
    assert sorted(p.name for p in (workdir / "graphs").iterdir()) == [
        "003_test_mcp.json", "bindings.json", "plan.json",
    ]  # fmt: skip


def test_stdout_prints_the_same_json_as_the_golden_file(workdir: Path) -> None:
    result = runner.invoke(app, ["convert_task", "bindings.md", "--stdout", "-q"])
    assert result.exit_code == 0
    expected = json.loads((GOLDEN / "bindings.json").read_text())
    expected["source"]["path"] = "bindings.md"
    assert json.loads(result.stdout) == expected
    assert not (workdir / "bindings.json").exists()
    several = runner.invoke(app, ["convert_task", "bindings.md", "plan.md", "--stdout", "-q"])
    assert [d["source"]["path"] for d in json.loads(several.stdout)] == ["bindings.md", "plan.md"]


def test_warnings_go_to_stderr_with_their_line(workdir: Path) -> None:
    result = runner.invoke(app, ["convert_task", "plan.md", "--check"])
    assert result.exit_code == 0
    assert result.stdout == ""
    result = runner.invoke(app, ["convert_task", "plan.md", "--stdout"])
    assert "plan.md:1: warning: no `Task N:` headings" in result.stderr


def test_check_and_errors(workdir: Path) -> None:
    (workdir / "bad.md").write_text("# T\n\n### Task 1: A\n**Depends on**: Task 4\n")
    result = runner.invoke(app, ["convert_task", "bad.md", "--check"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "bad.md:4: Task 1 depends on Task 4, which does not exist"
    assert result.stdout == ""


def test_one_bad_document_does_not_lose_the_others(workdir: Path) -> None:
    (workdir / "bad.md").write_text("# T\n\n### Task 1: A\n**Depends on**: Task 1\n")
    result = runner.invoke(app, ["convert_task", "bad.md", "plan.md"])
    assert result.exit_code == 2
    assert "bad.md:4: dependency cycle: Task 1 → Task 1" in result.stderr
    assert (workdir / "plan.json").exists()
    assert not (workdir / "bad.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.md"], "missing.md: no such file"),
        (["empty"], "empty: directory has no *.md task documents"),
        (["blank.md"], "blank.md: empty file: no task document to convert"),
        (["image.md"], "image.md: binary file: not a markdown task document"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(workdir: Path, args: list[str], message: str) -> None:
    (workdir / "empty").mkdir()
    (workdir / "blank.md").write_text("\n")
    (workdir / "image.md").write_bytes(b"\x89PNG\x00\x00")
    result = runner.invoke(app, ["convert_task", *args])
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert "Traceback" not in result.output


def test_preview_writes_nothing(workdir: Path) -> None:
    result = runner.invoke(app, ["convert_task", "bindings.md", "--preview"])
    assert result.exit_code == 0
    assert "waves: [1]  [2, 3]  [4]" in result.stdout
    assert "  on a failure: what depends on it is skipped, the rest still runs" in result.stdout
    assert "tool bindings 3, commands 3" in result.stdout
    assert not (workdir / "bindings.json").exists()
    data = json.loads(
        runner.invoke(app, ["convert_task", "bindings.md", "--preview", "--json"]).stdout
    )
    assert data[0]["roots"] == ["1"]
    assert data[0]["counts"]["steps"] == 11


def test_schema_validates_converted_output(workdir: Path) -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert next(iter(schema.items())) == ("$schema", "https://json-schema.org/draft/2020-12/schema")
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads((GOLDEN / "003_test_mcp.json").read_text())
    jsonschema.validate(document, schema)


def test_version_and_help() -> None:
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"claude-task {__version__}"
    helptext = runner.invoke(app, ["convert_task", "--help"]).stdout
    assert "Examples:" in helptext
    assert "--preview" in helptext


def test_internal_errors_are_one_line_and_logged(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import claude_task_cli.convert.converter as core

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(core, "convert_file", explode)
    result = runner.invoke(app, ["convert_task", "plan.md"])
    assert result.exit_code == 70
    assert result.stderr.startswith("internal error: boom (traceback in ")
    log = Path(result.stderr.split("traceback in ")[1].split(";")[0])
    assert "RuntimeError: boom" in log.read_text()


@pytest.mark.slow
def test_console_script_in_a_real_process(workdir: Path) -> None:
    script = shutil.which("claude-task") or str(Path(sys.executable).parent / "claude-task")
    done = subprocess.run(
        [script, "convert_task", "003_test_mcp.md", "-o", "seed.json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((workdir / "seed.json").read_text())["id"] == "003"
    module = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "convert_task", "missing.md"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (module.returncode, module.stderr.strip()) == (2, "missing.md: no such file")


def test_output_directory_keeps_each_file_path_relative_to_its_input_directory(
    workdir: Path,
) -> None:
    for sub, name in (("a", "plan.md"), ("b", "bindings.md")):
        (workdir / "docs" / sub).mkdir(parents=True)
        shutil.copy(workdir / name, workdir / "docs" / sub / "x.md")
    result = runner.invoke(app, ["convert_task", "docs", "-o", "out", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "out" / "a" / "x.json").read_text())["tasks"] == []
    assert json.loads((workdir / "out" / "b" / "x.json").read_text())["id"] == "010"
    assert not (workdir / "out" / "x.json").exists()


def test_two_inputs_that_would_write_one_file_are_refused_before_writing(workdir: Path) -> None:
    for sub in ("a", "b"):
        (workdir / sub).mkdir()
        shutil.copy(workdir / "plan.md", workdir / sub / "x.md")
    result = runner.invoke(app, ["convert_task", "plan.md", "a/x.md", "b/x.md", "-o", "out"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "out/x.json: a/x.md and b/x.md would both be written here; nothing written "
        "(convert them separately or pass their directory)"
    )
    assert not (workdir / "out").exists()
    # the same file named twice is converted once, not refused
    result = runner.invoke(app, ["convert_task", "plan.md", ".", "-o", "out", "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(row["source"] for row in json.loads(result.stdout)) == [
        "003_test_mcp.md", "a/x.md", "b/x.md", "bindings.md", "plan.md",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stdout", "-o", "fresh.json"], "--stdout writes no file: it cannot be combined with"),
        (["--check", "--preview"], "--check and --preview cannot be combined: choose one"),
        (["--stdout", "--check"], "--stdout and --check cannot be combined: choose one"),
        (["--preview", "-o", "out"], "--preview writes no file: it cannot be combined with"),
        (["--check", "--json"], "--json is for the summary or --preview: not with --check"),
    ],
)
def test_conflicting_options_are_refused(workdir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["convert_task", "plan.md", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "fresh.json").exists()
    assert not (workdir / "plan.json").exists()


def test_symlink_loop_and_dangling_link_are_input_errors(workdir: Path) -> None:
    (workdir / "l1.md").symlink_to("l2.md")
    (workdir / "l2.md").symlink_to("l1.md")
    (workdir / "gone.md").symlink_to("nowhere.md")
    result = runner.invoke(app, ["convert_task", "l1.md", "gone.md", "--check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "l1.md: cannot read: Too many levels of symbolic links",
        "gone.md: no such file (a symbolic link to a missing file)",
    ]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("/proc/nope/", "/proc/nope/plan.json: cannot write: No such file or directory"),
        ("/dev/full", "/dev/full: exists and is not a directory (-o names a directory, or a"),
        ("plan.md/x.json", "plan.md/x.json: cannot write: a parent is not a directory"),
    ],
)
def test_an_output_that_cannot_be_written_is_exit_4(
    workdir: Path, output: str, message: str
) -> None:
    if output.startswith("/") and not Path(output).parent.exists():
        pytest.skip(f"{output} needs Linux /proc and /dev")
    result = runner.invoke(app, ["convert_task", "plan.md", "-o", output, "-q"])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output


def test_convert_task_logs_errors_warnings_and_one_line_per_document(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path_factory.mktemp("convert-logs")
    monkeypatch.setenv("CLAUDE_TASK_LOG_DIR", str(logs))
    assert runner.invoke(app, ["convert_task", "003_test_mcp.md"]).exit_code == 0
    assert not (logs / "claude-task.log").exists()  # a clean run logs nothing (start-up cost)
    (workdir / "bad.md").write_text("# T\n\n### Task 1: A\n**Depends on**: Task 4\n")
    result = runner.invoke(app, ["convert_task", "bad.md", "plan.md", "003_test_mcp.md"])
    assert result.exit_code == 2
    log = (logs / "claude-task.log").read_text()
    assert "ERROR" in log
    assert "convert_task: bad.md:4: Task 1 depends on Task 4" in log
    assert "WARNING" in log
    assert "convert_task: plan.md:1: no `Task N:` headings" in log
    assert "convert_task: 003_test_mcp.md -> 003_test_mcp.json: 5 tasks, 28 steps, 0 warn" in log
    assert result.stderr.count("no `Task N:` headings") == 1  # logged, not shown twice
