"""Resources (runs, reports, the format reference, the JSON Schema) and the `work_on_task` prompt,
in-process and over stdio, streamable HTTP and the MCP Inspector CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession, MCPError
from mcp.client.stdio import stdio_client
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.server.tools import build_server
from tests.server.support import serve_over_stdio
from tests.support import REPO

pytestmark = pytest.mark.anyio
RUN = "claude-task://runs/060_person"
SUMMARY = "claude-task://reports/60_final_summary.md"


def text(read: Any) -> str:
    return "".join(getattr(part, "text", "") for part in read.contents)


async def test_a_run_and_its_reports_are_resources(project: Path) -> None:
    async with Client(build_server(project)) as client:
        before = {str(r.uri) for r in (await client.list_resources()).resources}
        run = await client.call_tool("execute_task", {"task": "060"})
        await client.call_tool("generate_report", {"task": "060"})
        after = {str(r.uri): r for r in (await client.list_resources()).resources}
        latest = json.loads(text(await client.read_resource(RUN)))
        by_id = json.loads(text(await client.read_resource("claude-task://runs/060")))
        summary = text(await client.read_resource(SUMMARY))
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
    assert before == {
        "claude-task://format",
        "claude-task://schema",
    }  # nothing run, nothing written
    assert set(after) == {
        "claude-task://format", "claude-task://schema", RUN, SUMMARY,
        "claude-task://reports/60_task_1_look.md",
    }  # fmt: skip
    assert after[RUN].mime_type == "application/json"
    assert latest == by_id == run.structured_content  # the run document execute_task returned
    assert summary == (project / "docs" / "reports" / "60_final_summary.md").read_text()
    assert templates == {"claude-task://runs/{doc}", "claude-task://reports/{name}"}


async def test_the_format_reference_and_the_schema(project: Path) -> None:
    async with Client(build_server(project)) as client:
        reference = text(await client.read_resource("claude-task://format"))
        schema = text(await client.read_resource("claude-task://schema"))
    assert reference == (REPO / "docs" / "task-format.md").read_text(encoding="utf-8")
    printed = await anyio.to_thread.run_sync(CliRunner().invoke, app, ["schema"])
    assert json.loads(schema) == json.loads(printed.stdout)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("claude-task://runs/010", "010: no run yet (execute_task starts one)"),
        ("claude-task://runs/999", "999: no task document with that id or name in"),
        ("claude-task://reports/nope.md", "nope.md: no such report in"),
        ("claude-task://reports/..%2F..%2FREADME.md", "Unknown resource"),
    ],
)
async def test_what_cannot_be_read_says_why(project: Path, uri: str, message: str) -> None:
    async with Client(build_server(project)) as client:
        with pytest.raises(MCPError) as refused:
            await client.read_resource(uri)
    assert refused.value.error.message.startswith(message)


async def test_a_report_linked_outside_is_not_served(project: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("not the project's\n")
    (project / "docs" / "reports").mkdir()
    (project / "docs" / "reports" / "leak.md").symlink_to(secret)
    async with Client(build_server(project)) as client:
        with pytest.raises(MCPError) as refused:
            await client.read_resource("claude-task://reports/leak.md")
    assert "outside the project root" in refused.value.error.message


async def test_work_on_task_is_the_task_as_a_prompt(project: Path) -> None:
    async with Client(build_server(project)) as client:
        listed = (await client.list_prompts()).prompts
        fresh = await client.get_prompt("work_on_task", {"doc": "010", "task": "3"})
        await client.call_tool("execute_task", {"task": "010"})
        after = await client.get_prompt("work_on_task", {"doc": "010", "task": "3"})
        whole = await client.get_prompt("work_on_task", {"doc": "010"})
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("work_on_task", {"doc": "010", "task": "9"})
    assert [(p.name, [(a.name, a.required) for a in p.arguments or []]) for p in listed] == [
        ("work_on_task", [("doc", True), ("task", False)])
    ]
    first = fresh.messages[0].content.text  # type: ignore[union-attr]
    assert first.startswith("Work on task 3 (Review) of the task document 010")
    assert "Goal: A small, fully executable task document" in first
    assert "- 3.1 A person confirms the Tokyo time looks right — by hand" in first
    assert "No run yet." in first
    assert '{"task": "010", "only_task": "3"}' in first
    second = after.messages[0].content.text  # type: ignore[union-attr]
    assert "[awaiting_client]" in second
    assert "The latest run (run 1) is paused" in second
    assert "For the client: do this step" in second  # the handoff of what remains
    assert "1.1 Get the current time" not in second  # another task's steps stay out
    assert "1.1 Get the current time" in whole.messages[0].content.text  # type: ignore[union-attr]
    assert "no task '9'" in unknown.value.error.message


@pytest.mark.slow
async def test_resources_and_prompts_over_stdio(project: Path, tmp_path: Path) -> None:
    params = serve_over_stdio(project, tmp_path)
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            run = await session.call_tool("execute_task", {"task": "060"})
            listed = {str(r.uri) for r in (await session.list_resources()).resources}
            latest = json.loads(text(await session.read_resource(RUN)))
            prompt = await session.get_prompt("work_on_task", {"doc": "060"})
    assert RUN in listed
    assert latest == run.structured_content
    assert "1.1 A person looks at the sky" in prompt.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.slow
async def test_resources_and_prompts_over_streamable_http(http_server: str) -> None:
    with anyio.fail_after(60):
        async with Client(http_server) as client:
            run = await client.call_tool("execute_task", {"task": "060"})
            latest = json.loads(text(await client.read_resource(RUN)))
            prompt = await client.get_prompt("work_on_task", {"doc": "060", "task": "1"})
    assert latest == run.structured_content
    assert "Work on task 1 (Look)" in prompt.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.slow
def test_resources_and_prompts_through_the_inspector(
    http_server: str, inspector: Callable[..., Any]
) -> None:
    inspector(http_server, "--method", "tools/call", "--tool-name", "execute_task",
              "--tool-arg", "task=060")  # fmt: skip
    listed = inspector(http_server, "--method", "resources/list")
    read = inspector(http_server, "--method", "resources/read", "--uri", RUN)
    reference = inspector(
        http_server, "--method", "resources/read", "--uri", "claude-task://format"
    )
    prompt = inspector(http_server, "--method", "prompts/get", "--prompt-name", "work_on_task",
                       "--prompt-args", "doc=060", "task=1")  # fmt: skip
    assert RUN in {r["uri"] for r in listed["resources"]}
    assert json.loads(read["contents"][0]["text"])["runStatus"] == "paused"
    assert reference["contents"][0]["text"].startswith("# Task document format")
    assert prompt["messages"][0]["content"]["text"].startswith("Work on task 1 (Look)")
