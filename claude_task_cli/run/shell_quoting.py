"""Where a placeholder sits in a shell string, and its value quoted for that place.

A step result placed into the command server's shell string (`command: "echo '${step:1.1}'"`)
must reach the command as data, never as shell: `'; touch pwned; '` would otherwise end the
quotes and run. How to quote a value depends on where the placeholder sits, so the string is
read the way a POSIX shell reads it, up to each placeholder:

- outside quotes → `shlex.quote(value)` (one word);
- inside '…' → each `'` of the value written as `'\\''`;
- inside "…" → `\\`, `"`, `$` and backquote escaped with a backslash;
- anywhere else — inside $'…', backquotes, ${…}, $((…)), a comment, a here-document — no quoting
  is sure, so the placeholder is refused with the place named (`env` carries such a value: set
  `NAME: "${step:1.1}"` and write "$NAME").

A `command` string the server splits into an argv (`shell: false`) is read as `shlex.split` reads
it: only quotes and backslashes count there, and a backslash inside "…" escapes only `\\` and `"`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from claude_task_cli.convert.binding import PLACEHOLDER

WORD, SINGLE, DOUBLE = "word", "single", "double"
# The places where a value cannot be quoted, named as the refusal says them.
_REFUSED = {
    "ansi": "inside $'…'",
    # A backquote ends at the next one even inside quotes: what follows is not followed either.
    "backquote": "inside or after backquotes (write $(…) instead)",
    "brace": "inside ${…}",
    "arith": "inside $((…))",
    "comment": "inside a comment",
    "heredoc": "inside a here-document",
    # This reader does not follow `case` patterns inside $(…), nor quotes inside ${…} and
    # $((…)); after them it cannot be sure where it is, so every later placeholder is refused.
    "lost": "after a construct whose quoting this reader does not follow",
}
UNSURE = "where its quoting cannot be told"
_WORD_END = set(" \t\n;&|()<>")
_HEREDOC_START = re.compile(r"<<(-?)[ \t]*")


def quote(value: str, place: str, *, split: bool = False) -> str:
    """`value` quoted for `place` (`WORD`, `SINGLE` or `DOUBLE`, from `places`)."""
    if place == SINGLE:
        return value.replace("'", "'\\''")
    if place == DOUBLE:
        specials = '\\"' if split else '\\"$`'
        return "".join("\\" + c if c in specials else c for c in value)
    return shlex.quote(value)


def places(text: str, *, split: bool = False) -> dict[int, str]:
    """Where each placeholder of `text` sits, by its offset: `WORD`, `SINGLE`, `DOUBLE`, or why it
    is refused (a phrase such as "inside a here-document"). A placeholder missing from the answer
    sits where this reader cannot tell: refuse it too (`UNSURE`)."""
    found: dict[int, str] = {}
    _Reader(text, split, found.__setitem__).read()
    return found


@dataclass
class _Open:
    """A construct open at the reading point; `depth` counts its nested parentheses or braces."""

    kind: str
    depth: int = 0


class _Reader:
    """A POSIX shell's quoting, read far enough to know where each placeholder sits.

    `stack` holds the open constructs, innermost last: "word" (top level or inside $(…), with
    its open parentheses), "single", "double", and the refused ones. Placeholders are read as
    plain word characters."""

    def __init__(self, text: str, split: bool, found: Callable[[int, str], None]) -> None:
        self.text, self.split, self.found = text, split, found
        self.stack = [_Open(WORD)]
        self.heredocs: list[tuple[str, bool]] = []  # delimiters waiting for the next line

    def place(self) -> str:
        for construct in reversed(self.stack):
            if construct.kind in _REFUSED:
                return _REFUSED[construct.kind]
        return self.stack[-1].kind

    def read(self) -> None:
        text, i = self.text, 0
        placeholders = {m.start(): m.end() for m in PLACEHOLDER.finditer(text)}
        while i < len(text):
            if i in placeholders:
                self.found(i, self.place())
                i = placeholders[i]
                continue
            i = self.step(i)

    def step(self, i: int) -> int:
        """Read the character at `i` in the innermost construct; return where to go on."""
        text, top = self.text, self.stack[-1]
        kind, c, ahead = top.kind, text[i], text[i : i + 3]
        if kind in (SINGLE, "ansi"):
            if c == "\\" and kind == "ansi":
                return i + 2
            if c == "'":
                self.stack.pop()
            return i + 1
        if kind == "comment":
            if c == "\n":
                self.stack.pop()
                return self.step(i)
            return i + 1
        if c == "\\":
            return i + 2
        if kind in ("lost", "backquote"):
            return i + 1
        if kind in ("brace", "arith"):
            if c in "'\"`" or ahead.startswith("$("):
                self.stack.append(_Open("lost"))
                return i
            return self.close_nested(i, "{" if kind == "brace" else "(")
        if kind == DOUBLE and c == '"':
            self.stack.pop()
            return i + 1
        if not self.split and (kind != DOUBLE or c in "$`"):
            opened = self.open_expansion(i, ahead, in_double=kind == DOUBLE)
            if opened:
                return i + opened
        if kind == DOUBLE:
            return i + 1
        return self.step_in_word(i, top)

    def open_expansion(self, i: int, ahead: str, *, in_double: bool) -> int:
        """Open $((…)), $(…), ${…}, backquotes or $'…' at `i`: the length of its opening."""
        for start, kind in (("$((", "arith"), ("$(", WORD), ("${", "brace"), ("`", "backquote")):
            if ahead.startswith(start):
                self.stack.append(_Open(kind))
                return len(start)
        if ahead.startswith("$'") and not in_double:
            self.stack.append(_Open("ansi"))
            return 2
        return 0

    def close_nested(self, i: int, opening: str) -> int:
        """Inside ${…} or $((…)): count nested openings until the construct closes."""
        top, c = self.stack[-1], self.text[i]
        closing = "}" if opening == "{" else ")"
        if c == opening:
            top.depth += 1
        elif c == closing:
            if top.depth:
                top.depth -= 1
            else:
                self.stack.pop()
                return i + (2 if opening == "(" else 1)  # $((…)) ends with "))"
        return i + 1

    def step_in_word(self, i: int, top: _Open) -> int:
        text, c = self.text, self.text[i]
        substitution = len(self.stack) > 1  # inside $(…), which a `)` closes
        if c == "'":
            self.stack.append(_Open(SINGLE))
        elif c == '"':
            self.stack.append(_Open(DOUBLE))
        elif self.split:
            pass
        elif c == "#" and (i == 0 or text[i - 1] in _WORD_END):
            self.stack.append(_Open("comment"))
        elif substitution and _is_word(text, i, "case"):
            self.stack.append(_Open("lost"))
        elif c == "(" and substitution:
            top.depth += 1
        elif c == ")" and substitution:
            if top.depth:
                top.depth -= 1
            else:
                self.stack.pop()
        elif text.startswith("<<<", i):  # a here-string: a plain word follows
            return i + 3
        elif text.startswith("<<", i):
            return self.heredoc_operator(i)
        elif c == "\n" and self.heredocs:
            return self.skip_heredoc_bodies(i + 1)
        return i + 1

    def heredoc_operator(self, i: int) -> int:
        """`<<WORD` / `<<-WORD`: note the delimiter; its body starts on the next line."""
        operator = _HEREDOC_START.match(self.text, i)
        assert operator is not None
        end = operator.end()
        while end < len(self.text) and self.text[end] not in _WORD_END:
            end += 1
        word = self.text[operator.end() : end]
        for match in PLACEHOLDER.finditer(word):
            self.found(operator.end() + match.start(), _REFUSED["heredoc"])
        self.heredocs.append(
            (word.replace("'", "").replace('"', "").replace("\\", ""), bool(operator.group(1)))
        )
        return end

    def skip_heredoc_bodies(self, i: int) -> int:
        """Read past the bodies of the here-documents opened on the line that just ended."""
        for delimiter, strip_tabs in self.heredocs:
            for line in _lines_from(self.text, i):
                for match in PLACEHOLDER.finditer(line):
                    self.found(i + match.start(), _REFUSED["heredoc"])
                i += len(line)
                ended = line.rstrip("\n")
                if (ended.lstrip("\t") if strip_tabs else ended) == delimiter:
                    break
        self.heredocs.clear()
        return i


def _is_word(text: str, i: int, word: str) -> bool:
    """Whether `word` stands alone at `i` (as a keyword would)."""
    end = i + len(word)
    return (
        text.startswith(word, i)
        and (i == 0 or text[i - 1] in _WORD_END)
        and (end == len(text) or text[end] in _WORD_END)
    )


def _lines_from(text: str, i: int) -> Iterator[str]:
    while i < len(text):
        end = text.find("\n", i)
        end = len(text) if end < 0 else end + 1
        yield text[i:end]
        i = end
