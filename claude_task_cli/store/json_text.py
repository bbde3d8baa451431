"""JSON as the store writes it: compact, non-ASCII kept, through one C encoder made once.

Its own module, without pydantic, so that the readers that avoid importing it (`completion.py`,
`step_journal.py`) can use it too.
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

# The C encoder made once (`json.dumps` with options builds a new encoder per call). The values
# are parsed JSON or plain data of our own, never cyclic: no circular-reference markers.
_ENCODE = (
    c_make_encoder(None, str, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder is not None
    else None
)


def dumps_json(value: Any) -> str:
    """Compact JSON as stored (non-ASCII kept, anything else as its `str`)."""
    if _ENCODE is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return "".join(_ENCODE(value, 0))


def loads_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)
