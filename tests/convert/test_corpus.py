"""Every real document in ../shared/corpus converts, and no checklist item is lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_task_cli.convert.converter import convert_file
from claude_task_cli.convert.preview import checklist_items
from claude_task_cli.convert.source import read_source
from tests.convert.checklist_oracle import checklist_lines
from tests.support import corpus_files

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.md"))
FILES = corpus_files()

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/corpus is not present")


@pytest.mark.parametrize("document", FILES, ids=[f.name for f in FILES])
def test_corpus_document_converts_with_every_checklist_item(document: Path) -> None:
    doc = convert_file(document)
    oracle = checklist_lines(read_source(document).text)
    # (line, checked) for every checkbox, with multiplicity: each appears exactly once
    assert checklist_items(doc) == oracle


def test_corpus_is_the_expected_size() -> None:
    assert len(FILES) == 61


def test_latin1_corpus_file_converts_with_an_encoding_warning() -> None:
    latin = next(f for f in FILES if f.name == "tasks_003_test_mcp.md")
    doc = convert_file(latin)
    assert doc.source.encoding == "cp1252"
    assert any("decoded as cp1252" in w.message for w in doc.warnings)
    assert doc.status.value == "not_started"
    assert [t.id for t in doc.tasks] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("document", GOLDEN, ids=[g.stem for g in GOLDEN])
def test_golden_fixtures_agree_with_the_oracle(document: Path) -> None:
    doc = convert_file(document)
    assert checklist_items(doc) == checklist_lines(read_source(document).text)


def test_worker_pool_tasks_read_their_status_and_dependency_lines() -> None:
    pool = next(f for f in FILES if f.name == "020_CLAUDE_WORKER_POOL_TASKS.md")
    doc = convert_file(pool)
    assert {t.status.raw for t in doc.tasks} == {"🔄 Not Started"}
    assert [t.depends_on for t in doc.tasks][:5] == [[], ["1"], ["1"], ["3"], ["2", "4"]]
    assert doc.tasks[7].depends_on == ["1", "2", "3", "4", "5", "6", "7"]
