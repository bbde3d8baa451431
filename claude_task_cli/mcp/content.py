"""A `tools/call` result as the executor records it: whole, but without non-text data inline.

- Every content block is kept, in order. A text block is its text; an image, audio or embedded
  binary resource is a reference — `{"type", "mimeType", "size", "sha256"}` (with the resource's
  `uri`), size and digest of the decoded bytes — never the data itself; a resource link is its
  `uri` and `name`; an embedded text resource is its text.
- `structuredContent` is kept as the tool returned it, except that an object shaped like a binary
  block inside it (`{"type": "image" | "audio", "data": …}`, `{"blob": …}`) becomes the same
  reference: some servers put the file they read in their structured content too.

What a step records as its result (`Recorded.value`): the structured content when the tool
returned some and its blocks add nothing to it (none, or text that repeats it: its JSON text,
which the MCP spec asks servers to add for older clients, or one of its string values); else,
with structured content, both:
`{"structuredContent": …, "content": [every block]}`; else the blocks as text, one per line, a
non-text block as a line naming its reference. `run/verify.py` reads that envelope.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

STRUCTURED = "structuredContent"
CONTENT = "content"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A result's content as recorded: `text` (every block, one per line) and `structured` (the
    structured content, or the envelope of both when the blocks say more; None without any)."""

    text: str
    structured: Any

    @property
    def value(self) -> Any:
        """What the step's result is: the structured form when there is one, else the text."""
        return self.structured if self.structured is not None else self.text


def record(content: Sequence[Any], structured: Any) -> Recorded:
    """`content` (the SDK's content blocks) and `structured` (its `structured_content`) as
    recorded."""
    blocks = [block_record(block) for block in content]
    text = "\n".join(block_line(block) for block in blocks)
    if structured is None:
        return Recorded(text, None)
    kept = scrub(structured)
    strings = set(_strings(structured))
    if all(_repeats(block, structured, strings) for block in blocks):
        return Recorded(text, kept)
    return Recorded(text, {STRUCTURED: kept, CONTENT: blocks})


def block_record(block: Any) -> dict[str, Any]:
    """One SDK content block as JSON, binary data replaced by its reference."""
    kind = str(getattr(block, "type", "unknown"))
    if kind == "text":
        return {"type": "text", "text": str(getattr(block, "text", ""))}
    if kind in ("image", "audio"):
        return _reference(_given(type=kind, mimeType=block.mime_type), block.data)
    if kind == "resource":
        inner = block.resource
        described = _given(type=kind, uri=str(inner.uri), mimeType=inner.mime_type)
        blob = getattr(inner, "blob", None)
        if isinstance(blob, str):
            return _reference(described, blob)
        return {**described, "text": str(getattr(inner, "text", ""))}
    if kind == "resource_link":
        return _given(type=kind, uri=str(block.uri), name=block.name, mimeType=block.mime_type)
    return {"type": kind}


def block_line(block: dict[str, Any]) -> str:
    """A recorded block as one line of the result's text: a text as itself, the rest named."""
    kind = block["type"]
    if kind == "text" or (kind == "resource" and "text" in block):
        return str(block["text"])
    details = [str(block[key]) for key in ("uri", "mimeType") if block.get(key)]
    if "size" in block:
        details.append(f"{block['size']:,} bytes, sha256 {block['sha256']}")
    said = f"{kind}: {', '.join(details)}" if details else kind
    return f"[{said}; data not recorded]" if "sha256" in block else f"[{said}]"


def scrub(value: Any) -> Any:
    """`value` with every binary block-shaped object inside it replaced by its reference."""
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") in ("image", "audio") and isinstance(value.get("data"), str):
        kept = {k: scrub(v) for k, v in value.items() if k != "data"}
        return _reference(kept, value["data"])
    if isinstance(value.get("blob"), str):
        kept = {k: scrub(v) for k, v in value.items() if k != "blob"}
        return _reference(kept, value["blob"])
    return {key: scrub(item) for key, item in value.items()}


def _given(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _reference(described: dict[str, Any], data: str) -> dict[str, Any]:
    """`described` plus the size and SHA-256 of `data`'s bytes (base64-decoded when it is
    base64, as the protocol says it is; else its UTF-8 text)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raw = data.encode("utf-8", errors="surrogatepass")
    return {**described, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def _repeats(block: dict[str, Any], structured: Any, strings: set[str]) -> bool:
    """Whether `block` repeats the structured content: its JSON text (the spec's copy for older
    clients) or one of its strings (a server's text beside the same value in a field)."""
    if block["type"] != "text":
        return False
    if block["text"] in strings:
        return True
    try:
        return bool(json.loads(block["text"]) == structured)
    except ValueError:
        return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
