"""Results recorded whole, through `execute_task` against a real server (the tests' tools
server, whose `respond` tool returns the blocks and structured content a test asks for): text
kept beside structured content and checked by `expect`, an error result's structured data kept,
binary data recorded as a reference, never inline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import TOOLS_SERVER, stdio, write_mcp_json

pytestmark = pytest.mark.slow
runner = CliRunner()


def pattern(size: int) -> bytes:
    """The bytes the tools server's `respond` sends for a block of `size` bytes."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def execute(project: Path, document: str, exit_code: int) -> dict[str, Any]:
    write_mcp_json(project, {"tools": stdio(TOOLS_SERVER)})
    (project / "task.md").write_text(document, encoding="utf-8")
    result = runner.invoke(app, ["execute_task", str(project / "task.md"), "--json"])
    assert result.exit_code == exit_code, result.output
    run = json.loads(result.stdout)
    return {r["step_id"]: r for r in run["results"]}


WARNED = """# Task 40: A warning beside the data

## Task 1: Copy

- [ ] 1.1 Copy files
  ```mcp
  server: tools
  tool: respond
  args:
    structured: {copied: 5}
    blocks: [{text: '{"copied": 5}'}, {text: "WARNING: 2 files skipped"}]
  expect:
    - contains: "WARNING: 2 files skipped"
    - {path: copied, equals: 5}
    - {path: content/1/text, matches: "^WARNING"}
  ```
- [ ] 1.2 Use the count
  ```mcp
  server: tools
  tool: echo
  args: {value: "${step:1.1/copied}"}
  ```
- [ ] 1.3 A warning that is not there fails its check
  - Depends on: none
  ```mcp
  server: tools
  tool: respond
  args:
    structured: {copied: 7}
    blocks: [{text: "all copied"}]
  expect:
    - contains: "WARNING"
  ```
"""


def test_text_beside_structured_content_is_recorded_and_checked(tmp_path: Path) -> None:
    results = execute(tmp_path, WARNED, 1)
    assert results["1.1"]["status"] == "completed"
    assert results["1.1"]["result"] == {
        "structuredContent": {"copied": 5},
        "content": [
            {"type": "text", "text": '{"copied": 5}'},
            {"type": "text", "text": "WARNING: 2 files skipped"},
        ],
    }
    assert results["1.2"]["result"] == {"value": 5}  # the placeholder read the structured content
    assert results["1.3"]["status"] == "failed"
    failed = results["1.3"]["pause_reason"]
    assert (failed["type"], failed["expectation"]) == (
        "verificationFailed",
        "result contains 'WARNING'",
    )


ERROR = """# Task 41: An error with data

## Task 1: Try

- [ ] 1.1 A tool that fails and says why in data
  ```mcp
  server: tools
  tool: respond
  args:
    error: true
    structured: {failed: [a.txt, b.txt]}
    blocks: [{text: "2 files could not be read"}]
  ```
"""


def test_an_error_result_keeps_its_structured_data(tmp_path: Path) -> None:
    step = execute(tmp_path, ERROR, 1)["1.1"]
    assert step["status"] == "failed"
    assert step["error"] == "2 files could not be read"
    assert step["result"] == {
        "structuredContent": {"failed": ["a.txt", "b.txt"]},
        "content": [{"type": "text", "text": "2 files could not be read"}],
    }


BINARY = """# Task 42: Binary data

## Task 1: Fetch

- [ ] 1.1 Everything but text
  ```mcp
  server: tools
  tool: respond
  args:
    blocks: [{text: "here:"}, {image: 1048576}, {audio: 3000}, {blob: 10, uri: "file:///x.bin"}]
  expect:
    - matches: 'image/png, 1,048,576 bytes, sha256 [0-9a-f]{64}'
  ```
- [ ] 1.2 An image beside structured content
  ```mcp
  server: tools
  tool: respond
  args:
    structured: {ok: true}
    blocks: [{image: 100}]
  ```
"""


def test_binary_data_is_a_reference_not_inline(tmp_path: Path) -> None:
    results = execute(tmp_path, BINARY, 0)

    def sha(size: int) -> str:
        return hashlib.sha256(pattern(size)).hexdigest()

    assert results["1.1"]["result"].splitlines() == [
        "here:",
        f"[image: image/png, 1,048,576 bytes, sha256 {sha(1048576)}; data not recorded]",
        f"[audio: audio/wav, 3,000 bytes, sha256 {sha(3000)}; data not recorded]",
        "[resource: file:///x.bin, application/octet-stream, 10 bytes, "
        f"sha256 {sha(10)}; data not recorded]",
    ]
    assert results["1.2"]["result"] == {
        "structuredContent": {"ok": True},
        "content": [{"type": "image", "mimeType": "image/png", "size": 100, "sha256": sha(100)}],
    }
    stored = b"".join(p.read_bytes() for p in (tmp_path / ".claude-task").glob("state.db*"))
    assert len(stored) < 512 * 1024  # the 1 MiB image is not in the database
