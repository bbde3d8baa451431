"""Text from documents and tool outputs made safe to place in markdown, as data.

Reports are rendered with Jinja, but what they show (titles, arguments, outputs, errors) is never
treated as a template or as markup that could break the page: table cells escape pipes and HTML
and keep to one line; code spans and fences are longer than any backtick run inside them; long
text is trimmed with a visible note of how much was left out; mermaid labels use entity codes;
what a tool or a run said (`data`, `data_cell`) has every inline markup character escaped.
These are the Jinja filters of the report environment (`templating.py`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

DEFAULT_OUTPUT_LIMIT = 4000  # characters of an output shown in a report
CELL_LIMIT = 160  # characters of a table cell
ONE_LINE_JSON = 80  # JSON up to this long is shown on one line
_SPACES = re.compile(r"\s+")
_encode_str = json.encoder.encode_basestring  # a str as JSON, in C
_CONSTANTS = {True: "true", False: "false", None: "null"}


def _c_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False, default=str)`, made once. json.dumps builds a new
    encoder on every call, and `JSONEncoder.encode` a new C encoder: ~2x the encoding itself
    for the small values of a report. No circular-reference check: what is shown was decoded
    from JSON (a cycle would end in RecursionError rather than a wrong text)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without json's C accelerator
        return json.JSONEncoder(ensure_ascii=False, default=str).encode
    chunks = make(None, str, _encode_str, None, ": ", ", ", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_encode = _c_encoder()
_CELL_SPECIAL = re.compile(r"[|&<>\\]|[^\S ]|^ | $|  ")  # what `cell` would change
_INLINE_MARKUP = re.compile(r"[\\`*_~\[\]<>&|]")  # what `data` escapes
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
    # Leaves are encoded in C (json's encoder, made once); only what does not fit is broken into
    # lines (json.dumps(indent=...) would do all of it in pure Python: ~5x slower on large reports).
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool or value is None:
        return _CONSTANTS[value]
    line = _encode(value)
    if len(line) + len(indent) <= ONE_LINE_JSON or not isinstance(value, dict | list) or not value:
        return line
    inner = indent + "  "
    if isinstance(value, dict):
        members = [f"{inner}{_encode_str(str(k))}: {_pretty(v, inner)}" for k, v in value.items()]
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


def oneline(value: Any) -> str:
    """Any text on one line, whitespace runs collapsed (for headings and list items)."""
    return _SPACES.sub(" ", as_text(value)).strip()


def cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """A markdown table cell: one line, `|` and HTML escaped, trimmed visibly; `—` when empty."""
    if value is None or value == "":
        return "—"
    if type(value) is str and len(value) <= limit and not _CELL_SPECIAL.search(value):
        return value  # the common case: nothing to escape
    text, omitted = trimmed(oneline(value), limit)
    text = (
        text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )
    text = text.replace("|", "\\|")
    return text + (f" ({trim_note(omitted)})" if omitted else "")


def data(value: Any) -> str:
    """What a tool or a run said, inline (a sentence, a list item): one line, with every character
    that markdown would read as formatting (emphasis, code, links, HTML, entities) escaped, so it
    reads exactly as it was said. The author's own text, whose markup is meant: `oneline`."""
    text = oneline(value)
    return _INLINE_MARKUP.sub(_escape_markup, text) if _INLINE_MARKUP.search(text) else text


def data_cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """`cell` for what a tool or a run said: also emphasis, code spans and links escaped."""
    if value is None or value == "":
        return "—"
    text, omitted = trimmed(oneline(value), limit)
    return data(text) + (f" ({trim_note(omitted)})" if omitted else "")


def _escape_markup(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


def _longest_run(text: str) -> int:
    """The longest run of backticks in `text`: found by substring search, doubling then halving
    (`in` is C; a regex scan of the text costs ~20x more on a typical output)."""
    if "`" not in text:
        return 0
    low, high = 1, 2  # a run of `low` is in the text; of `high`, not known yet
    while "`" * high in text:
        low, high = high, high * 2
    while high - low > 1:  # now: `low` in, `high` not
        middle = (low + high) // 2
        low, high = (middle, high) if "`" * middle in text else (low, middle)
    return low


def code(value: Any, limit: int = CELL_LIMIT) -> str:
    """An inline code span that survives any backticks inside it, and table cells (`\\|`)."""
    if value is None:
        return "—"
    text, omitted = trimmed(oneline(value), limit)
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    span = f"{ticks}{pad}{text.replace('|', chr(92) + '|')}{pad}{ticks}"
    return span + (f" ({trim_note(omitted)})" if omitted else "")


def fence(value: Any, lang: str = "", limit: int = DEFAULT_OUTPUT_LIMIT) -> str:
    """A fenced code block longer than any backtick run in the content; text beyond `limit`
    characters is cut and the cut said, below the block."""
    text, omitted = trimmed(as_text(value), limit)
    ticks = "`" * max(3, _longest_run(text) + 1)
    body = text if text.endswith("\n") else text + "\n"
    block = f"{ticks}{lang}\n{body}{ticks}"
    return block + (f"\n\n_{trim_note(omitted)}_" if omitted else "")


def mermaid_label(value: Any, limit: int = 60) -> str:
    """Text for a quoted mermaid label: entity codes for what would end or alter it."""
    text, omitted = trimmed(oneline(value), limit)
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
    """A recorded time in UTC with milliseconds; `—` when not recorded. Never the clock's now.

    What `datetime.fromtimestamp(epoch, UTC).isoformat(" ", "milliseconds")` writes (microseconds
    rounded half-even, then cut to milliseconds), with the date and time of each whole second
    made once: a report shows thousands of times within the same few seconds."""
    if epoch is None:
        return "—"
    fraction, whole = math.modf(epoch)
    micro = round(fraction * 1e6)
    if fraction < 0 or micro >= 1_000_000:  # before 1970, or rounded up into the next second
        return _iso(epoch)
    prefix = _SECONDS.get(whole)
    if prefix is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        prefix = _SECONDS[whole] = _iso(whole)[:19]
    return f"{prefix}.{micro // 1000:03d} UTC"


_SECONDS: dict[float, str] = {}


def _iso(epoch: float) -> str:
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
    "mermaid_label": mermaid_label,
    "duration": duration,
    "timestamp": timestamp,
    "json_text": json_text,
    "as_text": as_text,
}
