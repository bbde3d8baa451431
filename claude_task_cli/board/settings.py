"""The board's policy: settings stored in the database (so every worker on every machine reads
the same), and the one environment variable the spec names.

- `review.auto_approve` (default false): a task whose steps all pass goes straight to `done`
  instead of `in_review`, and `in_progress → done` is allowed. `FEATURE_PRD_AUTO_APPROVE_REVIEW`
  set to `true`/`false` in a process's environment overrides the stored value for that process.
- `blockers.cancelled_satisfies` (default true): a `cancelled` blocker no longer blocks.

`claude-task settings NAME VALUE` changes one (recorded as a `settings.updated` event).
"""

from __future__ import annotations

import os
from typing import Any

from claude_task_cli.board import events
from claude_task_cli.board.states import Policy
from claude_task_cli.errors import InputError
from claude_task_cli.store.engines import Tx

REVIEW_ENV = "FEATURE_PRD_AUTO_APPROVE_REVIEW"
DEFAULTS: dict[str, bool] = {"review.auto_approve": False, "blockers.cancelled_satisfies": True}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InputError(name, f"{text!r} is not true or false")


def stored(tx: Tx) -> dict[str, bool]:
    """Every setting's stored value (the default where none is stored)."""
    return _values(tx.execute("SELECT name, value FROM board_settings").fetchall())


def _values(rows: list[Any]) -> dict[str, bool]:
    values = dict(DEFAULTS)
    for name, value in rows:
        if name in values:
            values[name] = value == "true"
    return values


def policy(tx: Tx) -> Policy:
    """The policy in force for this process: the stored settings, and the environment's word."""
    return _policy(stored(tx))


def policy_now(tx: Tx) -> tuple[Policy, float]:
    """The policy and the database's clock, read in one statement (each claim needs both)."""
    rows = tx.execute(
        f"SELECT {tx.now_sql}, s.name, s.value FROM (SELECT 1 AS one) x"
        " LEFT JOIN board_settings s ON 1 = 1"
    ).fetchall()
    return _policy(_values([row[1:] for row in rows if row[1] is not None])), rows[0][0]


def _policy(values: dict[str, bool]) -> Policy:
    review = values["review.auto_approve"]
    env = os.environ.get(REVIEW_ENV)
    if env is not None and env.strip():
        review = parse_bool(REVIEW_ENV, env)
    return Policy(
        auto_approve_review=review, cancelled_satisfies=values["blockers.cancelled_satisfies"]
    )


def change(tx: Tx, name: str, value: str, actor: str) -> bool:
    """Store one setting (`InputError` for an unknown name or value); returns the new value."""
    if name not in DEFAULTS:
        raise InputError(name, f"no such setting (settings: {', '.join(DEFAULTS)})")
    flag = parse_bool(name, value)
    text = "true" if flag else "false"
    tx.execute(
        "INSERT INTO board_settings (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, text),
    )
    events.record(tx, tx.now(), "settings.updated", actor, payload={"name": name, "value": flag})
    return flag
