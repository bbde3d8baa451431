"""Markdown → a light tree of blocks with 1-based source lines.

The parser is pyromark (pulldown-cmark: CommonMark + GFM task lists and tables). It hands back
events with byte ranges; this module folds them into the few block kinds a task document uses and
keeps the raw source text of every title, so inline markup (`code`, **bold**) survives verbatim.
Block quotes are transparent: their content joins the surrounding flow.
See docs/benchmarks.md for why this parser and not markdown-it-py.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyromark

MAX_DEPTH = 64  # lists and quotes nested deeper are refused (no real document comes close)
_OPTIONS = pyromark.Options.ENABLE_TASKLISTS | pyromark.Options.ENABLE_TABLES
_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_CHECKBOX = re.compile(r"^\[[ xX]\](?:[ \t]+|$)")
_HEADING_MARKS = re.compile(r"^[ \t]*#{1,6}[ \t]*|[ \t]+#+[ \t]*$")
_BLOCKS = {
    "Paragraph",
    "Heading",
    "BlockQuote",
    "CodeBlock",
    "HtmlBlock",
    "List",
    "Item",
    "Table",
    "FootnoteDefinition",
    "MetadataBlock",
    "DefinitionList",
}


@dataclass
class Heading:
    level: int
    text: str
    line: int


@dataclass
class Paragraph:
    text: str
    line: int


@dataclass
class Fence:
    info: str
    content: str
    line: int
    end_line: int


@dataclass
class Table:
    rows: list[list[str]]
    line: int
    row_lines: list[int]


@dataclass
class Item:
    text: str
    line: int
    checked: bool | None
    children: list[Block] = field(default_factory=list)


@dataclass
class ListBlock:
    items: list[Item]
    ordered: bool
    line: int


Block = Heading | Paragraph | Fence | Table | ListBlock


def _events(text: str) -> list[tuple[str, str | None, Any, int, int]]:
    """(kind, name, payload, start, end) for every pyromark event; the hot loop of the parser."""
    out: list[tuple[str, str | None, Any, int, int]] = []
    append = out.append
    stream: Iterable[tuple[Any, Any]] = pyromark.events_with_range(
        text, options=_OPTIONS, merge_text=True
    )
    for event, span in stream:
        start, end = span["start"], span["end"]
        if type(event) is not dict:
            append((event, None, None, start, end))
            continue
        ((kind, value),) = event.items()
        if kind == "Text":
            append(("Text", None, value, start, end))
        elif kind not in ("Start", "End"):
            append((kind, None, value, start, end))
        elif type(value) is str:
            append((kind, value, None, start, end))
        else:
            ((name, payload),) = value.items()
            append((kind, name, payload, start, end))
    return out


class NestingError(Exception):
    """Lists or block quotes nested deeper than MAX_DEPTH; `line` is where the limit was hit."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(f"lists or block quotes nested deeper than {MAX_DEPTH} levels")


class _Folder:
    def __init__(self, text: str) -> None:
        self.src = text.encode("utf-8")
        self.events = _events(text)
        self.pos = 0
        self.depth = 0
        self.line_starts = [0] + [m.end() for m in re.finditer(b"\n", self.src)]

    def line(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset)

    def raw(self, start: int, end: int) -> str:
        return self.src[start:end].decode("utf-8", "replace")

    def skip(self) -> None:
        """Skip one balanced element, from its Start event to its End event."""
        depth = 0
        while self.pos < len(self.events):
            kind = self.events[self.pos][0]
            self.pos += 1
            depth += kind == "Start"
            depth -= kind == "End"
            if depth <= 0:
                return

    def blocks(self) -> list[Block]:
        """Fold events up to the End that closes the current container (or the end)."""
        out: list[Block] = []
        while self.pos < len(self.events):
            kind, name, payload, start, end = self.events[self.pos]
            if kind == "End":
                return out
            if kind != "Start":
                self.pos += 1
                continue
            if name == "Heading":
                self.skip()
                first_line = self.raw(start, end).split("\n", 1)[0]
                level = int(str(payload["level"]).lstrip("H"))
                text = _HEADING_MARKS.sub("", first_line).strip()
                out.append(Heading(level, text, self.line(start)))
            elif name == "Paragraph":
                self.skip()
                out.append(Paragraph(_fold(self.raw(start, end)), self.line(start)))
            elif name == "CodeBlock":
                out.append(self._fence(payload, start, end))
            elif name == "List":
                self._enter(start)
                out.append(self._list(payload, start))
                self.depth -= 1
            elif name == "BlockQuote":
                self._enter(start)
                self.pos += 1
                out.extend(self.blocks())
                self.pos += 1
                self.depth -= 1
            elif name == "Table":
                out.append(self._table(start))
            else:  # html blocks, footnotes, metadata, stray inline: no structure we use
                self.skip()
        return out

    def _enter(self, start: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NestingError(self.line(start))

    def _fence(self, payload: Any, start: int, end: int) -> Fence:
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(self.events) and self.events[self.pos][0] != "End":
            if self.events[self.pos][0] == "Text":
                parts.append(str(self.events[self.pos][2]))
            self.pos += 1
        self.pos += 1
        info = str(payload.get("Fenced", "")) if isinstance(payload, dict) else ""
        end_line = self.line(max(start, end - 1))
        return Fence(info.strip(), "".join(parts), self.line(start), end_line)

    def _list(self, payload: Any, start: int) -> ListBlock:
        self.pos += 1
        items: list[Item] = []
        while self.pos < len(self.events):
            kind, name, _p, item_start, item_end = self.events[self.pos]
            if kind == "End":
                self.pos += 1
                break
            if kind == "Start" and name == "Item":
                items.append(self._item(item_start, item_end))
            else:
                self.pos += 1
        return ListBlock(items, payload is not None, self.line(start))

    def _item(self, start: int, end: int) -> Item:
        self.pos += 1
        checked: bool | None = None
        events = self.events
        if self.pos < len(events) and events[self.pos][0] == "TaskListMarker":
            checked = bool(events[self.pos][2])
            self.pos += 1
        if self.pos < len(events) and events[self.pos][:2] == ("Start", "Paragraph"):
            # loose item: the head is the first paragraph (its task marker comes inside it)
            _k, _n, _p, h_start, h_end = events[self.pos]
            if self.pos + 1 < len(events) and events[self.pos + 1][0] == "TaskListMarker":
                checked = bool(events[self.pos + 1][2])
            self.skip()
            head = self.raw(h_start, h_end)
        else:
            # tight item: the head runs from the marker to the first nested block
            depth = 0
            while self.pos < len(events):
                kind, name = events[self.pos][:2]
                if (kind == "End" and depth == 0) or (kind == "Start" and name in _BLOCKS):
                    break
                depth += kind == "Start"
                depth -= kind == "End"
                self.pos += 1
            at_block = self.pos < len(events) and events[self.pos][0] == "Start"
            stop = events[self.pos][3] if at_block else end
            head = _MARKER.sub("", self.raw(start, stop), count=1)
        if checked is not None:
            head = _CHECKBOX.sub("", head.lstrip(), count=1)
        children = self.blocks()
        self.pos += 1  # End(Item)
        return Item(_fold(head), self.line(start), checked, children)

    def _table(self, start: int) -> Table:
        self.pos += 1
        rows: list[list[str]] = []
        row_lines: list[int] = []
        while self.pos < len(self.events):
            kind, name, _p, s, e = self.events[self.pos]
            self.pos += 1
            if kind == "End" and name == "Table":
                break
            if kind == "Start" and name in ("TableHead", "TableRow"):
                rows.append([])
                row_lines.append(self.line(s))
            elif kind == "Start" and name == "TableCell" and rows:
                rows[-1].append(self.raw(s, e).strip())
        return Table(rows, self.line(start), row_lines)


def _fold(text: str) -> str:
    """Join a multi-line span into one line of text, as a reader sees it."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def parse_blocks(text: str) -> list[Block]:
    """Parse markdown text into top-level blocks (block quotes flattened)."""
    return _Folder(text).blocks()
