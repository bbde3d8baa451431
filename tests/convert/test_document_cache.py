"""Converted documents kept in the user's cache: read back only when they are the document asked
for, converted again otherwise, never more than `KEEP` of them, never in the project."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from claude_task_cli.convert import document_cache
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.convert.document_cache import CACHE_ENV, FOLDER, convert_file_kept

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(GOLDEN.glob("*.md"))
DOCUMENT = "# Task 50: Kept\n\n## Task 1: One\n\n- [ ] 1.1 First step\n- [ ] 1.2 Second step\n"


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "050_kept.md"
    path.parent.mkdir()
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def kept_files() -> list[Path]:
    return sorted((Path(os.environ[CACHE_ENV]) / FOLDER).glob("*.json"))


@pytest.mark.parametrize("golden", CASES, ids=[c.stem for c in CASES])
def test_a_kept_document_reads_back_as_its_conversion(golden: Path, tmp_path: Path) -> None:
    source = tmp_path / golden.name
    shutil.copy(golden, source)
    fresh = convert_file(source, golden.name)
    first = convert_file_kept(source, golden.name)
    again = convert_file_kept(source, golden.name)
    assert len(kept_files()) == 1
    assert first.to_json() == again.to_json() == fresh.to_json()
    assert again == fresh


def test_the_kept_document_is_what_is_read(document: Path) -> None:
    convert_file_kept(document, "050_kept.md")
    [kept] = kept_files()
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["title"] = "Read from the kept file"
    kept.write_text(json.dumps(data), encoding="utf-8")
    assert convert_file_kept(document, "050_kept.md").title == "Read from the kept file"


@pytest.mark.parametrize(
    "damage",
    ["not json at all", '{"schema_version": "2.0"}', ""],
    ids=["not-json", "not-the-contract", "empty"],
)
def test_a_damaged_kept_document_is_converted_again_and_replaced(
    document: Path, damage: str
) -> None:
    expected = convert_file(document, "050_kept.md").to_json()
    convert_file_kept(document, "050_kept.md")
    [kept] = kept_files()
    kept.write_text(damage, encoding="utf-8")
    assert convert_file_kept(document, "050_kept.md").to_json() == expected
    assert json.loads(kept.read_text(encoding="utf-8"))["title"] == "Kept"
    assert convert_file_kept(document, "050_kept.md").to_json() == expected


def test_a_kept_document_of_other_bytes_is_not_used(document: Path) -> None:
    convert_file_kept(document, "050_kept.md")
    [kept] = kept_files()
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["source"]["sha256"] = "0" * 64
    data["title"] = "Stale"
    kept.write_text(json.dumps(data), encoding="utf-8")
    assert convert_file_kept(document, "050_kept.md").title == "Kept"


def test_an_edited_document_is_converted_again(document: Path) -> None:
    convert_file_kept(document, "050_kept.md")
    document.write_text(DOCUMENT.replace("Kept", "Edited"), encoding="utf-8")
    assert convert_file_kept(document, "050_kept.md").title == "Edited"
    assert len(kept_files()) == 2


def test_the_name_shown_is_part_of_what_is_kept(document: Path) -> None:
    first = convert_file_kept(document, "050_kept.md")
    other = convert_file_kept(document, "docs/050_kept.md")
    assert (first.source.path, other.source.path) == ("050_kept.md", "docs/050_kept.md")
    assert len(kept_files()) == 2


def test_nothing_is_kept_in_the_project(document: Path) -> None:
    convert_file_kept(document, "050_kept.md")
    assert [p.name for p in document.parent.iterdir()] == ["050_kept.md"]
    assert len(kept_files()) == 1


def test_a_cache_that_cannot_be_written_keeps_nothing(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocked))
    assert convert_file_kept(document, "050_kept.md").title == "Kept"
    assert convert_file_kept(document, "050_kept.md").title == "Kept"
    assert blocked.read_text(encoding="utf-8") == "not a directory"


def test_no_more_than_keep_documents_are_kept(
    document: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_cache, "KEEP", 3)
    for n in range(6):
        path = document.with_name(f"05{n}_kept.md")
        path.write_text(DOCUMENT.replace("Kept", f"Kept {n}"), encoding="utf-8")
        before = set(kept_files())
        convert_file_kept(path, path.name)
        [new] = set(kept_files()) - before
        os.utime(new, (1_000_000 + n, 1_000_000 + n))  # used in this order, whatever the clock
    titles = {json.loads(p.read_text(encoding="utf-8"))["title"] for p in kept_files()}
    assert titles == {"Kept 3", "Kept 4", "Kept 5"}
    assert not list((Path(os.environ[CACHE_ENV]) / FOLDER).glob("*.tmp"))


def test_an_edited_converter_converts_again(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    convert_file_kept(document, "050_kept.md")
    converter = tmp_path / "converter"
    converter.mkdir()
    (converter / "steps.py").write_text("# another converter\n", encoding="utf-8")
    monkeypatch.setattr(document_cache, "__file__", str(converter / "document_cache.py"))
    convert_file_kept(document, "050_kept.md")
    assert len(kept_files()) == 2
