"""The author's markdown made inert: its formatting kept, its raw HTML written as text.

A document's titles, objective, description and list items are markdown their author meant
(emphasis, code spans, links) and are shown as such. Raw HTML is not shown as HTML: a report is
read in viewers that render it (an `<img onerror=…>` in a task title would run there). In
CommonMark every piece of raw HTML — a tag, a comment, a declaration, an autolink — starts with a
`<` outside code, so each such `<` is written `&lt;`, which renders as the `<` it was.

Inside code a `<` is already text, and `&lt;` there would show as written, so code is left alone
where it is certainly code: a code span whose backtick strings pair as CommonMark pairs them
within one line, and a fenced block opened at the start of a line. Wherever that is uncertain
(a link destination that could hold backticks, a code span over several lines, an indented fence
whose container decides where it ends) every `<` is escaped: a `<` shown as `&lt;` in code is the
worst that can happen, never a tag.
"""

from __future__ import annotations

import re

_BACKTICK_RUN = re.compile(r"`+")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def inert_line(text: str) -> str:
    """One line of the author's markdown with every `<` outside its code spans as `&lt;`."""
    if "<" not in text:
        return text
    if "`" not in text or "](" in text or "]:" in text:  # no code spans, or a link could hold one
        return text.replace("<", "&lt;")
    out = []
    start = index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _PUNCTUATION:
            index += 2  # an escaped character (an escaped `<` is text already)
        elif char == "`":
            run = _BACKTICK_RUN.match(text, index)
            assert run is not None
            end = _closing(text, run.end(), len(run.group()))
            if end is None:
                index = run.end()  # no closing string: the backticks are text
            else:
                out.append(text[start:index].replace("<", "&lt;"))
                out.append(text[index:end])  # the code span, as written
                start = index = end
        else:
            index += 1
    out.append(text[start:].replace("<", "&lt;"))
    return "".join(out)


def _closing(text: str, after: int, length: int) -> int | None:
    """Where the code span opened by a backtick string of `length` ending at `after` ends: after
    the next backtick string of exactly that length; None when there is none."""
    for run in _BACKTICK_RUN.finditer(text, after):
        if len(run.group()) == length:
            return run.end()
    return None


def inert_markdown(text: str) -> str:
    """The author's markdown over several lines with every `<` outside code as `&lt;`: fenced
    blocks opened at the start of a line are kept as written, and the code spans of a paragraph
    of one line (`inert_line`); everything else is escaped."""
    if "<" not in text:
        return text
    lines = text.split("\n")
    if len(lines) == 1:
        return inert_line(text)
    out = []
    fence: tuple[str, int] | None = None  # the fence character and length of the open block
    certain = True  # False after an indented fence: its container decides where it ends
    for index, line in enumerate(lines):
        found = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if found is not None and _closes(found, fence):
                fence = None
            continue
        if found and certain:
            mark, info = found.group(2), found.group(3)
            if mark[0] == "~" or "`" not in info:  # an opening fence
                if found.group(1):
                    certain = False
                else:
                    fence = (mark[0], len(mark))
                    out.append(line)
                    continue
        alone = _blank(lines, index - 1) and _blank(lines, index + 1)
        out.append(inert_line(line) if certain and alone else line.replace("<", "&lt;"))
    return "\n".join(out)


def _closes(found: re.Match[str], fence: tuple[str, int]) -> bool:
    """Whether a fence-like line closes the open block: its character, at least its length, and
    nothing after it."""
    mark = found.group(2)
    return mark[0] == fence[0] and len(mark) >= fence[1] and not found.group(3).strip(" \t")


def _blank(lines: list[str], index: int) -> bool:
    """Whether line `index` is blank or outside the text."""
    return index < 0 or index >= len(lines) or not lines[index].strip()
