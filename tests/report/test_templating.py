"""Templates: project overrides file by file, jinja2's sandbox strict about names, errors that
name the template's file and line, and templates given plain data only — probed from a project's
own overrides of every packaged template with the calls that escaped the sandbox when they were
given objects."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.errors import ReportError
from claude_task_cli.report import render as render_module
from claude_task_cli.report.render import Reports, render_matrix, render_reports
from claude_task_cli.report.templating import environment, template_search
from tests.report.regen_reports import DOCUMENTS, install

runner = CliRunner()
PACKAGED = Path(render_module.__file__).parent / "templates"


def test_a_project_template_overrides_one_file_and_the_rest_stay_packaged(
    demo: Reports, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "task_report.md.j2").write_text(
        "custom {{ task.task.id }}: {{ task.row.completion }}\n"
    )
    env = environment(template_search(project))
    rendered = {r.name: r.text for r in render_reports(demo, env)}
    assert rendered["020_task_1_commands.md"] == "custom 1: INCOMPLETE\n"
    assert rendered["020_final_summary.md"].startswith("# 020: Report evidence")
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "task_report.md.j2").write_text("explicit\n")
    env = environment(template_search(project, explicit))
    assert render_reports(demo, env, task_id="1")[0].text == "explicit\n"


def test_the_matrix_template_renders_alone_for_the_github_summary(demo: Reports) -> None:
    text = render_matrix(demo, environment(), "docs/reports")
    assert text.startswith("## Completion Matrix — 020")
    assert "| 3 | A person reviews | INCOMPLETE | awaiting_client |" in text
    # on the Actions summary page a relative link would not resolve: the report's path instead
    assert "| `docs/reports/020_task_3_a_person_reviews.md` |" in text
    summary = next(r.text for r in render_reports(demo, environment()) if "final_summary" in r.name)
    assert "[020_task_3_a_person_reviews.md](020_task_3_a_person_reviews.md)" in summary
    assert "### Failed steps" not in summary


def test_the_github_summary_shows_each_failed_steps_stderr(demo: Reports) -> None:
    text = render_matrix(demo, environment(), "docs/reports")
    failed = text.split("### Failed steps\n", 1)[1]
    assert failed.count("\n**") == 3  # 1.3, 2.2 and 2.3 failed; 1.4 was skipped, 3.1 waits
    assert (
        '**1.3 A command that fails** — verification failed: command \'echo "about to fail" '
        '&amp;&amp; echo "boom" &gt;&amp;2 &amp;&amp; exit 3\' exits 0 (actual: 3)\n\n'
        'Command 1, `echo "about to fail" && echo "boom" >&2 && exit 3`, exited with 3; stderr:'
        "\n\n```text\nboom\n```\n"
    ) in failed
    assert "**2.2 A check that does not hold** — verification failed: time\\_difference" in failed


def test_the_github_summary_trims_a_long_stderr_visibly(demo: Reports) -> None:
    step = demo.run["steps"]["1.3"] if demo.run is not None else None
    assert step is not None
    step["commands"][0]["stderr"] = "".join(f"line {n}\n" for n in range(1, 31))
    text = render_matrix(demo, environment(), "docs/reports")
    assert "line 20\n```\n\n_… (10 more lines)_\n" in text
    assert "line 21" not in text


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ doc.__class__.__mro__ }}", "SecurityError|UndefinedError"),
        ("{{ doc.__pydantic_config__.__class__.__subclasses__() }}", "SecurityError|Undefined"),
        ("{{ no_such_name }}", "UndefinedError"),
        ("{{ (task.steps | first).row._asdict() }}", "SecurityError|UndefinedError"),
        ("{{ task.row.__class__ }}", "SecurityError|UndefinedError"),
        ("{{ task.no_such_field }}", "UndefinedError"),
        ("{{ task.task.title.format.__globals__ }}", "SecurityError|UndefinedError"),
        ("{% for %}", "TemplateSyntaxError"),
    ],
)
def test_overrides_run_sandboxed_and_strict(
    demo: Reports, tmp_path: Path, template: str, message: str
) -> None:
    """Syntax and runtime errors alike name the template's file and line."""
    (tmp_path / "task_report.md.j2").write_text("line one\n" + template + "\n")
    where = re.escape(str(tmp_path / "task_report.md.j2"))
    with pytest.raises(ReportError, match=rf"^template {where}:2: ({message}): "):
        render_reports(demo, environment([tmp_path]), task_id="1")


def test_a_runtime_error_in_an_included_template_names_that_file_and_line(
    demo: Reports, tmp_path: Path
) -> None:
    (tmp_path / "final_summary.md.j2").write_text("one\n{% include 'matrix.md.j2' %}\n")
    (tmp_path / "matrix.md.j2").write_text("a\nb\n{{ matrix.no_such_field }}\n")
    where = re.escape(str(tmp_path / "matrix.md.j2"))
    with pytest.raises(ReportError, match=rf"^template {where}:3: UndefinedError: "):
        render_reports(demo, environment([tmp_path]))


def test_an_error_inside_a_long_output_names_its_own_line(demo: Reports, tmp_path: Path) -> None:
    """The line an error is reported at is the line of the piece that failed, not the first line
    of the output it belongs to."""
    body = "| {{ task.row.id }} |\n| {{ task.row.title }} |\n| {{ task.row.no_such_field }} |\n"
    (tmp_path / "task_report.md.j2").write_text(body)
    where = re.escape(str(tmp_path / "task_report.md.j2"))
    with pytest.raises(ReportError, match=rf"^template {where}:3: UndefinedError: "):
        render_reports(demo, environment([tmp_path]), task_id="1")


def test_a_packaged_templates_runtime_error_names_its_file_and_line(demo: Reports) -> None:
    packaged = Path(render_module.__file__).parent / "templates" / "matrix.md.j2"
    line = next(
        n for n, text in enumerate(packaged.read_text().splitlines(), 1) if '{{ doc["id"]' in text
    )
    with pytest.raises(ReportError) as caught:
        render_module._render(environment().get_template("matrix.md.j2"), {})
    assert str(caught.value) == (f"template {packaged}:{line}: UndefinedError: 'doc' is undefined")


def test_a_missing_templates_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such templates directory"):
        template_search(None, tmp_path / "absent")


# -- templates are given plain data: probes from a project's overrides ---------------------------

PLAIN = (dict, list, str, int, float, bool, type(None))
EXPLOIT = (
    '{{ run.parse_raw("cposix\\nsystem\\n(Vid > pwned.txt\\ntR.",'
    ' content_type="application/pickle", allow_pickle=True) }}'
)


def captured_contexts(reports: Reports) -> dict[str, dict[str, Any]]:
    """What each packaged template is given when every report and the GitHub summary's matrix
    are rendered: {template name: context}."""
    seen: dict[str, dict[str, Any]] = {}
    real = render_module._render

    def capture(template: Any, context: dict[str, Any]) -> str:
        seen.setdefault(template.name, context)
        return real(template, context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render_module, "_render", capture)
        render_reports(reports, environment())
        render_matrix(reports, environment(), "docs/reports")
    return seen


def values(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every value reachable from `value`, with a Jinja expression that reaches it."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from values(item, f"{path}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from values(item, f"{path}[{index}]")


# Appended to a template: tries, on every value it is given (walked recursively, keys too), the
# calls that escaped the sandbox when templates were given objects; PROBE-RAN wherever one could
# even be read.
PROBES = """
{% macro probe(v) %}
{% if v.parse_raw is defined %}PROBE-RAN{{ v.parse_raw("cposix\\nsystem\\n(Vid > PWNED\\ntR.",
   content_type="application/pickle", allow_pickle=True) }}{% endif %}
{% if v.parse_file is defined %}PROBE-RAN{{ v.parse_file("OUTSIDE") }}{% endif %}
{% if v.model_validate_json is defined %}PROBE-RAN{{ v.model_validate_json("{}") }}{% endif %}
{% if v.__class__ is defined %}PROBE-RAN{{ v.__class__.__mro__ }}{% endif %}
{% if v.mro is defined %}PROBE-RAN{{ v.mro() }}{% endif %}
{% if v is mapping %}{% for k in v %}{{ probe(k) }}{{ probe(v[k]) }}{% endfor %}
{% elif v is iterable and v is not string %}{% for x in v %}{{ probe(x) }}{% endfor %}{% endif %}
{% endmacro %}
"""


def probes(names: list[str], outside: Path, pwned: Path) -> str:
    calls = "".join(f"{{{{ probe({name}) }}}}" for name in names)
    return PROBES.replace("PWNED", str(pwned)).replace("OUTSIDE", str(outside)) + calls + "\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    install(root, DOCUMENTS[0], root / ".claude-task" / "state.db")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


class OpenedFiles:
    """The files this process opens while `watching`, from Python's audit events."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.watching = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.watching and event == "open" and isinstance(args[0], str | Path):
            self.paths.append(str(args[0]))


OPENED = OpenedFiles()


def test_templates_are_given_plain_data_only(demo: Reports) -> None:
    contexts = captured_contexts(demo)
    assert sorted(contexts) == ["final_summary.md.j2", "step_summary.md.j2", "task_report.md.j2"]
    for name, context in contexts.items():
        for path, value in values(context, "context"):
            assert type(value) in PLAIN, f"{name}: {path} is a {type(value).__name__}"
    assert contexts["task_report.md.j2"]["run"]["steps"]["1.3"]["pause_reason"]["type"] == (
        "verificationFailed"
    )


def test_probes_from_overrides_of_every_template_reach_nothing(
    project: Path, demo: Reports, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside" / "secret.json"
    outside.parent.mkdir()
    outside.write_text('{"secret": "SECRET-MARKER"}')
    pwned = tmp_path / "pwned.txt"
    contexts = captured_contexts(demo)
    (project / "templates").mkdir()
    for name, context in contexts.items():
        packaged = (PACKAGED / name).read_text(encoding="utf-8")
        (project / "templates" / name).write_text(packaged + probes(list(context), outside, pwned))
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    OPENED.watching = True
    try:
        result = runner.invoke(app, ["generate_report", "020", "--github-summary"])
    finally:
        OPENED.watching = False
    assert result.exit_code == 1, result.output  # rendered: the run is incomplete
    assert not pwned.exists()
    assert not [p for p in OPENED.paths if p.startswith(str(outside.parent))]
    reports = [*(project / "docs" / "reports").iterdir(), summary]
    assert len(reports) == 5
    for report in reports:
        text = report.read_text(encoding="utf-8")
        assert "PROBE-RAN" not in text
        assert "SECRET-MARKER" not in text


@pytest.mark.parametrize("name", sorted(p.name for p in PACKAGED.glob("*.j2")))
def test_the_pickle_exploit_in_any_override_is_a_one_line_template_error(
    project: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    (project / "templates").mkdir()
    packaged = (PACKAGED / name).read_text(encoding="utf-8")
    override = project / "templates" / name
    override.write_text(packaged + EXPLOIT + "\n")
    line = len(packaged.splitlines()) + 1
    result = runner.invoke(app, ["generate_report", "020", "--github-summary"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"template {override}:{line}: UndefinedError: 'dict object' has no attribute 'parse_raw'\n"
    )
    assert not list(tmp_path.rglob("pwned.txt"))
