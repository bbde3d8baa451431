"""The tool set an agent sees: few tools, each with a real output schema, strict arguments,
a description written for a model, and annotations that say what it touches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp_types import Tool

from claude_task_cli.convert.contract import json_schema
from claude_task_cli.server.registration import without_titles
from claude_task_cli.server.tools import build_server
from tests.support import SAMPLE

pytestmark = pytest.mark.anyio
MOST_TOOLS = 8  # the board's claim and move included: a small set leaves a model its context
REQUIRED = {
    "convert_task": {"path": "010"},
    "execute_task": {"task": "010", "dry_run": True},
    "record_step": {"task": "010", "step": "3.1", "result": True},
    "task_status": {"task": "010"},
    "generate_report": {"task": "010", "subtask": "1"},
    "cancel_run": {"task": "010"},
    "claim_task": {"worker": "agent-1"},
    "move_task": {"document": "010", "task": "1", "state": "ready"},
}


async def listed(project: Path) -> dict[str, Tool]:
    async with Client(build_server(project)) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


async def test_a_small_set_each_described_for_a_model(project: Path) -> None:
    tools = await listed(project)
    assert len(tools) <= MOST_TOOLS
    assert set(REQUIRED) <= set(tools)
    for tool in tools.values():
        assert tool.title, tool.name
        assert tool.description is not None
        assert 150 <= len(tool.description) <= 800, tool.name  # what it does, returns, and next
        for name, field in tool.input_schema["properties"].items():
            assert field.get("description"), f"{tool.name}.{name}"
        assert "title" not in json.dumps(tool.input_schema).replace('"title":{', "")


async def test_every_tool_refuses_arguments_it_does_not_know(project: Path) -> None:
    async with Client(build_server(project)) as client:
        for name, arguments in REQUIRED.items():
            result = await client.call_tool(name, {**arguments, "bogus": 1, "verbose": True})
            assert result.is_error, name
            text = "".join(getattr(block, "text", "") for block in result.content)
            assert text == f"{name}: unknown argument 'bogus'\n{name}: unknown argument 'verbose'"
            assert result.structured_content is not None
            assert result.structured_content["exitCode"] == 2
            assert result.structured_content["kind"] == "arguments"


async def test_a_bad_value_is_named_in_one_line(project: Path) -> None:
    async with Client(build_server(project)) as client:
        result = await client.call_tool("execute_task", {"task": "010", "concurrency": 0})
    assert result.is_error
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert (
        text == "execute_task: argument 'concurrency': Input should be greater than or equal to 1"
    )


async def test_output_schemas_are_real_and_hold_for_results_and_errors(project: Path) -> None:
    tools = await listed(project)
    for tool in tools.values():
        schema = tool.output_schema
        assert schema is not None, tool.name
        assert schema["type"] == "object"
        assert len(schema["anyOf"]) >= 2  # the result's own shape(s), and a tool error's
    converted = tools["convert_task"].output_schema
    assert converted is not None
    contract = without_titles(json_schema())
    assert converted["anyOf"][0]["properties"] == contract["properties"]  # the converter's own
    async with Client(build_server(project)) as client:
        await client.call_tool("execute_task", {"task": "060"})  # a run to record into
        answers: dict[str, Any] = {
            name: await client.call_tool(name, arguments) for name, arguments in REQUIRED.items()
        }
        answers["error"] = await client.call_tool("task_status", {"task": "docs/nope.md"})
    for name, answer in answers.items():
        tool = tools["task_status" if name == "error" else name]
        assert answer.structured_content is not None, name
        jsonschema.validate(answer.structured_content, tool.output_schema)
    assert not answers["task_status"].is_error
    assert answers["error"].is_error


async def test_annotations_tell_the_truth(project: Path) -> None:
    hints = {name: tool.annotations for name, tool in (await listed(project)).items()}
    assert all(h is not None for h in hints.values())
    for name in ("convert_task", "task_status"):
        assert hints[name].read_only_hint is True  # type: ignore[union-attr]
        assert hints[name].open_world_hint is False  # type: ignore[union-attr]
    report = hints["generate_report"]
    assert report is not None
    # it overwrites its reports and deletes stale ones, the same every time for the same evidence
    assert (report.read_only_hint, report.destructive_hint, report.idempotent_hint) == (
        False, True, True)  # fmt: skip
    execute = hints["execute_task"]
    assert execute is not None
    assert (execute.destructive_hint, execute.open_world_hint) == (True, True)
    record = hints["record_step"]
    assert record is not None
    assert (record.read_only_hint, record.destructive_hint) == (False, False)


async def test_the_text_beside_structured_content_is_the_same_data(project: Path) -> None:
    async with Client(build_server(project)) as client:
        result = await client.call_tool("convert_task", {"path": f"docs/tasks/{SAMPLE.name}"})
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert json.loads(text) == result.structured_content
