"""Markdown → a light tree of blocks with 1-based source lines.

The parser is markdown-it-py (CommonMark, plus GFM tables), run with its block rules only: a
title keeps its source text verbatim (`code`, **bold**), so no inline parsing is needed. Every
block token carries the range of lines it spans. GFM task-list items are recognised here: an
item whose first paragraph starts with `[ ]`, `[x]` or `[X]` followed by white space or nothing.
Block quotes are transparent: their content joins the surrounding flow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.token import Token

MAX_DEPTH = 64  # lists and quotes nested deeper are refused (no real document comes close)
_CHECKBOX = re.compile(r"\[([ xX])\](?:[ \t\n]+|$)")
_CLOSING_FENCE = re.compile(r"^[>\s]*(`{3,}|~{3,})\s*$")
_CHECKLIST_LINE = re.compile(r"^[>\s]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[[ xX]\](?:\s|$)")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


class Heading(NamedTuple):
    level: int
    text: str
    line: int


class Paragraph(NamedTuple):
    text: str
    line: int


class Fence(NamedTuple):
    info: str
    content: str
    line: int
    end_line: int


class Table(NamedTuple):
    rows: list[list[str]]
    line: int
    row_lines: list[int]


class Item(NamedTuple):
    text: str
    line: int
    checked: bool | None
    children: list[Block]


class ListBlock(NamedTuple):
    items: list[Item]
    ordered: bool
    line: int


Block = Heading | Paragraph | Fence | Table | ListBlock


class NestingError(Exception):
    """Lists or block quotes nested deeper than MAX_DEPTH; `line` is where the limit was hit."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(f"lists or block quotes nested deeper than {MAX_DEPTH} levels")


@cache
def _parser() -> MarkdownIt:
    """CommonMark with tables, block rules only. markdown-it stops descending at `maxNesting`
    token levels (a list is two: the list and its item), which also bounds its recursion; the
    limit sits just above MAX_DEPTH lists so that a document too deep is refused, never cut.
    Imported here, on the first parse: the stages that only read the model never pay for it."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import table

    md = MarkdownIt("commonmark", {"maxNesting": 2 * MAX_DEPTH + 4}).enable("table")
    md.block.ruler.at("table", partial(_table_as_written, table), {"alt": ["paragraph"]})
    md.block.ruler.disable("reference")  # `- [Name]: [purpose]` is text here, not a link target
    md.core.ruler.disable(["inline", "text_join"])
    return md


def _table_as_written(
    table: Callable[[StateBlock, int, int, bool], bool],
    state: StateBlock,
    start: int,
    end: int,
    silent: bool,
) -> bool:
    """markdown-it's GFM table rule, with each cell's text as written: the rule drops the
    backslash of an escaped `\\|`, which is the author's text here, not markup."""
    first = len(state.tokens)
    if not table(state, start, end, silent):
        return False
    if silent:
        return True
    cells: list[str] = []
    for token in state.tokens[first:]:
        if token.type == "tr_open" and token.map is not None:
            line = token.map[0]
            row = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
            cells = _CELL_SEPARATOR.split(row.strip())
            if cells and not cells[0].strip():
                cells.pop(0)
            if cells and not cells[-1].strip():
                cells.pop()
            cells.reverse()
        elif token.type == "inline":
            token.content = cells.pop().strip() if cells else ""
    return True


class ParsedBlocks(NamedTuple):
    """The top-level blocks, and what the parse itself has to warn about."""

    blocks: list[Block]
    warnings: list[tuple[int, str]]


class _Folder:
    def __init__(self, tokens: list[Token], lines: list[str]) -> None:
        self.tokens = tokens
        self.lines = lines
        self.pos = 0
        self.depth = 0
        self.warnings: list[tuple[int, str]] = []

    def blocks(self) -> list[Block]:
        """Fold tokens up to the one that closes the current container (or the end)."""
        out: list[Block] = []
        tokens = self.tokens
        while self.pos < len(tokens):
            token = tokens[self.pos]
            kind = token.type
            if token.nesting < 0:
                return out
            if kind == "paragraph_open":
                out.append(Paragraph(_fold(tokens[self.pos + 1].content), _line(token)))
                self.pos += 3
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self._enter(token)
                out.append(self._list(token))
                self.depth -= 1
            elif kind == "heading_open":
                text = tokens[self.pos + 1].content.split("\n", 1)[0].strip()
                out.append(Heading(int(token.tag[1:]), text, _line(token)))
                self.pos += 3
            elif kind in ("fence", "code_block"):
                out.append(self._fence(token))
                self.pos += 1
            elif kind == "blockquote_open":
                self._enter(token)
                self.pos += 1
                out.extend(self.blocks())
                self.pos += 1
                self.depth -= 1
            elif kind == "table_open":
                out.append(self._table(token))
            else:  # html blocks and rules: no structure we use
                self._skip()
        return out

    def _skip(self) -> None:
        """Skip one token, or one balanced element from its opening to its closing token."""
        depth = 0
        while self.pos < len(self.tokens):
            depth += self.tokens[self.pos].nesting
            self.pos += 1
            if depth <= 0:
                return

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NestingError(_line(token))

    def _fence(self, token: Token) -> Fence:
        start, end = token.map or (0, 1)
        if token.type == "fence" and end == len(self.lines) and not self._closes(token, end - 1):
            self._warn_unclosed(token, start, end)
        return Fence(token.info.strip(), token.content, start + 1, end)

    def _closes(self, token: Token, index: int) -> bool:
        """Whether source line `index` is a fence closing the one `token` opened."""
        match = _CLOSING_FENCE.match(self.lines[index])
        opening = token.markup
        return (
            match is not None
            and token.map is not None
            and index > token.map[0]
            and match.group(1)[0] == opening[0]
            and len(match.group(1)) >= len(opening)
        )

    def _warn_unclosed(self, token: Token, start: int, end: int) -> None:
        hidden = sum(1 for line in self.lines[start + 1 : end] if _CHECKLIST_LINE.match(line))
        self.warnings.append(
            (
                start + 1,
                f"code fence {token.markup}{token.info.strip()} is never closed: the rest of the "
                f"document is read as code ({hidden} checklist-looking line"
                f"{'' if hidden == 1 else 's'} inside); close it with {token.markup}",
            )
        )

    def _list(self, token: Token) -> ListBlock:
        self.pos += 1
        items: list[Item] = []
        tokens = self.tokens
        while self.pos < len(tokens):
            current = tokens[self.pos]
            if current.type == "list_item_open":
                items.append(self._item(current))
            else:  # the list's closing token
                self.pos += 1
                break
        return ListBlock(items, token.type == "ordered_list_open", _line(token))

    def _item(self, token: Token) -> Item:
        self.pos += 1
        tokens = self.tokens
        checked: bool | None = None
        head = ""
        if self.pos < len(tokens) and tokens[self.pos].type == "paragraph_open":
            head = tokens[self.pos + 1].content
            box = _CHECKBOX.match(head)
            if box:
                checked = box.group(1) != " "
                head = head[box.end() :]
            self.pos += 3
        children = self.blocks()
        self.pos += 1  # list_item_close
        return Item(_fold(head), _line(token), checked, children)

    def _table(self, token: Token) -> Table:
        self.pos += 1
        rows: list[list[str]] = []
        row_lines: list[int] = []
        tokens = self.tokens
        while self.pos < len(tokens):
            current = tokens[self.pos]
            self.pos += 1
            if current.type == "table_close":
                break
            if current.type == "tr_open":
                rows.append([])
                row_lines.append(_line(current))
            elif current.type == "inline" and rows:
                rows[-1].append(current.content.strip())
        return Table(rows, _line(token), row_lines)


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1


def _fold(text: str) -> str:
    """Join a multi-line span into one line of text, as a reader sees it."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def parse_blocks(text: str) -> ParsedBlocks:
    """Parse markdown text into top-level blocks (block quotes flattened)."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # markdown-it counts the lines a final newline ends, not the empty one after
    folder = _Folder(_parser().parse(text), lines)
    blocks = folder.blocks()
    return ParsedBlocks(blocks, folder.warnings)
