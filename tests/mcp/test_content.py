"""A tools/call result as recorded: every block in order, binary data as a reference, structured
content beside the text that says more. Pure logic over the SDK's own block types."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from claude_task_cli.mcp.content import record, scrub

DATA = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(DATA).hexdigest()
B64 = base64.b64encode(DATA).decode()


def text(value: str) -> TextContent:
    return TextContent(type="text", text=value)


def test_text_only_is_the_text_one_block_per_line() -> None:
    recorded = record([text("first"), text("second")], None)
    assert (recorded.text, recorded.structured, recorded.value) == (
        "first\nsecond",
        None,
        "first\nsecond",
    )


def test_non_text_blocks_are_references_in_their_place() -> None:
    blocks = [
        text("before"),
        ImageContent(type="image", data=B64, mime_type="image/png"),
        AudioContent(type="audio", data=B64, mime_type="audio/wav"),
        EmbeddedResource(
            type="resource",
            resource=BlobResourceContents(
                uri="file:///a.bin", mime_type="application/zip", blob=B64
            ),
        ),
        EmbeddedResource(
            type="resource", resource=TextResourceContents(uri="file:///a.txt", text="inline text")
        ),
        ResourceLink(type="resource_link", uri="file:///b.txt", name="b", mime_type="text/plain"),
        text("after"),
    ]
    recorded = record(blocks, None)
    size = f"1,048,576 bytes, sha256 {DIGEST}"
    assert recorded.text.splitlines() == [
        "before",
        f"[image: image/png, {size}; data not recorded]",
        f"[audio: audio/wav, {size}; data not recorded]",
        f"[resource: file:///a.bin, application/zip, {size}; data not recorded]",
        "inline text",
        "[resource_link: file:///b.txt, text/plain]",
        "after",
    ]
    assert len(recorded.text) < 1000  # not a byte of the data


def test_structured_content_with_its_json_echo_is_the_structured_content() -> None:
    value = {"temperature": 36, "conditions": "Light rain"}
    assert record([text(json.dumps(value, indent=2))], value).value == value
    assert record([], value).value == value
    # a server's text beside the same value in a field (server-filesystem's read_text_file)
    assert record([text("file body")], {"content": "file body"}).value == {"content": "file body"}


def test_text_beside_structured_content_is_kept_with_it() -> None:
    value = {"copied": 5}
    blocks = [text(json.dumps(value)), text("WARNING: 2 files skipped")]
    assert record(blocks, value).value == {
        "structuredContent": value,
        "content": [
            {"type": "text", "text": '{"copied": 5}'},
            {"type": "text", "text": "WARNING: 2 files skipped"},
        ],
    }


def test_an_image_beside_structured_content_is_a_reference_block() -> None:
    image = ImageContent(type="image", data=B64, mime_type="image/png")
    whole = record([image], {"ok": True}).value
    assert whole == {
        "structuredContent": {"ok": True},
        "content": [
            {"type": "image", "mimeType": "image/png", "size": len(DATA), "sha256": DIGEST}
        ],
    }


def test_binary_data_inside_structured_content_becomes_a_reference() -> None:
    # server-filesystem's read_media_file puts the file in its structured content too
    structured: dict[str, Any] = {
        "content": [
            {"type": "image", "data": B64, "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///x", "blob": B64}},
        ],
        "note": {"type": "image", "data": 5},  # not base64 text: left alone
    }
    assert scrub(structured) == {
        "content": [
            {"type": "image", "mimeType": "image/png", "size": len(DATA), "sha256": DIGEST},
            {
                "type": "resource",
                "resource": {"uri": "file:///x", "size": len(DATA), "sha256": DIGEST},
            },
        ],
        "note": {"type": "image", "data": 5},
    }
    assert structured["content"][0]["data"] == B64  # the caller's value is not changed


def test_data_that_is_not_base64_is_measured_as_text() -> None:
    [block] = scrub([{"type": "audio", "data": "not base64!"}])
    assert block == {
        "type": "audio",
        "size": 11,
        "sha256": hashlib.sha256(b"not base64!").hexdigest(),
    }
