"""execute_task against reference MCP servers nobody here wrote, over real stdio and HTTP.

- `mcp-server-git` (PyPI, in the dev extras) on a scratch repository, over stdio;
- `@modelcontextprotocol/server-filesystem` (npm) scoped to a scratch directory, over stdio;
- `@modelcontextprotocol/server-everything` (npm), over stdio and over streamable HTTP.

Every run goes through the CLI (`execute_task --json`) with the servers declared in a `.mcp.json`,
as a user would run it. The npm servers are the exact versions pinned in `package.json` /
`package-lock.json`, installed into `node_modules/` by `scripts/setup.sh` (`npm ci`). Without node
or the installed packages these tests skip — unless `CLAUDE_TASK_REQUIRE_REFERENCE_SERVERS=1`
(set by `.ci/run`), where a missing server is a failure: CI must really run them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import NPM_SCOPE, free_port, node_server, stdio, write_mcp_json

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (where `.mcp.json` and the state go), the current directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("CLAUDE_TASK_PYTHON", sys.executable)  # the CLI would set it for good
    return root


def execute(project: Path, servers: dict[str, Any], document: str, exit_code: int) -> Any:
    """Write `.mcp.json` and the document, run `execute_task --json`, return the run document."""
    write_mcp_json(project, servers)
    doc = project / "task.md"
    doc.write_text(document, encoding="utf-8")
    result = runner.invoke(app, ["execute_task", str(doc), "--json"])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def steps(run: Any) -> dict[str, Any]:
    return {r["step_id"]: r for r in run["results"]}


def reasons(run: Any) -> dict[str, Any]:
    return {r.get("blockedStep") or r.get("failedStep"): r for r in run["pauseReasons"]}


# mcp-server-git ---------------------------------------------------------------------------------

GIT_REVIEW = r"""# Task 30: Review and commit a change with mcp-server-git

## Task 1: Look, stage, commit

- [ ] 1.1 What changed
  ```mcp
  server: git
  tool: git_status
  args: {repo_path: "@REPO@"}
  expect:
    - contains: "On branch main"
    - matches: 'modified:\s+notes\.txt'
  ```
- [ ] 1.2 The change itself
  ```mcp
  server: git
  tool: git_diff_unstaged
  args: {repo_path: "@REPO@"}
  expect:
    - contains: "+a second line"
  ```
- [ ] 1.3 The history so far
  ```mcp
  server: git
  tool: git_log
  args: {repo_path: "@REPO@", max_count: 5}
  expect:
    - contains: "Message: first commit"
  ```
- [ ] 1.4 Stage it
  ```mcp
  server: git
  tool: git_add
  args: {repo_path: "@REPO@", files: [notes.txt]}
  ```
- [ ] 1.5 Commit, with the reviewed diff in the message
  ```mcp
  server: git
  tool: git_commit
  args: {repo_path: "@REPO@", message: "Reviewed change\n\n${step:1.2}"}
  expect:
    - contains: "committed"
  ```
- [ ] 1.6 The commit is in the history
  ```mcp
  server: git
  tool: git_log
  args: {repo_path: "@REPO@", max_count: 1}
  expect:
    - contains: "Message: Reviewed change"
    - contains: "+a second line"
  ```
- [ ] 1.7 Nothing left to commit
  ```mcp
  server: git
  tool: git_status
  args: {repo_path: "@REPO@"}
  expect:
    - contains: "nothing to commit"
  ```
"""

GIT_BAD_REVISION = """# Task 31: A revision that does not exist

## Task 1: Show it

- [ ] 1.1 Show the revision
  ```mcp
  server: git
  tool: git_show
  args: {repo_path: "@REPO@", revision: no-such-revision}
  ```
- [ ] 1.2 Then the log
  ```mcp
  server: git
  tool: git_log
  args: {repo_path: "@REPO@"}
  ```
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit and an unstaged change to notes.txt."""
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH")
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Reference Test")
    git(path, "config", "user.email", "reference@example.invalid")
    (path / "notes.txt").write_text("a first line\n", encoding="utf-8")
    git(path, "add", "notes.txt")
    git(path, "commit", "-q", "-m", "first commit")
    (path / "notes.txt").write_text("a first line\na second line\n", encoding="utf-8")
    return path


def git_servers(repo: Path) -> dict[str, Any]:
    python = "${CLAUDE_TASK_PYTHON:-python3}"  # the documented form
    return {"git": stdio([python, "-m", "mcp_server_git", "--repository", str(repo)])}


def test_git_review_and_commit(project: Path, repo: Path) -> None:
    run = execute(project, git_servers(repo), GIT_REVIEW.replace("@REPO@", str(repo)), 0)
    assert run["status"] == "completed"
    assert run["pauseReasons"] == []
    results = steps(run)
    assert {r["status"] for r in results.values()} == {"completed"}
    # the recorded results are the server's own text, checked by the `expect` assertions
    assert results["1.1"]["result"].startswith("Repository status:")
    diff = results["1.2"]["result"]
    assert "diff --git a/notes.txt b/notes.txt" in diff
    head = git(repo, "rev-parse", "HEAD").strip()
    assert head in results["1.5"]["result"]
    assert f"Commit: {head}" in results["1.6"]["result"]
    # the placeholder carried step 1.2's real output into the commit that git recorded
    assert git(repo, "log", "-1", "--format=%B").strip() == f"Reviewed change\n\n{diff}".strip()
    assert git(repo, "status", "--porcelain") == ""


def test_git_bad_revision_is_a_tool_error(project: Path, repo: Path) -> None:
    run = execute(project, git_servers(repo), GIT_BAD_REVISION.replace("@REPO@", str(repo)), 1)
    assert run["status"] == "failed"
    results = steps(run)
    assert results["1.1"]["status"] == "failed"
    assert results["1.2"]["status"] == "skipped"
    error = results["1.1"]["pause_reason"]
    assert error["type"] == "toolError"
    assert (error["failedStep"], error["retryable"], error["suggestedTool"]) == (
        "1.1",
        False,
        "git_show",
    )
    assert "no-such-revision" in error["error"]  # the server's own message
    assert "did not resolve" in error["error"]


# @modelcontextprotocol/server-filesystem --------------------------------------------------------

FILESYSTEM = """# Task 32: Files through server-filesystem

## Task 1: Write, read, copy

- [ ] 1.1 Write a note
  ```mcp
  server: fs
  tool: write_file
  args: {path: "@DIR@/note.txt", content: "written by step 1.1\\nsecond line\\n"}
  expect:
    - {path: content, contains: "Successfully wrote"}
  ```
- [ ] 1.2 Read it back
  ```mcp
  server: fs
  tool: read_text_file
  args: {path: "@DIR@/note.txt"}
  expect:
    - {path: content, equals: "written by step 1.1\\nsecond line\\n"}
  ```
- [ ] 1.3 Copy what was read into another file
  ```mcp
  server: fs
  tool: write_file
  args: {path: "@DIR@/copy.txt", content: "${step:1.2/content}"}
  ```
- [ ] 1.4 Only its first line
  ```mcp
  server: fs
  tool: read_text_file
  args: {path: "@DIR@/copy.txt", head: 1}
  expect:
    - {path: content, equals: "written by step 1.1"}
  ```
- [ ] 1.5 Read outside the allowed directory
  - Depends on: none
  ```mcp
  server: fs
  tool: read_text_file
  args: {path: "@OUTSIDE@"}
  ```
"""


def test_filesystem_write_read_and_refused_access(project: Path, tmp_path: Path) -> None:
    server = node_server("server-filesystem")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the server\n", encoding="utf-8")
    document = FILESYSTEM.replace("@DIR@", str(allowed)).replace("@OUTSIDE@", str(outside))
    # its own directory, not the project root offered as its roots
    run = execute(project, {"fs": {**stdio([*server, str(allowed)]), "roots": []}}, document, 1)

    results = steps(run)
    assert [results[s]["status"] for s in ("1.1", "1.2", "1.3", "1.4")] == ["completed"] * 4
    assert results["1.2"]["result"] == {"content": "written by step 1.1\nsecond line\n"}
    assert results["1.4"]["result"] == {"content": "written by step 1.1"}
    # the placeholder took step 1.2's content, and the server wrote it
    copied = (allowed / "copy.txt").read_text(encoding="utf-8")
    assert copied == "written by step 1.1\nsecond line\n"
    # the server's own refusal: a failed step with a toolError; the run fails
    assert run["status"] == "failed"
    assert results["1.5"]["status"] == "failed"
    refused = reasons(run)["1.5"]
    assert refused["type"] == "toolError"
    assert refused["suggestedTool"] == "read_text_file"
    assert "Access denied - path outside allowed directories" in refused["error"]
    assert "not for the server" not in json.dumps(run)


MEDIA = """# Task 34: A picture through server-filesystem

## Task 1: Read it

- [ ] 1.1 Read the picture
  ```mcp
  server: fs
  tool: read_media_file
  args: {path: "@DIR@/picture.png"}
  expect:
    - {path: content/0/mimeType, equals: image/png}
    - {path: content/0/sha256, equals: "@SHA256@"}
  ```
"""


def test_a_large_image_is_recorded_as_a_reference(project: Path, tmp_path: Path) -> None:
    server = node_server("server-filesystem")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # a 1 MiB "image"
    (allowed / "picture.png").write_bytes(picture)
    digest = hashlib.sha256(picture).hexdigest()
    document = MEDIA.replace("@DIR@", str(allowed)).replace("@SHA256@", digest)
    run = execute(project, {"fs": {**stdio([*server, str(allowed)]), "roots": []}}, document, 0)

    reference = {"type": "image", "mimeType": "image/png", "size": len(picture), "sha256": digest}
    # the server returns the image as a block and inside its structured content: both kept, as
    # references
    assert steps(run)["1.1"]["result"] == {
        "structuredContent": {"content": [reference]},
        "content": [reference],
    }
    assert len(json.dumps(run)) < 20_000
    stored = b"".join(p.read_bytes() for p in (project / ".claude-task").glob("state.db*"))
    assert base64.b64encode(picture[:300]) not in stored
    assert len(stored) < len(picture) // 2


# @modelcontextprotocol/server-everything ---------------------------------------------------------

EVERYTHING = """# Task 33: Values through server-everything

## Task 1: Sums, structured content, echo

- [ ] 1.1 A sum
  ```mcp
  server: everything
  tool: get-sum
  args: {a: 2, b: 3}
  expect:
    - contains: "The sum of 2 and 3 is 5."
  ```
- [ ] 1.2 Structured content, checked against the tool's output schema by the client
  ```mcp
  server: everything
  tool: get-structured-content
  args: {location: Chicago}
  expect:
    - {path: conditions, equals: "Light rain / drizzle"}
    - {path: humidity, equals: 82}
  ```
- [ ] 1.3 A number from 1.2, with its type
  ```mcp
  server: everything
  tool: get-sum
  args: {a: "${step:1.2/temperature}", b: 1}
  ```
- [ ] 1.4 Text from 1.1 and 1.3, interpolated
  ```mcp
  server: everything
  tool: echo
  args: {message: "${step:1.3} (${step:1.2/conditions}) after: ${step:1.1}"}
  ```
- [ ] 1.5 A required argument missing
  - Depends on: none
  ```mcp
  server: everything
  tool: get-sum
  args: {a: 1}
  ```
- [ ] 1.6 A value the schema does not allow
  - Depends on: none
  ```mcp
  server: everything
  tool: get-structured-content
  args: {location: Paris}
  ```
- [ ] 1.7 Text around an image
  - Depends on: none
  ```mcp
  server: everything
  tool: get-tiny-image
  expect:
    - contains: "The image above is the MCP logo."
  ```
- [ ] 1.8 An embedded binary resource
  - Depends on: none
  ```mcp
  server: everything
  tool: get-resource-reference
  args: {resourceType: Blob, resourceId: 2}
  expect:
    - contains: "[resource: demo://resource/dynamic/blob/2, text/plain, "
  ```
"""


def tiny_image() -> bytes:
    """The PNG server-everything's `get-tiny-image` returns, read from its source."""
    source = NPM_SCOPE / "server-everything" / "dist" / "tools" / "get-tiny-image.js"
    found = re.search(r'MCP_TINY_IMAGE = "([A-Za-z0-9+/=]+)"', source.read_text(encoding="utf-8"))
    assert found is not None
    return base64.b64decode(found.group(1))


@pytest.fixture(params=["stdio", "http"])
def everything(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """server-everything's `.mcp.json` entry: spawned by the run (stdio), or serving streamable
    HTTP on 127.0.0.1 from a process started here (`dist/index.js streamableHttp`, port $PORT,
    path /mcp — its README and transports/streamableHttp.js)."""
    server = node_server("server-everything")
    if request.param == "stdio":
        yield stdio([*server, "stdio"])
        return
    port = free_port()
    log = tmp_path / "everything.log"
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [*server, "streamableHttp"],
            env={**os.environ, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 20
        while f"listening on port {port}" not in log.read_text(encoding="utf-8"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server-everything over HTTP did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield {"type": "http", "url": f"http://127.0.0.1:{port}/mcp"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_everything_values_flow_and_real_schemas_pause(
    project: Path, everything: dict[str, Any]
) -> None:
    run = execute(project, {"everything": everything}, EVERYTHING, 3)
    results = steps(run)
    assert results["1.1"]["result"] == "The sum of 2 and 3 is 5."
    assert results["1.2"]["result"] == {
        "temperature": 36,
        "conditions": "Light rain / drizzle",
        "humidity": 82,
    }
    assert results["1.3"]["result"] == "The sum of 36 and 1 is 37."  # 36 went in as a number
    assert results["1.4"]["result"] == (
        "Echo: The sum of 36 and 1 is 37. (Light rain / drizzle) after: The sum of 2 and 3 is 5."
    )
    assert all(
        results[s]["status"] == "completed" for s in ("1.1", "1.2", "1.3", "1.4", "1.7", "1.8")
    )
    # an image between two texts: a reference in its place (size and digest of the very bytes
    # the server's source holds), the bytes themselves not kept
    image = tiny_image()
    assert results["1.7"]["result"] == (
        "Here's the image you requested:\n"
        f"[image: image/png, {len(image):,} bytes, sha256 {hashlib.sha256(image).hexdigest()};"
        " data not recorded]\n"
        "The image above is the MCP logo."
    )
    assert base64.b64encode(image).decode()[:40] not in json.dumps(run)
    blob = results["1.8"]["result"].splitlines()[1]
    assert re.fullmatch(
        r"\[resource: \S+, text/plain, \d+ bytes, sha256 [0-9a-f]{64}; data not recorded\]", blob
    )
    # checked against the server's real inputSchema (draft-07, from zod), never called
    assert run["status"] == "paused"
    paused = reasons(run)
    assert set(paused) == {"1.5", "1.6"}
    assert paused["1.5"] == {
        "type": "schemaMismatch",
        "blockedStep": "1.5",
        "missingFields": ["b"],
        "suggestedTool": "get-sum",
    }
    invalid = paused["1.6"]
    assert invalid["type"] == "invalidParams"
    assert invalid["suggestedTool"] == "get-structured-content"
    [problem] = invalid["problems"]
    assert "'Paris' is not one of ['New York', 'Chicago', 'Los Angeles']" in problem
    assert results["1.5"]["status"] == results["1.6"]["status"] == "paused"
    assert results["1.5"]["attempts"] == results["1.6"]["attempts"] == 0
