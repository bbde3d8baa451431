"""Where the state database is: a URL, spelled as SQLAlchemy spells them, or a SQLite file's path.

`sqlite:///relative/path`, `sqlite:////absolute/path`, `postgresql://user:password@host:port/db?options`
(`postgres://` and `postgresql+psycopg://` too); a value without `://` is a SQLite file.
`database_url` picks the URL: the one given (`--db`), else `$CLAUDE_TASK_DB`, else SQLite at the
project's `.claude-task/state.db` (`project.default_state_path`); `state_location` does the same
for the run store, which also takes a SQLite file's path (`--state`). A URL shown in a message or
a log never shows its password (`str(url)`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from claude_task_cli.errors import InputError
from claude_task_cli.project import default_state_path

DB_ENV = "CLAUDE_TASK_DB"
Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class DatabaseUrl:
    """Where the database is: a SQLite file (`path`) or a PostgreSQL connection string."""

    dialect: Dialect
    dsn: str = field(repr=False)  # the SQLite file's path, or the libpq URL (with any password)
    path: Path | None = None

    def __str__(self) -> str:
        """The URL with any password hidden: what messages and logs show."""
        if self.path is not None:
            return str(self.path)
        parts = urlsplit(self.dsn)
        query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            parts = parts._replace(netloc=f"{parts.username}:***@{host}")
        return urlunsplit(parts._replace(query=query))


def parse_url(text: str) -> DatabaseUrl:
    """`--db` / `$CLAUDE_TASK_DB` as typed → where the database is; `InputError` otherwise."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return DatabaseUrl("sqlite", text, Path(text))
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise InputError(text, "a SQLite URL is sqlite:///relative/path or sqlite:////abs/path")
        path = Path(rest[1:])
        return DatabaseUrl("sqlite", str(path), path)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return DatabaseUrl("postgresql", "postgresql://" + rest)
    raise InputError(text, f"unknown database {scheme!r}: use sqlite:///PATH or postgresql://…")


def as_url(where: Path | DatabaseUrl) -> DatabaseUrl:
    """A SQLite file's path as its URL; a URL as it is."""
    if isinstance(where, DatabaseUrl):
        return where
    return DatabaseUrl("sqlite", str(where), where)


def database_url(given: str | None, start: Path | None = None) -> DatabaseUrl:
    """The URL given, else `$CLAUDE_TASK_DB`, else SQLite at the project's state database."""
    text = given or os.environ.get(DB_ENV)
    if text:
        return parse_url(text)
    path = default_state_path(start)
    return DatabaseUrl("sqlite", str(path), path)


def state_location(explicit: Path | DatabaseUrl | None, start: Path | None) -> Path | DatabaseUrl:
    """Where the run store of a project is: `explicit` (`--state PATH`, `--db URL`), else
    `$CLAUDE_TASK_DB`, else the SQLite file of the project found from `start`
    (`$CLAUDE_TASK_STATE`, else `<project root>/.claude-task/state.db`)."""
    if explicit is not None:
        return explicit
    text = os.environ.get(DB_ENV)
    if text:
        return parse_url(text)
    return default_state_path(start)


def sqlite_file(where: Path | DatabaseUrl) -> Path | None:
    """The SQLite file of `where`; None for a server (which cannot be looked at without it)."""
    return where if isinstance(where, Path) else where.path


def not_created(where: Path | DatabaseUrl) -> bool:
    """A SQLite file not made yet (or not a file): nothing recorded; looking must not make it."""
    file = sqlite_file(where)
    return file is not None and not file.is_file()
