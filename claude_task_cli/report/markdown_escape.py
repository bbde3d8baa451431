"""Text from documents and tool outputs made safe to place in markdown, as data.

Reports are rendered with Jinja, but what they show (titles, arguments, outputs, errors) is never
treated as a template or as markup that could break the page: table cells escape pipes and HTML
and keep to one line; code spans and fences are longer than any backtick run inside them; long
text is trimmed with a visible note of how much was left out; mermaid labels use entity codes;
what a tool or a run said (`data`, `data_cell`) has every inline markup character escaped.
A backslash is doubled only where markdown would read it as an escape (before ASCII punctuation,
or last): `'1.0.0\\n'` stays as written, and renders the same as it would doubled.
The author's own text keeps its markdown (`oneline`, `prose`) but never its raw HTML: every `<`
outside code is written `&lt;`, so no tag, comment or autolink of a document reaches a report.
These are the Jinja filters of the report environment (`templating.py`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from claude_task_cli.report.author_text import inert_line, inert_markdown

DEFAULT_OUTPUT_LIMIT = 4000  # characters of an output shown in a report
CELL_LIMIT = 160  # characters of a table cell
ONE_LINE_JSON = 80  # JSON up to this long is shown on one line
_SPACES = re.compile(r"\s+")
_BACKTICKS = re.compile("`+")
_CONSTANTS = {True: "true", False: "false", None: "null"}
# json.dumps(value, ensure_ascii=False, default=str), its encoder made once
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
# a backslash markdown reads as an escape: before ASCII punctuation, or at the end of the text
_ESCAPING_BACKSLASH = r"\\(?=[!-/:-@\[-`{-~]|$)"
_BACKSLASH = re.compile(_ESCAPING_BACKSLASH)
_CELL_SPECIAL = re.compile(r"[|&<>]|[^\S ]|^ | $|  |" + _ESCAPING_BACKSLASH)  # what `cell` changes
_INLINE_MARKUP = re.compile(r"[`*_~\[\]<>&|]|" + _ESCAPING_BACKSLASH)  # what `data` escapes
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MERMAID_ENTITIES = (
    ("#", "#35;"),  # first: the entities below contain it
    ('"', "#quot;"),
    ("`", "#96;"),
    ("<", "#lt;"),
    (">", "#gt;"),
    ("|", "#124;"),
)


def as_text(value: Any) -> str:
    """A value as a reader should see it: text as is, anything else as JSON, each object or list
    on one line when it fits in `ONE_LINE_JSON` characters, else one member per line."""
    if isinstance(value, str):
        return value
    return _pretty(value, "")


def _pretty(value: Any, indent: str) -> str:
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool or value is None:
        return _CONSTANTS[value]
    line = _JSON.encode(value)
    if len(line) + len(indent) <= ONE_LINE_JSON or not isinstance(value, dict | list) or not value:
        return line
    inner = indent + "  "
    if isinstance(value, dict):
        members = [f"{inner}{_JSON.encode(str(k))}: {_pretty(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    items = [inner + _pretty(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


def trimmed(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters, and how many were cut (0 when none)."""
    if limit <= 0 or len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def trim_note(omitted: int) -> str:
    return f"… {omitted} more characters trimmed"


def _one_line(value: Any) -> str:
    """Any value as text on one line, whitespace runs collapsed."""
    return _SPACES.sub(" ", as_text(value)).strip()


def oneline(value: Any) -> str:
    """The author's text on one line (headings, list items): whitespace runs collapsed, its
    markdown kept, its raw HTML made text (`inert_line`)."""
    return inert_line(_one_line(value))


def prose(value: Any) -> str:
    """The author's text as written, over several lines, for a block of its own (a description,
    at the start of a line after a blank one): its markdown kept, its raw HTML made text
    (`inert_markdown`)."""
    return inert_markdown(as_text(value))


def cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """A markdown table cell: one line, `|` and HTML escaped, trimmed visibly; `—` when empty."""
    if value is None or value == "":
        return "—"
    if type(value) is str and len(value) <= limit and not _CELL_SPECIAL.search(value):
        return value  # the common case: nothing to escape
    text, omitted = trimmed(_one_line(value), limit)
    text = _BACKSLASH.sub(r"\\\\", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|")
    return text + (f" ({trim_note(omitted)})" if omitted else "")


def data(value: Any) -> str:
    """What a tool or a run said, inline (a sentence, a list item): one line, with every character
    that markdown would read as formatting (emphasis, code, links, HTML, entities) escaped, so it
    reads exactly as it was said. The author's own text, whose markup is meant: `oneline`."""
    text = _one_line(value)
    return _INLINE_MARKUP.sub(_escape_markup, text) if _INLINE_MARKUP.search(text) else text


def data_cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """`cell` for what a tool or a run said: also emphasis, code spans and links escaped."""
    if value is None or value == "":
        return "—"
    text, omitted = trimmed(_one_line(value), limit)
    return data(text) + (f" ({trim_note(omitted)})" if omitted else "")


def _escape_markup(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


def _longest_run(text: str) -> int:
    """The longest run of backticks in `text`."""
    return max(map(len, _BACKTICKS.findall(text)), default=0) if "`" in text else 0


def code(value: Any, limit: int = CELL_LIMIT, table: bool = True) -> str:
    """An inline code span that survives any backticks inside it; in a table cell (`table`)
    its pipes escaped (`\\|`), which only a table cell reads as a pipe."""
    if value is None:
        return "—"
    text, omitted = trimmed(_one_line(value), limit)
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    body = text.replace("|", "\\|") if table else text
    span = f"{ticks}{pad}{body}{pad}{ticks}"
    return span + (f" ({trim_note(omitted)})" if omitted else "")


def fence(value: Any, lang: str = "", limit: int = DEFAULT_OUTPUT_LIMIT, lines: int = 0) -> str:
    """A fenced code block longer than any backtick run in the content; text beyond `limit`
    characters, or beyond `lines` lines when given, is cut and the cut said, below the block."""
    text = as_text(value)
    more_lines = 0
    if lines > 0:
        kept = text.splitlines(keepends=True)
        if len(kept) > lines:
            more_lines = len(kept) - lines
            text = "".join(kept[:lines])
    text, omitted = trimmed(text, limit)
    ticks = "`" * max(3, _longest_run(text) + 1)
    body = text if text.endswith("\n") else text + "\n"
    block = f"{ticks}{lang}\n{body}{ticks}"
    more = f"{more_lines} more line{'' if more_lines == 1 else 's'}"
    if omitted:
        note = trim_note(omitted) + (f", and {more}" if more_lines else "")
    else:
        note = f"… ({more})" if more_lines else ""
    return block + (f"\n\n_{note}_" if note else "")


def mermaid_label(value: Any, limit: int = 60) -> str:
    """Text for a quoted mermaid label: entity codes for what would end or alter it."""
    text, omitted = trimmed(_one_line(value), limit)
    text += "…" if omitted else ""
    for raw, entity in _MERMAID_ENTITIES:
        text = text.replace(raw, entity)
    return text


def duration(ms: float | None) -> str:
    """`4.4 ms`, `1.25 s`, `2 min 3.4 s`; `—` when not recorded."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.1f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.1f} s"


def timestamp(epoch: float | None) -> str:
    """A recorded time in UTC with milliseconds; `—` when not recorded. Never the clock's now."""
    if epoch is None:
        return "—"
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(" ", "milliseconds").replace("+00:00", " UTC")


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


FILTERS = {
    "cell": cell,
    "data": data,
    "data_cell": data_cell,
    "code": code,
    "fence": fence,
    "oneline": oneline,
    "prose": prose,
    "mermaid_label": mermaid_label,
    "duration": duration,
    "timestamp": timestamp,
    "json_text": json_text,
    "as_text": as_text,
}
