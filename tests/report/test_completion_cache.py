"""`completion_json`: a finished run's matrix JSON cached under its revision, never served stale.

Every test compares with the matrix computed afresh (`matrix_json(completion_of(...))`) from a run
recorded by a real execution (`tests/report/fixtures`).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.outcomes import RunStatus, StepStatus
from claude_task_cli.report import completion
from claude_task_cli.report.matrix_json import matrix_json
from claude_task_cli.store.database import Claim, Store
from tests.report.regen_reports import DOCUMENTS, fixture_document, restore

DEMO = DOCUMENTS[0]


class Recorded:
    """The demo fixture's recorded run, in a scratch database beside a copy of its document."""

    def __init__(self, tmp_path: Path) -> None:
        self.doc = fixture_document(DEMO)
        self.database = restore(DEMO.with_suffix(".run.sql"), tmp_path / "state.db")
        with Store(self.database) as store:  # migrated to this release's schema
            self.run = store.runs()[0]
        self.document = tmp_path / DEMO.name
        self.document.write_bytes(DEMO.read_bytes())

    def load(self) -> TaskDocument:
        return self.doc

    def cached_json(self) -> str:
        return completion.completion_json(
            self.document, self.load, state_path=self.database, doc_key=self.run.doc_key
        )

    def fresh_json(self) -> str:
        matrix = completion.completion_of(
            self.document, self.load, state_path=self.database, doc_key=self.run.doc_key
        )
        return matrix_json(matrix)

    def cache_rows(self) -> list[tuple[int, int]]:
        conn = sqlite3.connect(self.database)
        try:
            return conn.execute("SELECT run_id, revision FROM matrix_cache").fetchall()
        finally:
            conn.close()

    def revision(self) -> int:
        with Store(self.database) as store:
            run = store.run(self.run.id)
        assert run is not None
        return run.revision


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    return Recorded(tmp_path)


def no_build(*_args: object) -> None:
    raise AssertionError("the matrix was built again")


def test_the_second_call_is_served_from_the_cache_and_is_the_same_text(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert recorded.run.status != RunStatus.RUNNING
    first = recorded.cached_json()
    assert first == recorded.fresh_json()
    assert recorded.cache_rows() == [(recorded.run.id, recorded.revision())]
    monkeypatch.setattr(completion, "build_matrix", no_build)
    assert recorded.cached_json() == first


def test_any_change_to_the_run_is_seen_at_once(recorded: Recorded) -> None:
    before = recorded.cached_json()
    step = json.loads(before)["steps"][0]["id"]
    with Store(recorded.database) as store:
        store.record_outcome(recorded.run.id, step, StepStatus.FAILED, error="broken since")
    after = recorded.cached_json()
    assert after != before
    assert after == recorded.fresh_json()
    assert json.loads(after)["steps"][0]["failure"] == "broken since"
    with Store(recorded.database) as store:
        store.set_run_status(recorded.run.id, RunStatus.COMPLETED)
    assert json.loads(recorded.cached_json())["run_status"] == RunStatus.COMPLETED


def test_an_edited_document_or_another_release_is_built_again(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded.cached_json()
    built: list[object] = []
    build = completion.build_matrix

    def counted(*args: object) -> object:
        built.append(args)
        return build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(completion, "build_matrix", counted)
    recorded.document.write_bytes(DEMO.read_bytes() + b"\n")
    recorded.cached_json()
    assert len(built) == 1
    recorded.cached_json()
    assert len(built) == 1  # cached again, for the edited document
    monkeypatch.setattr(completion, "fingerprint", lambda: "another release")
    recorded.cached_json()
    assert len(built) == 2


def test_a_cached_text_of_another_revision_or_key_is_never_served(recorded: Recorded) -> None:
    fresh = recorded.cached_json()
    revision = recorded.revision()
    conn = sqlite3.connect(recorded.database)
    with conn:
        conn.execute("UPDATE matrix_cache SET json = 'stale', revision = ?", (revision - 1,))
    assert recorded.cached_json() == fresh
    with conn:
        conn.execute("UPDATE matrix_cache SET json = 'stale', key = 'another document'")
    assert recorded.cached_json() == fresh
    conn.close()


def test_a_running_run_is_not_cached(recorded: Recorded) -> None:
    with Store(recorded.database) as store:
        store.open_run(
            doc_key=recorded.run.doc_key,
            doc_path=recorded.run.doc_path,
            doc_id=recorded.run.doc_id,
            sha256=recorded.run.source_sha256,
            claim=Claim(),
        )
    text = recorded.cached_json()
    assert json.loads(text)["run_status"] == RunStatus.RUNNING
    assert text == recorded.fresh_json()
    assert recorded.cache_rows() == []


def test_a_schema_1_database_is_read_and_left_as_it_is(tmp_path: Path) -> None:
    database = restore(DEMO.with_suffix(".run.sql"), tmp_path / "v1.db")
    conn = sqlite3.connect(database)
    key = conn.execute("SELECT doc_key FROM runs").fetchone()[0]
    conn.close()
    document = tmp_path / DEMO.name
    document.write_bytes(DEMO.read_bytes())
    doc = fixture_document(DEMO)
    text = completion.completion_json(document, lambda: doc, state_path=database, doc_key=key)
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    fresh = completion.completion_of(document, lambda: doc, state_path=database, doc_key=key)
    assert text == matrix_json(fresh)


def test_a_resumed_run_is_never_served_as_cached_before_its_resume(recorded: Recorded) -> None:
    step = json.loads(recorded.cached_json())["steps"][0]["id"]
    claim = Claim()
    with Store(recorded.database) as store:
        run = recorded.run
        store.set_run_status(run.id, RunStatus.PAUSED)
        # a reader that takes its snapshot before the resume, and writes its text after it
        seen = completion._snapshot(recorded.database, run.doc_key, None)
        assert seen.revision is not None
        store.open_run(
            doc_key=run.doc_key,
            doc_path=run.doc_path,
            doc_id=run.doc_id,
            sha256=run.source_sha256,
            claim=claim,
        )
        attempt = store.start_attempt(run.id, step, {})
        store.finish_attempt(run.id, step, attempt, StepStatus.FAILED, error="broken on resume")
        store.finish_run(run.id, claim, RunStatus.PAUSED)
    cache_key = f"{completion._digest(recorded.document)}:{completion.fingerprint()}"
    completion._cache(recorded.database, run.id, seen.revision, cache_key, "stale")
    conn = sqlite3.connect(recorded.database)
    assert conn.execute("SELECT count(*) FROM matrix_cache WHERE json = 'stale'").fetchone() == (0,)
    conn.close()
    after = recorded.cached_json()
    assert after == recorded.fresh_json()
    assert json.loads(after)["steps"][0]["failure"] == "broken on resume"


def test_remember_caches_only_for_the_text_the_document_was_converted_from(
    recorded: Recorded,
) -> None:
    assert recorded.doc.source.sha256 == completion._digest(recorded.document)
    conn = sqlite3.connect(recorded.database)
    with conn:  # the key execute_task stores: the document's resolved path
        conn.execute("UPDATE runs SET doc_key = ?", (str(recorded.document.resolve()),))
    conn.close()
    recorded.document.write_bytes(DEMO.read_bytes() + b"\n- [ ] edited during the run\n")
    completion.remember(recorded.document, recorded.doc, state_path=recorded.database)
    assert recorded.cache_rows() == []
    assert not (recorded.database.parent / completion.CACHE_DIR).exists()
    recorded.document.write_bytes(DEMO.read_bytes())
    completion.remember(recorded.document, recorded.doc, state_path=recorded.database)
    assert recorded.cache_rows() == [(recorded.run.id, recorded.revision())]
    fresh = completion.completion_of(recorded.document, recorded.load, state_path=recorded.database)
    served = completion.completion_json(recorded.document, no_build, state_path=recorded.database)
    assert served == matrix_json(fresh)


def test_a_new_run_s_matrix_replaces_the_earlier_runs(recorded: Recorded) -> None:
    recorded.cached_json()
    assert [run for run, _ in recorded.cache_rows()] == [recorded.run.id]
    claim = Claim()
    with Store(recorded.database) as store:
        run = recorded.run
        other, _ = store.open_run(
            doc_key="another document", doc_path="x", doc_id="x", sha256="x", claim=Claim()
        )
        store.finish_run(other.id, Claim(), RunStatus.PAUSED)
        newer, _ = store.open_run(
            doc_key=run.doc_key,
            doc_path=run.doc_path,
            doc_id=run.doc_id,
            sha256=run.source_sha256,
            claim=claim,
            new=True,
        )
        store.finish_run(newer.id, claim, RunStatus.PAUSED)
    conn = sqlite3.connect(recorded.database)
    with conn:  # another document's cached matrix stays
        conn.execute("INSERT INTO matrix_cache VALUES (?, 0, 'k', '{}')", (other.id,))
    conn.close()
    assert json.loads(recorded.cached_json())["run_id"] == newer.id
    assert [run for run, _ in recorded.cache_rows()] == sorted([other.id, newer.id])


def test_remember_never_turns_a_stopped_run_into_an_error(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_task_cli.errors import StoreError

    def unreadable(*_args: object) -> None:
        raise StoreError(recorded.database, "cannot open the state database: disk I/O error")

    monkeypatch.setattr(completion, "_snapshot", unreadable)
    completion.remember(recorded.document, recorded.doc, state_path=recorded.database)
    assert recorded.cache_rows() == []


def test_a_schema_this_reader_does_not_know_is_read_typed_and_not_cached(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = recorded.fresh_json()
    monkeypatch.setattr(completion, "_RUN_OF", {})  # as if the database were of a newer schema
    assert recorded.cached_json() == expected
    assert recorded.cache_rows() == []
