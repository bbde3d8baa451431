"""Reports rendered from recorded runs: goldens, literal rendering of document and tool text,
markdown that stays intact, safe file names, template overrides, the sandbox, JUnit XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import InputError
from claude_task_cli.outcomes import RunStatus, StepStatus
from claude_task_cli.report.evidence import RecordedRun, RunEvidence, StepEvidence
from claude_task_cli.report.junit import junit_xml
from claude_task_cli.report.pictures import dependency_graph, duration_chart
from claude_task_cli.report.render import (
    Reports,
    find_task,
    render_reports,
)
from claude_task_cli.report.templating import environment
from claude_task_cli.store.records import RunRecord, StepState
from tests.report.regen_reports import DOCUMENTS, GOLDEN, fixture_evidence, rendered_files
from tests.support import html_in

GFM = MarkdownIt("commonmark").enable("table")


# -- goldens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_reports_match_the_goldens(document: Path, tmp_path: Path) -> None:
    """Regenerate with `python tests/report/regen_reports.py` and review the diff."""
    files = rendered_files(document, tmp_path)
    golden = {p.name for p in GOLDEN.iterdir() if p.name.startswith(document.stem[:4])}
    assert set(files) == golden
    for name, text in files.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name


def test_rendering_is_deterministic(demo: Reports) -> None:
    env = environment()
    first = render_reports(demo, env)
    assert render_reports(demo, environment()) == first
    assert [r.name for r in first] == [
        "020_task_1_commands.md",
        "020_task_2_time_server_checks.md",
        "020_task_3_a_person_reviews.md",
        "020_final_summary.md",
    ]


def test_the_recorded_run_is_what_the_report_shows(demo: Reports) -> None:
    text = {r.name: r.text for r in render_reports(demo, environment())}
    commands = text["020_task_1_commands.md"]
    assert "ran with exit code **3**" in commands
    assert "boom\n" in commands  # the failing command's stderr
    assert "_… 9893 more characters trimmed_" in commands  # seq 1 3000, trimmed visibly
    time = text["020_task_2_time_server_checks.md"]
    assert "`get_current_time` on server `time`" in time
    assert "| 2.2 | time_difference equals '+8.0h' | **FAILED** | `+9.0h` | is '+9.0h' |" in time
    assert "No time zone found with key Mars/Olympus" in time
    summary = text["020_final_summary.md"]
    assert "**Verdict: INCOMPLETE** — 3 of 8 steps complete (37.5%)" in summary
    assert "```mermaid\nflowchart TD" in summary
    assert ":::awaiting_client" in summary


# -- literal text and intact markdown -----------------------------------------------------------


def test_document_and_tool_text_render_literally(demo: Reports) -> None:
    for item in render_reports(demo, environment()):
        assert not re.search(r"(evidence|server) 49|^49 ", item.text, re.M)  # never evaluated
    text = {r.name: r.text for r in render_reports(demo, environment())}
    assert (
        "# 020 Task 1: Commands through the command server {{ 7*7 }}"
        in text["020_task_1_commands.md"]
    )
    assert "{{ 7*7 }} {% for x in y %}\n<b>bold?</b>\n" in text["020_task_1_commands.md"]
    assert "a literal `{% for x in y %}`" in text["020_final_summary.md"]


def test_template_syntax_anywhere_in_a_document_is_data(tmp_path: Path) -> None:
    body = (
        "# Task 7: {% for x in range(3) %}loop{% endfor %} ⏳ Not Started\n\n"
        "**Objective**: {{ doc.__class__ }} {# comment #}\n\n"
        "## Task 1: {% raw %}{{ 7*7 }}\n\n- [ ] 1.1 {{ undefined_name }} `{% if %}`\n"
    )
    doc = convert_bytes(body.encode(), "t.md")
    for item in render_reports(Reports.of(doc, None), environment()):
        assert "{{ 7*7 }}" in item.text or "{% raw %}" in item.text
        assert "looploop" not in item.text
        assert "<class" not in item.text
    summary = render_reports(Reports.of(doc, None), environment())[-1].text
    assert "{% for x in range(3) %}loop{% endfor %}" in summary
    assert "{{ undefined_name }}" in summary


HTML = "<img src=x onerror=alert(1)>"


def test_html_from_the_document_and_the_tools_is_text_in_every_report(tmp_path: Path) -> None:
    """Headings, the objective, descriptions, list items, links, tables, failures: nowhere does a
    tag written in a document or returned by a tool reach a report as HTML."""
    text = DOCUMENTS[0].read_text(encoding="utf-8")
    for written in ("Report evidence", "Commands through", "Print awkward", "A long output",
                    "Read the [MCP", "Every command's exit", "Outputs with", "Confirm the report",
                    "Time server checks", "**Objective**: Exercise", "Model Context Protocol"):  # fmt: skip
        assert written in text
        text = text.replace(written, f"{written} {HTML} <!-- c --> `<b>kept</b>`", 1)
    text = text.replace("**Priority**", f"A description {HTML}\n\n**Priority**", 1)
    text = text.replace("# Task 020:", f"# Task 020: <{HTML}>", 1)
    doc = convert_bytes(text.encode(), f"docs/tasks/{DOCUMENTS[0].name}")
    _, recorded = fixture_evidence(DOCUMENTS[0], tmp_path)
    assert recorded is not None
    said = {"error": f"tool said {HTML}", "result": HTML}
    step = {**recorded.evidence["steps"]["2.3"], **said}
    evidence: RunEvidence = {
        **recorded.evidence,
        "steps": {**recorded.evidence["steps"], "2.3": step},
    }
    states = {**recorded.states, "2.3": replace(recorded.states["2.3"], **said)}
    run = replace(recorded, states=states, evidence=evidence)
    for item in render_reports(Reports.of(doc, run), environment()):
        assert html_in(item.text) == [], item.name
        fenced = re.compile(rf"```\w*\n[^`]*{re.escape(HTML)}[^`]*\n```")
        assert HTML not in fenced.sub("", item.text)  # only in a fenced output
    task = render_reports(Reports.of(doc, run), environment(), task_id="1")[0].text
    assert f"# 020 Task 1: Commands through {HTML.replace('<', '&lt;')}" in task
    assert "`<b>kept</b>`" in task  # code spans keep what they say
    assert f"A description {HTML.replace('<', '&lt;')}" in task
    summary = render_reports(Reports.of(doc, run), environment())[-1].text
    assert f"**Objective**: Exercise {HTML.replace('<', '&lt;')}" in summary


def table_rows(markdown: str) -> list[list[str]]:
    """Each table of the rendered markdown, as GFM parses it: cells per row."""
    tokens = GFM.parse(markdown)
    rows: list[list[str]] = []
    current: list[str] | None = None
    for token in tokens:
        if token.type == "tr_open":
            current = []
        elif token.type == "inline" and current is not None:
            current.append(token.content)
        elif token.type == "tr_close" and current is not None:
            rows.append(current)
            current = None
    return rows


def test_pipes_backticks_and_newlines_do_not_break_tables(demo: Reports) -> None:
    unescaped = re.compile(r"(?<!\\)\|")
    for item in render_reports(demo, environment()):
        tables: list[list[str]] = [[]]
        for line in item.text.splitlines():
            if line.startswith("|"):
                tables[-1].append(line)
            elif tables[-1]:
                tables.append([])
        assert len(tables) > 2
        for table in (t for t in tables if t):
            widths = {len(unescaped.findall(line)) for line in table}
            assert len(widths) == 1, (item.name, table)  # every row has the header's cells
            assert all(line.endswith("|") for line in table)
    task = next(
        r for r in render_reports(demo, environment()) if r.name == "020_task_1_commands.md"
    )
    rows = table_rows(task.text)
    steps = [r for r in rows if r[0] == "1.1"]
    assert steps[0][1] == "Print awkward output | with a pipe"  # one cell, the pipe kept


def test_fences_hold_any_output_exactly(demo: Reports) -> None:
    task = next(
        r for r in render_reports(demo, environment()) if r.name == "020_task_1_commands.md"
    )
    blocks = [t.content for t in GFM.parse(task.text) if t.type == "fence"]
    awkward = "a | b | c\n```not a fence end```\n{{ 7*7 }} {% for x in y %}\n<b>bold?</b>\n"
    assert awkward in blocks
    assert "about to fail\n" in blocks


# -- no evidence --------------------------------------------------------------------------------


def test_without_a_run_every_report_says_no_evidence_recorded(demo: Reports) -> None:
    bare = Reports.of(demo.doc, None)
    for item in render_reports(bare, environment()):
        assert "No evidence recorded" in item.text
        assert "passed" not in item.text.replace("checks passed", "")
        assert not re.search(r"\d\d:\d\d\.\d{3} UTC", item.text)  # no times were recorded
    assert bare.matrix.reasons == ("no evidence recorded: the document has no recorded run",)


def test_many_tasks_each_render_their_own_report_literally() -> None:
    tasks = "".join(
        f"## Task {n}: Part {n} `{{{{ 7*7 }}}}` |\n\n- [ ] {n}.1 Do {n}\n- [x] {n}.2 Done {n}\n\n"
        for n in range(1, 202)
    )
    reports = Reports.of(convert_bytes(f"# Task 77: Many\n\n{tasks}".encode(), "77.md"), None)
    rendered = render_reports(reports, environment())
    assert len(rendered) == 202
    assert rendered == render_reports(reports, environment())
    for n, report in enumerate(rendered[:-1], 1):
        assert report.name == f"77_task_{n}_part_{n}_7_7.md"
        assert report.text.startswith(f"# 77 Task {n}: Part {n} `{{{{ 7*7 }}}}` |")
        assert f"### {n}.2 Done {n}" in report.text
    assert "- [77_task_201_part_201_7_7.md](77_task_201_part_201_7_7.md)" in rendered[-1].text


def test_subtask_spellings(demo: Reports) -> None:
    for spelling in ("1", "task_1", "Task 1", "task-01", "TASK1", " 1 "):
        assert find_task(demo, spelling) == "1"
    with pytest.raises(InputError, match=r"no task '9' in .* \(tasks: 1, 2, 3\)"):
        find_task(demo, "task_9")


def test_json_format_carries_the_matrix_and_the_evidence(demo: Reports) -> None:

    files = {r.name: json.loads(r.text) for r in render_reports(demo, environment(), fmt="json")}
    assert set(files) == {
        "020_task_1_commands.json",
        "020_task_2_time_server_checks.json",
        "020_task_3_a_person_reviews.json",
        "020_final_summary.json",
    }
    task = files["020_task_1_commands.json"]
    assert task["task"]["completion"] == "INCOMPLETE"
    step = task["steps"][2]
    assert step["id"] == "1.3"
    assert step["evidence"]["commands"][0]["exit_code"] == 3
    assert step["evidence"]["pause_reason"]["type"] == "verificationFailed"
    assert files["020_final_summary.json"]["matrix"]["verdict"] == "INCOMPLETE"


# -- pictures -----------------------------------------------------------------------------------


def big_document(tasks: int, steps: int) -> TaskDocument:
    lines = ["# Task 5: Big\n"]
    for t in range(1, tasks + 1):
        lines.append(f'## Task {t}: T{t} "q"\n')
        lines.extend(f"- [ ] {t}.{s} S{s}" for s in range(1, steps + 1))
        lines.append("")
    return convert_bytes("\n".join(lines).encode(), "big.md")


def test_the_graph_draws_steps_then_tasks_then_gives_up_plainly() -> None:
    small = Reports.of(big_document(2, 3), None)
    graph, note = dependency_graph(small.doc, small.matrix)
    assert graph is not None
    assert note.startswith("Each box is a step")
    assert 's0["1.1 S1<br/>not_run"]:::not_run' in graph
    assert 'subgraph t0["Task 1: T1 #quot;q#quot;"]' in graph
    medium = Reports.of(big_document(20, 5), None)
    graph, note = dependency_graph(medium.doc, medium.matrix)
    assert graph is not None
    assert "100 steps are too many to draw" in note
    assert "t0 --> t1" in graph
    large = Reports.of(big_document(100, 1), None)
    assert dependency_graph(large.doc, large.matrix)[0] is None


def test_the_duration_chart_shows_the_slowest_steps(demo: Reports) -> None:
    bars, note = duration_chart(demo.matrix)
    assert note == "All 6 timed steps, slowest first."
    timed = sorted(
        (s for s in demo.matrix.steps if s.duration_ms is not None),
        key=lambda s: -(s.duration_ms or 0),
    )
    assert [bar.split()[0] for bar in bars] == [s.id for s in timed]  # slowest first
    assert bars[0].startswith(f"{timed[0].id} " + "█" * 40)  # the slowest: the full width
    assert len(bars[-1].split()[1]) < 40
    assert duration_chart(Reports.of(demo.doc, None).matrix) == (
        [],
        "No step durations were recorded.",
    )


# -- JUnit --------------------------------------------------------------------------------------


def test_junit_has_a_testcase_per_step_with_the_evidence(demo: Reports) -> None:
    root = ET.fromstring(junit_xml(demo))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "4", "1")
    cases = {c.get("name", "").split()[0]: c for c in root.iter("testcase")}
    assert len(cases) == 8
    assert cases["1.1"].find("failure") is None
    assert cases["1.4"].find("skipped") is not None
    failure = cases["1.3"].find("failure")
    assert failure is not None
    assert failure.get("type") == "failed"
    assert "boom" in (failure.text or "")


def test_junit_survives_control_characters(demo: Reports) -> None:
    assert demo.run is not None
    step = demo.run["steps"]["2.3"]
    noisy: StepEvidence = {**step, "error": "\x1b[31mred\x1b[0m\x00", "result": "\x07bell"}
    run: RunEvidence = {**demo.run, "steps": {**demo.run["steps"], "2.3": noisy}}
    root = ET.fromstring(junit_xml(Reports(demo.doc, run, demo.matrix)))
    text = next(c for c in root.iter("testcase") if c.get("name", "").startswith("2.3"))
    failure = text.find("failure")
    assert failure is not None
    assert "\\x1b[31mred" in (failure.text or "")


def test_commands_that_never_ran_are_said_so() -> None:
    body = "# Task 8: C\n\n## Task 1: C\n\n- [ ] 1.1 two commands\n  ```bash\n  true\n  ```\n  ```bash\n  false\n  ```\n"
    doc = convert_bytes(body.encode(), "c.md")
    ran = {"ran": True, "exit_code": 0, "stdout": "", "stderr": "", "timed_out": False}
    commands = [
        {**ran, "command": "true\n", "duration_ms": 1.0},
        {**ran, "command": "false\n", "ran": False, "exit_code": None, "duration_ms": None},
    ]
    step = {
        **dict.fromkeys(StepEvidence.__annotations__),
        **{"step_id": "1.1", "status": "failed", "source": "engine", "attempts": 1},
        **{"history": [], "checks": [], "commands": commands},
    }
    evidence = {
        **{"run_id": 1, "doc_id": "8", "doc_path": "c.md", "status": "failed"},
        **{"started_at": 0.0, "ended_at": 1.0, "source_sha256": doc.source.sha256},
        **{"document_changed": False, "steps": {"1.1": step}},
    }
    record = RunRecord(1, "k", "c.md", "8", doc.source.sha256, RunStatus.FAILED, 0.0, 1.0)
    states = {"1.1": StepState(status=StepStatus.FAILED, attempts=1)}
    run = RecordedRun(record, states, evidence)  # type: ignore[arg-type]
    text = render_reports(Reports.of(doc, run), environment(), task_id="1")[0].text
    assert "Command 2 did not run: no exit code recorded." in text
    assert "command 2 — not run (no exit code recorded)" in text


# -- a non-editable install ---------------------------------------------------------------------

RENDER_FROM_INSTALL = """
import json, sqlite3, sys
from pathlib import Path
import claude_task_cli
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.report.evidence import load_evidence
from claude_task_cli.report.render import Reports, render_reports
from claude_task_cli.report.templating import environment
from claude_task_cli.store import Store
document, dump = Path(sys.argv[1]), Path(sys.argv[2])
conn = sqlite3.connect("state.db")
conn.executescript(dump.read_text(encoding="utf-8"))
conn.close()
doc = convert_file(document, "docs/tasks/" + document.name)
with Store(Path("state.db")) as store:
    evidence = load_evidence(store, doc, doc_key=store.runs()[0].doc_key)
files = {r.name: r.text for r in render_reports(Reports.of(doc, evidence), environment())}
print(json.dumps({"package": claude_task_cli.__file__, "files": files}))
"""


@pytest.mark.slow
def test_a_wheel_install_renders_with_its_packaged_templates(tmp_path: Path) -> None:
    """Built as a wheel, installed (not editable) into a fresh venv, run outside the repo."""
    import shutil
    import subprocess
    import sys
    import sysconfig

    repo = Path(__file__).resolve().parent.parent.parent
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, source / name)
    shutil.copytree(
        repo / "claude_task_cli",
        source / "claude_task_cli",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheels"), str(source)],
        check=True,
        timeout=120,
    )
    wheel = next((tmp_path / "wheels").glob("claude_task_cli-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        timeout=120,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies (jinja2, pydantic, ...) come from this venv; claude_task_cli does not
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    document = DOCUMENTS[0]
    done = subprocess.run(
        [
            str(python),
            "-c",
            RENDER_FROM_INSTALL,
            str(document),
            str(document.with_suffix(".run.sql")),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["package"].startswith(site)
    for name, text in result["files"].items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name
    assert len(result["files"]) == 4


def test_the_stage_s_face_names_what_the_facade_calls() -> None:
    import claude_task_cli.report as face

    for name in face.__all__:
        assert getattr(face, name).__module__.startswith("claude_task_cli.report.")
    with pytest.raises(AttributeError):
        _ = face.no_such_name
