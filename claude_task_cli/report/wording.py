"""Counts in words, the same in every report, summary and status line: `1 check`, `3 checks`,
`1 of 1 step`, and what completed without a tool call with its empty parts left out.

They are also Jinja filters of the report environment (`templating.py`).
"""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """`1 step`, `3 steps`, `0 steps`."""
    return f"{count} {word if count == 1 else word + 's'}"


def of_total(done: int, total: int, word: str) -> str:
    """`1 of 1 step`, `2 of 3 steps`: the noun agrees with the total."""
    return f"{done} of {plural(total, word)}"


def made_by(client: int, document: int) -> str:
    """`2 recorded by the client`, `1 ticked in the document`, or both: the parts that are not 0."""
    parts = [
        f"{client} recorded by the client" if client else "",
        f"{document} ticked in the document" if document else "",
    ]
    return ", ".join(part for part in parts if part)


FILTERS = {"plural": plural, "of_total": of_total, "made_by": made_by}
