"""An independent count of checklist items: markdown-it-py's CommonMark parse (not pyromark).

A list item is a checklist item when its first paragraph starts with `[ ]`, `[x]` or `[X]`
followed by white space or the end of the line (the GFM task-list rule).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark").enable("table")
_BOX = re.compile(r"^\[([ xX])\](?:\s|$)")


def checklist_lines(text: str) -> list[tuple[int, bool]]:
    tokens = _MD.parse(text)
    found: list[tuple[int, bool]] = []
    for i, token in enumerate(tokens):
        if token.type != "list_item_open" or token.map is None or i + 2 >= len(tokens):
            continue
        if tokens[i + 1].type == "paragraph_open" and tokens[i + 2].type == "inline":
            match = _BOX.match(tokens[i + 2].content)
            if match:
                found.append((token.map[0] + 1, match.group(1) != " "))
    return sorted(found)
