"""Reports rendered from recorded runs: goldens, literal rendering of document and tool text,
markdown that stays intact, safe file names, template overrides, the sandbox, JUnit XML."""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import InputError, ReportError
from claude_task_cli.outcomes import RunStatus, StepStatus
from claude_task_cli.report.evidence import CommandEvidence, RunEvidence, StepEvidence
from claude_task_cli.report.fork_map import NO_FORK_ENV
from claude_task_cli.report.junit import junit_xml
from claude_task_cli.report.markdown_escape import (
    as_text,
    cell,
    code,
    data,
    data_cell,
    fence,
    mermaid_label,
    timestamp,
)
from claude_task_cli.report.render import (
    SPLIT_FROM,
    Rendered,
    Reports,
    find_task,
    render,
    render_matrix,
    write,
)
from claude_task_cli.report.templating import environment, template_search
from claude_task_cli.report.views import dependency_graph, duration_chart, slug, task_file_name
from tests.report.regen_reports import DOCUMENTS, GOLDEN, fixture_evidence, rendered_files

GFM = MarkdownIt("commonmark").enable("table")


@pytest.fixture
def demo(tmp_path: Path) -> Reports:
    doc, evidence = fixture_evidence(DOCUMENTS[0], tmp_path)
    return Reports.of(doc, evidence)


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
    first = render(demo, env)
    assert render(demo, environment()) == first
    assert [r.name for r in first] == [
        "020_task_1_commands.md",
        "020_task_2_time_server_checks.md",
        "020_task_3_a_person_reviews.md",
        "020_final_summary.md",
    ]


def test_the_recorded_run_is_what_the_report_shows(demo: Reports) -> None:
    text = {r.name: r.text for r in render(demo, environment())}
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
    for item in render(demo, environment()):
        assert not re.search(r"(evidence|server) 49|^49 ", item.text, re.M)  # never evaluated
    text = {r.name: r.text for r in render(demo, environment())}
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
    for item in render(Reports.of(doc, None), environment()):
        assert "{{ 7*7 }}" in item.text or "{% raw %}" in item.text
        assert "looploop" not in item.text
        assert "<class" not in item.text
    summary = render(Reports.of(doc, None), environment())[-1].text
    assert "{% for x in range(3) %}loop{% endfor %}" in summary
    assert "{{ undefined_name }}" in summary


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
    for item in render(demo, environment()):
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
    task = next(r for r in render(demo, environment()) if r.name == "020_task_1_commands.md")
    rows = table_rows(task.text)
    steps = [r for r in rows if r[0] == "1.1"]
    assert steps[0][1] == "Print awkward output | with a pipe"  # one cell, the pipe kept


def test_fences_hold_any_output_exactly(demo: Reports) -> None:
    task = next(r for r in render(demo, environment()) if r.name == "020_task_1_commands.md")
    blocks = [t.content for t in GFM.parse(task.text) if t.type == "fence"]
    awkward = "a | b | c\n```not a fence end```\n{{ 7*7 }} {% for x in y %}\n<b>bold?</b>\n"
    assert awkward in blocks
    assert "about to fail\n" in blocks


@pytest.mark.parametrize(
    "text",
    ["plain", "`", "``x``", "a ``` b", "ends with `", " padded ", "a|b", "new\nline", ""],
)
def test_code_spans_survive_backticks_and_pipes(text: str) -> None:
    rendered = GFM.renderInline(f"| x |\n|---|\n| {code(text)} |")
    inside = GFM.parse(f"| x |\n|---|\n| {code(text)} |")
    cells = [t for t in inside if t.type == "inline"]
    assert len(cells) == 2, rendered
    spans = [c for c in cells[1].children or [] if c.type == "code_inline"]
    expected = " ".join(text.split())
    if expected:
        assert spans[0].content.strip() == expected.strip()


def test_cells_escape_html_pipes_and_trim_visibly() -> None:
    assert cell("a | b") == "a \\| b"
    assert cell("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert cell("line\nbreak") == "line break"
    assert cell(None) == cell("") == "—"
    assert cell("x" * 200, 10) == "xxxxxxxxxx (… 190 more characters trimmed)"


@pytest.mark.parametrize(
    "said",
    [
        "Invalid timezone: *Mars*/_Olympus_ ~~gone~~",
        'echo "boom" >&2 && exit 3',
        "see [the docs](http://x) or <b>bold</b> &amp; `code` | pipe \\ back",
        "plain words, nothing to escape",
    ],
)
def test_what_a_tool_said_renders_as_it_said_it(said: str) -> None:
    """`data` (list items, sentences) and `data_cell` (table cells) escape every character
    markdown would read as formatting: rendered, the text is exactly what the tool said."""
    inline = MarkdownIt("commonmark").renderInline(data(said))
    assert inline == html.escape(said, quote=False).replace('"', "&quot;")
    table = (
        MarkdownIt("commonmark").enable("table").render(f"| a |\n|---|\n| {data_cell(said)} |\n")
    )
    assert f"<td>{html.escape(said, quote=False).replace(chr(34), '&quot;')}</td>" in table
    assert data_cell(None) == "—"
    assert data_cell("x" * 200, 10) == "xxxxxxxxxx (… 190 more characters trimmed)"


def test_fences_grow_past_backtick_runs_and_say_what_they_trim() -> None:
    assert fence("a ```` b", "text").startswith("`````text\n")
    assert fence("plain").startswith("```\nplain\n```")
    trimmed = fence("x" * 50, "text", 10)
    assert trimmed.endswith("```\n\n_… 40 more characters trimmed_")
    assert fence({"a": 1}, "json") == '```json\n{"a": 1}\n```'
    assert fence({"k": "v" * 80}, "json") == '```json\n{\n  "k": "' + "v" * 80 + '"\n}\n```'
    assert fence("x" * 50, "text", 0) == "```text\n" + "x" * 50 + "\n```"  # 0: no limit


def test_mermaid_labels_cannot_end_the_label() -> None:
    assert mermaid_label('a "quoted" `x` <b> | #1') == (
        "a #quot;quoted#quot; #96;x#96; #lt;b#gt; #124; #35;1"
    )


def test_times_are_the_recorded_ones_in_utc() -> None:
    assert timestamp(0.0) == "1970-01-01 00:00:00.000 UTC"
    assert timestamp(1795316221.17085) == "2026-11-22 02:57:01.170 UTC"
    assert timestamp(None) == "—"
    assert timestamp(1795316221.9999996) == "2026-11-22 02:57:02.000 UTC"  # rounds into the next


@given(st.floats(min_value=-2e9, max_value=4e9) | st.integers(0, 4 * 10**9).map(lambda n: n / 2000))
def test_times_are_written_as_datetime_writes_them(epoch: float) -> None:
    moment = datetime.fromtimestamp(epoch, UTC)
    assert timestamp(epoch) == moment.isoformat(" ", "milliseconds").replace("+00:00", " UTC")


# -- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["../../etc/passwd", "/etc/passwd", "..", "a/b\\c", "C:\\Windows\\x", "tab\there", "…", "."],
)
def test_no_title_escapes_the_output_directory(title: str, tmp_path: Path) -> None:
    body = f"# Task ../9: Evil\n\n## Task 1: {title}\n\n- [ ] 1.1 step\n"
    doc = convert_bytes(body.encode(), "evil.md", "../evil")
    out = tmp_path / "reports"
    written = write(render(Reports.of(doc, None), environment()), out)
    assert all(p.parent == out for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in written)
    assert not any(p.name.startswith(".") for p in written)


def test_slugs_and_the_seed_feature_name() -> None:
    assert slug("Task Description Format & Converter!") == "task_description_format_converter"
    assert slug("Überprüfung – Größe") == "uberprufung_grosse"
    assert slug("///") == "task"
    body = (
        "# Task 003: X\n\n## Task 1: Converter work\n\n- [ ] 1.1 Write it\n"
        "- [ ] 1.2 Create verification report\n  - Create `/docs/reports/003_task_1_converter.md`\n"
    )
    doc = convert_bytes(body.encode(), "003.md")
    assert task_file_name(doc, doc.tasks[0]) == "003_task_1_converter.md"


def test_write_refuses_a_name_outside_the_directory(tmp_path: Path) -> None:
    for name in ("../x.md", "sub/x.md", "/abs.md"):
        with pytest.raises(ReportError, match="must stay inside"):
            write([Rendered(name, "x")], tmp_path / "out")


def test_a_bad_name_writes_nothing_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="must stay inside"):
        write([Rendered("fine.md", "x"), Rendered("..", "x")], out)
    assert not out.exists() or list(out.iterdir()) == []


def test_a_symlink_at_a_report_name_is_replaced_never_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("not yours")
    (out / "r.md").symlink_to(outside)
    (out / f".r.md.{os.getpid()}.tmp").symlink_to(outside)  # as if planted at the temporary
    assert write([Rendered("r.md", "report")], out) == [out / "r.md"]
    assert outside.read_text() == "not yours"
    assert not (out / "r.md").is_symlink()
    assert (out / "r.md").read_text() == "report"
    assert sorted(p.name for p in out.iterdir()) == ["r.md"]


def test_an_unwritable_directory_is_a_report_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportError, match="cannot create the output directory"):
        write([Rendered("r.md", "x")], tmp_path / "file")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "r.md").mkdir()  # a directory where the report goes: rename refuses
    with pytest.raises(ReportError, match="cannot write the report"):
        write([Rendered("r.md", "x")], tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["r.md"]  # no temporary left


def test_regenerating_overwrites_cleanly(demo: Reports, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    write([Rendered(r.name, "old") for r in render(demo, environment())], out)
    written = write(render(demo, environment()), out)
    assert all(p.read_text() != "old" for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no temps


# -- no evidence --------------------------------------------------------------------------------


def test_without_a_run_every_report_says_no_evidence_recorded(demo: Reports) -> None:
    bare = Reports.of(demo.doc, None)
    for item in render(bare, environment()):
        assert "No evidence recorded" in item.text
        assert "passed" not in item.text.replace("checks passed", "")
        assert not re.search(r"\d\d:\d\d\.\d{3} UTC", item.text)  # no times were recorded
    assert bare.matrix.reasons == ("no evidence recorded: the document has no recorded run",)


def test_many_tasks_render_the_same_bytes_in_two_processes_as_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tasks = "".join(
        f"## Task {n}: Part {n} `{{{{ 7*7 }}}}` |\n\n- [ ] {n}.1 Do {n}\n- [x] {n}.2 Done {n}\n\n"
        for n in range(1, SPLIT_FROM + 2)
    )
    reports = Reports.of(convert_bytes(f"# Task 77: Many\n\n{tasks}".encode(), "77.md"), None)
    monkeypatch.setenv(NO_FORK_ENV, "1")
    alone = render(reports, environment())
    monkeypatch.delenv(NO_FORK_ENV)
    split = render(reports, environment())
    assert len(split) == SPLIT_FROM + 2
    assert [(r.name, r.text) for r in split] == [(r.name, r.text) for r in alone]
    assert "`{{ 7*7 }}`" in split[-2].text  # the child's half, literal like the rest


# -- templates: override, sandbox, strictness ---------------------------------------------------


def test_a_project_template_overrides_one_file_and_the_rest_stay_packaged(
    demo: Reports, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "task_report.md.j2").write_text(
        "custom {{ task.task.id }}: {{ task.row.completion }}\n"
    )
    env = environment(template_search(project))
    rendered = {r.name: r.text for r in render(demo, env)}
    assert rendered["020_task_1_commands.md"] == "custom 1: INCOMPLETE\n"
    assert rendered["020_final_summary.md"].startswith("# 020: Report evidence")
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "task_report.md.j2").write_text("explicit\n")
    env = environment(template_search(project, explicit))
    assert render(demo, env, task_id="1")[0].text == "explicit\n"


def test_the_matrix_template_renders_alone_for_the_github_summary(demo: Reports) -> None:
    text = render_matrix(demo, environment(), "docs/reports")
    assert text.startswith("## Completion Matrix — 020")
    assert "| 3 | A person reviews | INCOMPLETE | awaiting_client |" in text
    # on the Actions summary page a relative link would not resolve: the report's path instead
    assert "| `docs/reports/020_task_3_a_person_reviews.md` |" in text
    summary = next(r.text for r in render(demo, environment()) if "final_summary" in r.name)
    assert "[020_task_3_a_person_reviews.md](020_task_3_a_person_reviews.md)" in summary


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ doc.__class__.__mro__ }}", "SecurityError|UndefinedError"),
        ("{{ doc.__pydantic_config__.__class__.__subclasses__() }}", "SecurityError|Undefined"),
        ("{{ no_such_name }}", "UndefinedError"),
        # the report's own types are read inline, but never a name starting with `_`
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
        render(demo, environment([tmp_path]), task_id="1")


def test_a_runtime_error_in_an_included_template_names_that_file_and_line(
    demo: Reports, tmp_path: Path
) -> None:
    (tmp_path / "final_summary.md.j2").write_text("one\n{% include 'matrix.md.j2' %}\n")
    (tmp_path / "matrix.md.j2").write_text("a\nb\n{{ matrix.no_such_field }}\n")
    where = re.escape(str(tmp_path / "matrix.md.j2"))
    with pytest.raises(ReportError, match=rf"^template {where}:3: UndefinedError: "):
        render(demo, environment([tmp_path]))


def test_an_error_inside_a_long_output_names_its_own_line(demo: Reports, tmp_path: Path) -> None:
    """Each output node is yielded joined (one `yield` for many pieces): the line an error is
    reported at is still the line of the piece that failed."""
    body = "| {{ task.row.id }} |\n| {{ task.row.title }} |\n| {{ task.row.no_such_field }} |\n"
    (tmp_path / "task_report.md.j2").write_text(body)
    where = re.escape(str(tmp_path / "task_report.md.j2"))
    with pytest.raises(ReportError, match=rf"^template {where}:3: UndefinedError: "):
        render(demo, environment([tmp_path]), task_id="1")


def test_a_packaged_templates_runtime_error_names_its_file_and_line(demo: Reports) -> None:
    from claude_task_cli.report import render as report

    packaged = Path(report.__file__).parent / "templates" / "matrix.md.j2"
    line = next(
        n for n, text in enumerate(packaged.read_text().splitlines(), 1) if "{{ doc.id }}" in text
    )
    with pytest.raises(ReportError) as caught:
        report._render(environment(), "matrix.md.j2", {})
    assert str(caught.value) == (f"template {packaged}:{line}: UndefinedError: 'doc' is undefined")


def test_a_missing_templates_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such templates directory"):
        template_search(None, tmp_path / "absent")


def test_subtask_spellings(demo: Reports) -> None:
    for spelling in ("1", "task_1", "Task 1", "task-01", "TASK1", " 1 "):
        assert find_task(demo, spelling) == "1"
    with pytest.raises(InputError, match=r"no task '9' in .* \(tasks: 1, 2, 3\)"):
        find_task(demo, "task_9")


def test_json_format_carries_the_matrix_and_the_evidence(demo: Reports) -> None:
    import json

    files = {r.name: json.loads(r.text) for r in render(demo, environment(), fmt="json")}
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
    step = demo.run.steps["2.3"]
    noisy = step.model_copy(update={"error": "\x1b[31mred\x1b[0m\x00", "result": "\x07bell"})
    run = demo.run.model_copy(update={"steps": {**demo.run.steps, "2.3": noisy}})
    root = ET.fromstring(junit_xml(Reports(demo.doc, run, demo.matrix)))
    text = next(c for c in root.iter("testcase") if c.get("name", "").startswith("2.3"))
    failure = text.find("failure")
    assert failure is not None
    assert "\\x1b[31mred" in (failure.text or "")


def test_commands_that_never_ran_are_said_so() -> None:
    body = "# Task 8: C\n\n## Task 1: C\n\n- [ ] 1.1 two commands\n  ```bash\n  true\n  ```\n  ```bash\n  false\n  ```\n"
    doc = convert_bytes(body.encode(), "c.md")
    evidence = RunEvidence(
        run_id=1,
        doc_id="8",
        doc_path="c.md",
        status=RunStatus.FAILED,
        started_at=0.0,
        ended_at=1.0,
        source_sha256=doc.source.sha256,
        document_changed=False,
        steps={
            "1.1": StepEvidence(
                step_id="1.1",
                status=StepStatus.FAILED,
                source="engine",
                attempts=1,
                history=[],
                commands=[
                    CommandEvidence(command="true\n", ran=True, exit_code=0),
                    CommandEvidence(command="false\n", ran=False),
                ],
            )
        },
    )
    text = render(Reports.of(doc, evidence), environment(), task_id="1")[0].text
    assert "Command 2 did not run: no exit code recorded." in text
    assert "command 2 — not run (no exit code recorded)" in text


# -- a non-editable install ---------------------------------------------------------------------

RENDER_FROM_INSTALL = """
import json, sqlite3, sys
from pathlib import Path
import claude_task_cli
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.report.evidence import load_evidence
from claude_task_cli.report.render import Reports, render
from claude_task_cli.report.templating import environment
from claude_task_cli.store import Store
document, dump = Path(sys.argv[1]), Path(sys.argv[2])
conn = sqlite3.connect("state.db")
conn.executescript(dump.read_text(encoding="utf-8"))
conn.close()
doc = convert_file(document, "docs/tasks/" + document.name)
with Store(Path("state.db")) as store:
    evidence = load_evidence(store, doc, doc_key=store.runs()[0].doc_key)
files = {r.name: r.text for r in render(Reports.of(doc, evidence), environment())}
print(json.dumps({"package": claude_task_cli.__file__, "files": files}))
"""


@pytest.mark.slow
def test_a_wheel_install_renders_with_its_packaged_templates(tmp_path: Path) -> None:
    """Built as a wheel, installed (not editable) into a fresh venv, run outside the repo."""
    import json
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


def _reference_as_text(value: object, indent: str = "") -> str:
    """as_text's rule, spelled with json.dumps: one line when it fits, else a member per line."""
    if isinstance(value, str) and not indent:
        return value
    line = json.dumps(value, ensure_ascii=False, default=str)
    if len(line) + len(indent) <= 80 or not isinstance(value, dict | list) or not value:
        return line
    inner = indent + "  "
    if isinstance(value, dict):
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_reference_as_text(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    items = [inner + _reference_as_text(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)


@given(_JSON_VALUES)
def test_values_are_shown_as_json_that_fits_the_line_or_breaks_it(value: object) -> None:
    assert as_text(value) == _reference_as_text(value)


@given(st.text(alphabet="`a\n ", max_size=80))
def test_a_fence_is_one_backtick_longer_than_any_run_inside(text: str) -> None:
    opening = fence(text, "text", 0).split("\n", 1)[0].removesuffix("text")
    longest = max(map(len, re.findall("`+", text)), default=0)
    assert opening == "`" * max(3, longest + 1)
