"""The board's record of a document, as the reports show it: who created, claimed, moved,
blocked and finished each task, and when — the audit trail (`claude-task events`) beside the
run's evidence.

The facade reads the events (the board is a sibling stage) and hands them over as plain data, one
mapping per event with `ts`, `kind`, `actor`, `task` and `payload`; this module turns them into
the rows the templates print. Document and tool text in a payload stays text: the templates
escape every cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from claude_task_cli.report.markdown_escape import timestamp

LISTED = 200  # events a report lists; the rest are counted


def trail_rows(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each event as a row: `time` (UTC), `kind`, `actor`, `task` (its number or None) and
    `details` (a state change as `from → to`, then the rest of its payload as `key: value`)."""
    return [
        {
            "time": timestamp(event["ts"]),
            "kind": str(event["kind"]),
            "actor": str(event["actor"]),
            "task": None if event.get("task") is None else str(event["task"]),
            "details": _details(event.get("payload") or {}),
        }
        for event in events
    ]


def task_trail(rows: Iterable[Mapping[str, Any]], task_id: str) -> list[Mapping[str, Any]]:
    """The rows of one task of the document."""
    return [row for row in rows if row["task"] == task_id]


def _details(payload: Mapping[str, Any]) -> str:
    parts = []
    if "from" in payload or "to" in payload:
        parts.append(f"{payload.get('from') or '—'} → {payload.get('to') or '—'}")
    for key, value in payload.items():
        if key not in ("from", "to") and value not in (None, "", [], {}):
            parts.append(f"{key}: {value}")
    return "; ".join(parts)
