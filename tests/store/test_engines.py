"""The database layer on both engines: URLs, transactions, the database's clock, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_task_cli.errors import InputError, StoreError
from claude_task_cli.store.engines import (
    Database,
    DatabaseUrl,
    database_url,
    open_database,
    parse_url,
)

TABLE = {1: ("CREATE TABLE things (id {id}, at {float} NOT NULL, n {bigint})",)}


@pytest.mark.parametrize(
    ("text", "dialect", "dsn"),
    [
        ("sqlite:///rel/state.db", "sqlite", "rel/state.db"),
        ("sqlite:////abs/state.db", "sqlite", "/abs/state.db"),
        ("plain/file.db", "sqlite", "plain/file.db"),
        ("postgresql://u@h:5432/db", "postgresql", "postgresql://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql", "postgresql://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql", "postgresql://u@h/db"),
    ],
)
def test_urls(text: str, dialect: str, dsn: str) -> None:
    url = parse_url(text)
    assert (url.dialect, url.dsn) == (dialect, dsn)


@pytest.mark.parametrize("text", ["mysql://h/db", "sqlite://", "sqlite:///"])
def test_bad_urls_name_the_problem(text: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_url(text)
    assert refused.value.exit_code == 2


def test_passwords_are_never_shown() -> None:
    assert str(parse_url("postgresql://ana:s3cret@db:5432/x")) == "postgresql://ana:***@db:5432/x"
    assert str(parse_url("postgresql://db/x?sslmode=require&password=s3cret")) == (
        "postgresql://db/x?sslmode=require&password=***"
    )
    assert "s3cret" not in repr(parse_url("postgresql://ana:s3cret@db:5432/x"))


def test_default_is_the_project_state_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    assert database_url(None, tmp_path).path == tmp_path.resolve() / ".claude-task" / "state.db"
    monkeypatch.setenv("CLAUDE_TASK_DB", "sqlite:///elsewhere.db")
    assert database_url(None, tmp_path).path == Path("elsewhere.db")
    assert database_url("postgresql://h/db").dialect == "postgresql"


def test_transactions_clock_and_migrations(db_url: str) -> None:
    with open_database(parse_url(db_url)) as db:
        assert db.migrate("things", TABLE) == 1
        assert db.migrate("things", TABLE) == 1  # idempotent
        with db.transaction() as tx:
            now = tx.now()
            tx.execute("INSERT INTO things (at, n) VALUES (?, ?)", (now, 2**40))
        with pytest.raises(RuntimeError, match="rolled back"):
            _insert_then_fail(db, now)
        with db.transaction(write=False) as tx:
            rows = tx.execute("SELECT at, n FROM things WHERE 'a%' LIKE 'a%'").fetchall()
            later = tx.now()
        assert [tuple(r) for r in rows] == [(now, 2**40)]
        assert later >= now
        newer = {**TABLE, 2: ("CREATE TABLE more (id {id})",)}
        assert db.migrate("things", newer) == 2
    with open_database(parse_url(db_url)) as db, pytest.raises(StoreError, match="newer"):
        db.migrate("things", TABLE)


def _insert_then_fail(db: Database, now: float) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO things (at) VALUES (?)", (now,))
        raise RuntimeError("rolled back")


def test_driver_errors_become_store_errors(db_url: str) -> None:
    with open_database(parse_url(db_url)) as db:
        with pytest.raises(StoreError) as failed, db.transaction() as tx:
            tx.execute("SELECT * FROM no_such_table")
        assert failed.value.exit_code == 4
        with db.transaction() as tx:  # the connection is usable again
            assert tx.execute("SELECT 1").fetchone()[0] == 1


def test_an_unreachable_server_is_an_environment_error() -> None:
    url = DatabaseUrl("postgresql", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreError, match="cannot open the database"):
        open_database(url)
