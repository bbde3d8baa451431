"""Text from a document or a tool, shown on a terminal without acting on it.

A task title, a tool's error or a step's output can hold control characters: an escape sequence
that clears the screen, recolours it or sets the clipboard, a bell, a carriage return that hides
what came before. What `task_status` prints shows each as `\\xNN` instead; rich's `Text` leaves
escape sequences in place, so the table is given the same text.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # every C0 and C1 control but the tab


def terminal_text(text: str) -> str:
    """`text` with its control characters shown as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
