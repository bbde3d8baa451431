"""The task board through the server, over stdio with the official SDK client: `claim_task` and
`move_task` answer what `claude-task claim --json` / `move --json` print, `task_status` without a
task is the board as `task_status --json` prints it, and a refused move is a tool error with the
CLI's message and the rule and blocker as data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.server.support import serve_over_stdio

pytestmark = pytest.mark.anyio
runner = CliRunner()
SAMPLE_DOC = "docs/tasks/010_time_and_commands.md"


@asynccontextmanager
async def serving(project: Path, tmp_path: Path) -> AsyncIterator[ClientSession]:
    """`claude-task serve` in `project`, over stdio, as an agent's client starts it."""
    params = serve_over_stdio(project, tmp_path)
    with (tmp_path / "server-stderr.txt").open("w") as err, anyio.fail_after(120):
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def answer(result: CallToolResult) -> Any:
    assert result.structured_content is not None
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert json.loads(text) == result.structured_content  # the same data as text
    return result.structured_content


def cli_json(*args: str, code: int = 0) -> Any:
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == code, done.output
    return json.loads(done.stdout)


@pytest.fixture
def board(project: Path) -> Path:
    """The project with the sample document imported onto its board, its first task ready."""
    imported = runner.invoke(app, ["import", "010", "--ready"])
    assert imported.exit_code == 0, imported.output
    return project


async def test_the_board_tools_are_listed_with_the_others(board: Path, tmp_path: Path) -> None:
    async with serving(board, tmp_path) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert len(tools) == 8
    claim, move = tools["claim_task"], tools["move_task"]
    assert claim.annotations is not None
    assert (claim.annotations.read_only_hint, claim.annotations.destructive_hint) == (False, False)
    assert move.annotations is not None
    assert (move.annotations.destructive_hint, move.annotations.idempotent_hint) == (False, True)
    assert move.input_schema["required"] == ["document", "task", "state"]
    assert move.input_schema["properties"]["state"]["enum"][:2] == ["backlog", "ready"]
    assert "task" not in tools["task_status"].input_schema.get("required", [])


async def test_task_status_without_a_task_is_the_board(board: Path, tmp_path: Path) -> None:
    async with serving(board, tmp_path) as session:
        shown = answer(await session.call_tool("task_status", {}))
    assert shown == cli_json("task_status")
    assert shown["totals"]["ready"] == 1
    assert shown["documents"][0]["document"] == SAMPLE_DOC


async def test_claim_then_nothing_left_to_claim(board: Path, tmp_path: Path) -> None:
    async with serving(board, tmp_path) as session:
        claimed = answer(await session.call_tool("claim_task", {"worker": "agent-1"}))
        nothing = await session.call_tool("claim_task", {"worker": "agent-1", "lease": 30})
    assert claimed["claimed"] is True
    assert (claimed["document"], claimed["task"], claimed["worker"]) == (SAMPLE_DOC, "1", "agent-1")
    assert claimed["attempt"] == 1
    assert set(claimed) == {"claimed", "document", "repository", "task", "title", "priority",
                            "attempt", "max_attempts", "worker", "lease_until"}  # fmt: skip
    assert not nothing.is_error  # nothing ready is an answer, not an error (the CLI's exit 5)
    assert answer(nothing) == {
        "claimed": False,
        "worker": "agent-1",
        "reason": cli_json("claim", "--worker", "agent-1", code=5)["reason"],
    }
    assert cli_json("task_status")["totals"]["in_progress"] == 1


async def test_a_named_task_is_claimed_and_moved_through_review(
    board: Path, tmp_path: Path
) -> None:
    async with serving(board, tmp_path) as session:
        claimed = answer(
            await session.call_tool("claim_task", {"document": "010", "task": 1, "worker": "a"})
        )
        review = answer(
            await session.call_tool(
                "move_task",
                {"document": "010", "task": "1", "state": "in_review", "reason": "steps pass"},
            )
        )
        again = answer(
            await session.call_tool(
                "move_task", {"document": "010", "task": "1", "state": "in_review"}
            )
        )
        done = answer(
            await session.call_tool("move_task", {"document": "010", "task": 1, "state": "done"})
        )
    assert claimed["task"] == "1"
    assert (review["state"], review["changed"]) == ("in_review", True)
    assert (again["state"], again["changed"]) == ("in_review", False)
    assert (done["state"], done["changed"]) == ("done", True)
    assert "claim_token" not in done
    assert done == {**cli_json("move", "010", "1", "done"), "changed": True}
    moves = [e for e in cli_json("events", "010") if e["payload"].get("to") == "in_review"]
    assert moves[0]["payload"]["note"] == "steps pass"
    assert moves[0]["actor"].endswith(" through mcp 0.1.0")  # the person, through the client


async def test_a_refused_move_is_a_tool_error_with_the_rule_and_blocker(
    board: Path, tmp_path: Path
) -> None:
    refused_by_cli = runner.invoke(app, ["move", "010", "2", "in_progress"])
    assert refused_by_cli.exit_code == 2
    async with serving(board, tmp_path) as session:
        result = await session.call_tool(
            "move_task", {"document": "010", "task": "2", "state": "in_progress"}
        )
        unknown = await session.call_tool(
            "move_task", {"document": "010", "task": "2", "state": "ready", "bogus": 1}
        )
        bad_state = await session.call_tool(
            "move_task", {"document": "010", "task": "2", "state": "finished"}
        )
    assert result.is_error
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert text == refused_by_cli.stderr.strip()  # the CLI's exit-2 message, word for word
    data = result.structured_content
    assert data is not None
    assert (data["code"], data["exitCode"], data["kind"]) == ("invalid_input", 2, "transition")
    assert data["where"]["task"] == f"{SAMPLE_DOC} task 2"
    assert data["where"]["rule"] in text
    assert data["where"]["blocker"] in text
    assert unknown.is_error
    assert "move_task: unknown argument 'bogus'" in unknown.content[0].text  # type: ignore[union-attr]
    assert bad_state.is_error
    assert "move_task: argument 'state'" in bad_state.content[0].text  # type: ignore[union-attr]
    assert cli_json("task_status")["totals"]["in_progress"] == 0  # nothing changed
