"""An independent count of checklist items: a plain line scanner, no markdown parser at all.

A line is a checklist item when, after any block-quote markers and indentation, it is a list
marker (`-`, `*`, `+`, `1.`, `1)`) followed by `[ ]`, `[x]` or `[X]` and white space or the end of
the line (the GFM task-list rule), and it is not inside a fenced code block. Fences are tracked
the CommonMark way: a fence closes only with the same character, at least as many times.
"""

from __future__ import annotations

import re

_QUOTES_AND_INDENT = r"^[ \t]*(?:>[ \t]?)*[ \t]*"
_MARKER = r"(?:[-*+]|\d{1,9}[.)])[ \t]+"
_BOX = re.compile(_QUOTES_AND_INDENT + _MARKER + r"\[([ xX])\](?:[ \t]|$)")
_FENCE = re.compile(_QUOTES_AND_INDENT + f"(?:{_MARKER})?" + r"(`{3,}|~{3,})")


def checklist_lines(text: str) -> list[tuple[int, bool]]:
    """(line, checked) of every checklist-looking line outside fenced code, in order."""
    found: list[tuple[int, bool]] = []
    fence: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None:
            closes = (
                opening is not None
                and opening.group(1)[0] == fence[0]
                and len(opening.group(1)) >= len(fence)
                and not line[opening.end() :].strip()
            )
            fence = None if closes else fence
        else:
            box = _BOX.match(line)
            if box:
                found.append((number, box.group(1) != " "))
    return found
