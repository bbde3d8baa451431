"""Stale task reports: exactly the report naming pattern of one document id and format."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_task_cli.report.files import remove_stale_reports, report_pattern, stale_reports


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
