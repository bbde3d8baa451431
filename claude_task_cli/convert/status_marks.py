"""Status text in headings → `Status`, tolerant of emoji, words and mojibake.

Authors write `✅ Complete`, `- Not Started`, `🚧 In Progress`, `❌ BLOCKED - fixes needed`; copies
pass through the wrong codec and come back as `ó Not Started` (⏳ cut to one byte) or `âœ…` (UTF-8
read as cp1252). Words win over symbols; an unknown status keeps its raw text and reads `unknown`.
"""

from __future__ import annotations

import re

from claude_task_cli.convert.model import Status, StatusInfo

_SYMBOLS: dict[str, Status] = {
    "⏳": Status.NOT_STARTED,
    "⌛": Status.NOT_STARTED,
    "⬜": Status.NOT_STARTED,
    "🔲": Status.NOT_STARTED,
    "ó": Status.NOT_STARTED,  # ⏳ (U+23F3) truncated to its low byte 0xF3 by a lossy copy
    "🔄": Status.IN_PROGRESS,
    "🚧": Status.IN_PROGRESS,
    "⚙": Status.IN_PROGRESS,
    "🟡": Status.IN_PROGRESS,
    "✅": Status.COMPLETE,
    "✔": Status.COMPLETE,
    "☑": Status.COMPLETE,
    "🟢": Status.COMPLETE,
    "❌": Status.FAILED,
    "✗": Status.FAILED,
    "🔴": Status.FAILED,
    "⛔": Status.BLOCKED,
    "⚠": Status.BLOCKED,  # ⚠️ (warning), as in `⚠️ Blocked` or a lone `⚠️`
    "🚫": Status.BLOCKED,
    "\ufffd": Status.UNKNOWN,
}

_WORDS: list[tuple[re.Pattern[str], Status]] = [
    (
        re.compile(r"\bnot[\s_-]*started\b|\btodo\b|\bto[\s-]do\b|\bpending\b|\bplanned\b", re.I),
        Status.NOT_STARTED,
    ),
    (
        re.compile(r"\bin[\s_-]*progress\b|\bwip\b|\bongoing\b|\bstarted\b", re.I),
        Status.IN_PROGRESS,
    ),
    (re.compile(r"\bblocked\b", re.I), Status.BLOCKED),
    (re.compile(r"\bfail(?:ed|ing|s)?\b", re.I), Status.FAILED),
    (
        re.compile(r"\bcomplete(?:d)?\b|\bdone\b|\bfinished\b|\bpass(?:ed)?\b", re.I),
        Status.COMPLETE,
    ),
]

# Where a status may begin at the end of a heading: a known symbol, or a separator before words
# (`- Done`, `: Blocked`, `(Blocked)`, `[Not Started]`), or capitals (`COMPLETE`), or a two-word
# status (`Not Started`, `In Progress`), or `Completed` / `Blocked` as the very last word.
_TRAIL_WORDS = re.compile(
    r"(?:\s[-–—:|]\s*|\s[(\[]|\s(?=(?-i:[A-Z]{4,})\b)|\s(?=not[\s_-]*started|in[\s_-]*progress)"
    r"|\s(?=(?:completed|blocked)\s*$))"
    r"((?:not[\s_-]*started|in[\s_-]*progress|complete[d]?|done|blocked|"
    r"failed|todo|pending|wip)\b.*)$",
    re.I,
)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252 (`âœ…` → `✅`); leave anything else alone."""
    if not any("\u00c0" <= ch <= "\u00ff" for ch in text):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def classify(raw: str) -> Status:
    """Normalise a status text; words decide, symbols are the fallback."""
    text = repair_mojibake(raw)
    for pattern, status in _WORDS:
        if pattern.search(text):
            return status
    for symbol, status in _SYMBOLS.items():
        if symbol in text:
            return status
    return Status.UNKNOWN


def split_title(heading: str) -> tuple[str, StatusInfo]:
    """Split `Title ✅ Complete` into the title and its status (raw text kept as written,
    brackets included: `Title (Blocked)` → raw `(Blocked)`)."""
    repaired = repair_mojibake(heading)
    cut = _first_symbol(repaired)
    if cut is None:
        match = _TRAIL_WORDS.search(repaired)
        cut = match.start(1) if match else None
    if cut is None or not repaired[:cut].strip(" -–—:|(["):
        return heading.strip(), StatusInfo(value=Status.UNKNOWN, raw="")
    head = repaired[:cut].rstrip()
    if head.endswith(("(", "[")):  # a bracketed status: the bracket belongs to it
        cut = len(head) - 1
    title = repaired[:cut].rstrip(" -–—:|").strip()
    raw = repaired[cut:].strip()
    if repaired != heading and heading.startswith(title):
        raw = heading[len(title) :].strip(" -–—:|")  # the author's bytes, not our repair
    return title, StatusInfo(value=classify(raw), raw=raw)


def _first_symbol(text: str) -> int | None:
    positions = [text.find(symbol) for symbol in _SYMBOLS if symbol in text]
    # A lone `ó` inside a word (e.g. "Migración") is not a status marker.
    positions = [p for p in positions if not (text[p] == "ó" and p > 0 and text[p - 1].isalpha())]
    return min(positions) if positions else None
