"""Report files: safe names, atomic writes that never follow a symlink, and stale task reports
removed by exactly the report naming pattern of one document id and format."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.errors import ReportError
from claude_task_cli.report.files import (
    Rendered,
    remove_stale_reports,
    report_pattern,
    slug,
    stale_reports,
    task_file_name,
    write,
)
from claude_task_cli.report.render import Reports, render_reports
from claude_task_cli.report.templating import environment
from tests.report.regen_reports import DOCUMENTS, fixture_evidence


@pytest.mark.parametrize(
    ("name", "matches"),
    [
        ("040_task_1_claimed.md", True),
        ("040_task_12_a_long_slug_2.md", True),
        ("040_task_1.2_x.md", True),
        ("040_task_1_claimed.json", False),  # another format
        ("040_final_summary.md", False),
        ("0400_task_1_claimed.md", False),  # another document
        ("04_task_1_claimed.md", False),
        ("040_task_1_Claimed.md", False),  # a slug is lower case
        ("040_task_1_.md", False),
        ("040_task_1_claimed.md.bak", False),
        ("notes_040_task_1_claimed.md", False),
        ("040_task_1_claimed notes.md", False),
    ],
)
def test_the_pattern_is_the_task_report_names_only(name: str, matches: bool) -> None:
    assert bool(report_pattern("040", ".md").fullmatch(name)) is matches


def test_only_unwritten_regular_files_of_the_pattern_are_removed(tmp_path: Path) -> None:
    for name in ("040_task_1_claimed.md", "040_task_1_renamed.md", "040_final_summary.md",
                 "041_task_1_other.md", "040_task_2_x.json", "README.md"):  # fmt: skip
        (tmp_path / name).write_text(name)
    (tmp_path / "040_task_3_dir.md").mkdir()
    (tmp_path / "040_task_4_link.md").symlink_to(tmp_path / "README.md")
    written = [tmp_path / "040_task_1_renamed.md", tmp_path / "040_final_summary.md"]
    assert stale_reports(tmp_path, "040", ".md", written) == [tmp_path / "040_task_1_claimed.md"]
    removed = remove_stale_reports(tmp_path, "040", ".md", written)
    assert removed == [tmp_path / "040_task_1_claimed.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "040_final_summary.md",
        "040_task_1_renamed.md",
        "040_task_2_x.json",
        "040_task_3_dir.md",
        "040_task_4_link.md",
        "041_task_1_other.md",
        "README.md",
    ]
    assert stale_reports(tmp_path / "absent", "040", ".md", []) == []


@pytest.mark.parametrize(
    "title",
    ["../../etc/passwd", "/etc/passwd", "..", "a/b\\c", "C:\\Windows\\x", "tab\there", "…", "."],
)
def test_no_title_escapes_the_output_directory(title: str, tmp_path: Path) -> None:
    body = f"# Task ../9: Evil\n\n## Task 1: {title}\n\n- [ ] 1.1 step\n"
    doc = convert_bytes(body.encode(), "evil.md", "../evil")
    out = tmp_path / "reports"
    written = write(render_reports(Reports.of(doc, None), environment()), out)
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


def test_regenerating_overwrites_cleanly(tmp_path: Path) -> None:
    doc, evidence = fixture_evidence(DOCUMENTS[0], tmp_path)
    demo = Reports.of(doc, evidence)
    out = tmp_path / "reports"
    write([Rendered(r.name, "old") for r in render_reports(demo, environment())], out)
    written = write(render_reports(demo, environment()), out)
    assert all(p.read_text() != "old" for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no temps


def test_a_report_already_on_disk_is_left_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    write([Rendered("same.md", "same\n"), Rendered("new.md", "old\n")], out)
    same, new = os.stat(out / "same.md"), os.stat(out / "new.md")
    write([Rendered("same.md", "same\n"), Rendered("new.md", "new\n")], out)
    assert (out / "same.md").read_text() == "same\n"
    kept = os.stat(out / "same.md")
    assert (kept.st_ino, kept.st_mtime_ns) == (same.st_ino, same.st_mtime_ns)  # not rewritten
    assert (out / "new.md").read_text() == "new\n"
    assert os.stat(out / "new.md").st_ino != new.st_ino  # replaced by a new file
    assert sorted(p.name for p in out.iterdir()) == ["new.md", "same.md"]


def test_what_stands_at_a_name_is_replaced_even_when_it_reads_the_same(tmp_path: Path) -> None:
    """A link to a file holding the report's text is replaced, not kept; a FIFO is not read
    (it would wait for a writer)."""
    out = tmp_path / "reports"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("text\n")
    (out / "link.md").symlink_to(elsewhere)
    os.mkfifo(out / "fifo.md")
    write([Rendered("link.md", "text\n"), Rendered("fifo.md", "text\n")], out)
    for name in ("link.md", "fifo.md"):
        assert (out / name).is_file()
        assert not (out / name).is_symlink()
        assert (out / name).read_text() == "text\n"
    assert elsewhere.read_text() == "text\n"
