"""Converted documents kept beside the state database: read back only when they are the document
asked for, converted again otherwise, never more than `KEEP` of them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from claude_task_cli.convert import document_cache
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.convert.document_cache import FOLDER, convert_file_kept

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(GOLDEN.glob("*.md"))
DOCUMENT = "# Task 50: Kept\n\n## Task 1: One\n\n- [ ] 1.1 First step\n- [ ] 1.2 Second step\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".claude-task").mkdir()
    (tmp_path / "050_kept.md").write_text(DOCUMENT, encoding="utf-8")
    return tmp_path


def kept_files(project: Path) -> list[Path]:
    return sorted((project / ".claude-task" / FOLDER).glob("*.json"))


@pytest.mark.parametrize("document", CASES, ids=[c.stem for c in CASES])
def test_a_kept_document_reads_back_as_its_conversion(document: Path, tmp_path: Path) -> None:
    source = tmp_path / document.name
    shutil.copy(document, source)
    fresh = convert_file(source, document.name)
    first = convert_file_kept(source, document.name, tmp_path, create=True)
    again = convert_file_kept(source, document.name, tmp_path)
    assert len(list((tmp_path / FOLDER).glob("*.json"))) == 1
    assert first.to_json() == again.to_json() == fresh.to_json()
    assert again == fresh


def test_the_kept_document_is_what_is_read(project: Path) -> None:
    convert_file_kept(project / "050_kept.md", "050_kept.md", project / ".claude-task")
    [kept] = kept_files(project)
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["title"] = "Read from the kept file"
    kept.write_text(json.dumps(data), encoding="utf-8")
    doc = convert_file_kept(project / "050_kept.md", "050_kept.md", project / ".claude-task")
    assert doc.title == "Read from the kept file"


@pytest.mark.parametrize(
    "damage",
    [
        "not json at all",
        '{"schema_version": "2.0"}',
        "",
    ],
    ids=["not-json", "not-the-contract", "empty"],
)
def test_a_damaged_kept_document_is_converted_again_and_replaced(
    project: Path, damage: str
) -> None:
    state = project / ".claude-task"
    expected = convert_file(project / "050_kept.md", "050_kept.md").to_json()
    convert_file_kept(project / "050_kept.md", "050_kept.md", state)
    [kept] = kept_files(project)
    kept.write_text(damage, encoding="utf-8")
    assert convert_file_kept(project / "050_kept.md", "050_kept.md", state).to_json() == expected
    assert convert_file_kept(project / "050_kept.md", "050_kept.md", state).to_json() == expected
    assert json.loads(kept.read_text(encoding="utf-8"))["title"] == "Kept"


def test_a_kept_document_of_other_bytes_is_not_used(project: Path) -> None:
    state = project / ".claude-task"
    convert_file_kept(project / "050_kept.md", "050_kept.md", state)
    [kept] = kept_files(project)
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["source"]["sha256"] = "0" * 64
    data["title"] = "Stale"
    kept.write_text(json.dumps(data), encoding="utf-8")
    assert convert_file_kept(project / "050_kept.md", "050_kept.md", state).title == "Kept"


def test_an_edited_document_is_converted_again(project: Path) -> None:
    state = project / ".claude-task"
    convert_file_kept(project / "050_kept.md", "050_kept.md", state)
    (project / "050_kept.md").write_text(DOCUMENT.replace("Kept", "Edited"), encoding="utf-8")
    assert convert_file_kept(project / "050_kept.md", "050_kept.md", state).title == "Edited"
    assert len(kept_files(project)) == 2


def test_the_name_shown_is_part_of_what_is_kept(project: Path) -> None:
    state = project / ".claude-task"
    first = convert_file_kept(project / "050_kept.md", "050_kept.md", state)
    other = convert_file_kept(project / "050_kept.md", "docs/050_kept.md", state)
    assert (first.source.path, other.source.path) == ("050_kept.md", "docs/050_kept.md")
    assert len(kept_files(project)) == 2


def test_nothing_is_kept_where_there_is_no_state_yet(tmp_path: Path) -> None:
    (tmp_path / "050_kept.md").write_text(DOCUMENT, encoding="utf-8")
    doc = convert_file_kept(tmp_path / "050_kept.md", "050_kept.md", tmp_path / ".claude-task")
    assert doc.title == "Kept"
    assert not (tmp_path / ".claude-task").exists()
    convert_file_kept(
        tmp_path / "050_kept.md", "050_kept.md", tmp_path / ".claude-task", create=True
    )
    assert len(kept_files(tmp_path)) == 1


def test_no_more_than_keep_documents_are_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_cache, "KEEP", 3)
    for n in range(6):
        path = project / f"05{n}_kept.md"
        path.write_text(DOCUMENT.replace("Kept", f"Kept {n}"), encoding="utf-8")
        before = set(kept_files(project))
        convert_file_kept(path, path.name, project / ".claude-task")
        [new] = set(kept_files(project)) - before
        os.utime(new, (1_000_000 + n, 1_000_000 + n))  # used in this order, whatever the clock
    titles = {json.loads(p.read_text(encoding="utf-8"))["title"] for p in kept_files(project)}
    assert titles == {"Kept 3", "Kept 4", "Kept 5"}
    assert not list((project / ".claude-task" / FOLDER).glob("*.tmp"))
