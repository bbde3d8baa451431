"""The executor as an MCP client, against reference servers nobody here wrote, over real stdio.

- `@modelcontextprotocol/server-everything`: it lists its elicitation and roots tools only to a
  client that declares them; its elicitation tool's question is declined without a person (the
  call carries it back as a `questionDeclined` pause) and answered by one; its long-running tool's
  progress notifications reach the call's sink; its task-only tool is not called (a `taskRequired`
  pause, not `-32601`).
- `@modelcontextprotocol/server-filesystem` started without directories: it takes the project
  root the pool offers as its root, and reads there only.

Through `ServerPool` here; the same through `execute_task` in tests/mcp/test_client_runs.py.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from claude_task_cli.mcp.client_side import Answer, ClientSide, Question
from claude_task_cli.mcp.config import McpConfig, load_mcp_config
from claude_task_cli.mcp.sessions import ServerPool
from claude_task_cli.outcomes import QuestionDeclined, TaskRequired
from tests.support import node_server, stdio, write_mcp_json

pytestmark = pytest.mark.slow


def config_for(directory: Path, **servers: list[str]) -> McpConfig:
    path = write_mcp_json(directory, {name: stdio(cmd) for name, cmd in servers.items()})
    return load_mcp_config(path)


def with_pool(
    config: McpConfig, client: ClientSide, body: Callable[[ServerPool], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        async with ServerPool(config, client=client) as pool:
            with anyio.fail_after(60):
                return await body(pool)

    return anyio.run(main)


@pytest.fixture
def everything(tmp_path: Path) -> McpConfig:
    return config_for(tmp_path, everything=[*node_server("server-everything"), "stdio"])


def test_servers_see_what_the_client_declares(everything: McpConfig, tmp_path: Path) -> None:
    async def body(pool: ServerPool) -> Any:
        return await pool.list_tools("everything"), await pool.call(
            "everything", "get-roots-list", {}
        )

    tools, roots = with_pool(everything, ClientSide(roots=(tmp_path,)), body)
    # shown only to a client that declares elicitation and roots
    assert {"trigger-elicitation-request", "get-roots-list"} <= set(tools)
    assert "trigger-sampling-request" not in tools  # sampling is not declared
    assert tools["simulate-research-query"].task_support == "required"
    assert not roots.is_error, roots.error
    assert f"URI: {tmp_path.as_uri()}" in roots.text


def test_an_entrys_own_roots_replace_the_project_root(tmp_path: Path) -> None:
    command = [*node_server("server-everything"), "stdio"]
    entry = stdio(command)
    servers = {"docs": {**entry, "roots": ["docs"]}, "none": {**entry, "roots": []}}
    config = load_mcp_config(write_mcp_json(tmp_path, servers))

    async def body(pool: ServerPool) -> Any:
        listed = await pool.call("docs", "get-roots-list", {})
        return listed, await pool.list_tools("none")

    listed, tools = with_pool(config, ClientSide(roots=(tmp_path,)), body)
    assert f"URI: {(tmp_path / 'docs').as_uri()}" in listed.text
    assert f"URI: {tmp_path.as_uri()}\n" not in listed.text
    assert "get-roots-list" not in tools  # no roots declared to it


def test_a_question_without_a_person_is_declined_and_carried_back(everything: McpConfig) -> None:
    async def body(pool: ServerPool) -> Any:
        return await pool.call("everything", "trigger-elicitation-request", {})

    outcome = with_pool(everything, ClientSide(), body)
    assert not outcome.is_error
    assert "declined" in outcome.text  # what the tool did with the refusal
    assert isinstance(outcome.pause, QuestionDeclined)
    assert outcome.pause.question == "Please provide inputs for the following fields:"
    assert outcome.pause.server == "everything"
    assert outcome.pause.suggested_tool == "trigger-elicitation-request"
    assert outcome.pause.requested_schema is not None
    assert outcome.pause.requested_schema["required"] == ["name"]


def test_a_question_asked_while_other_calls_ran_pauses_each_and_says_so(
    everything: McpConfig,
) -> None:
    async def body(pool: ServerPool) -> Any:
        outcomes: dict[str, Any] = {}

        async def call(tool: str, args: dict[str, Any]) -> None:
            outcomes[tool] = await pool.call("everything", tool, args)

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "trigger-long-running-operation", {"duration": 2, "steps": 2})
            await anyio.sleep(0.5)  # the long one in flight first
            tg.start_soon(call, "trigger-elicitation-request", {})
        return outcomes

    outcomes = with_pool(everything, ClientSide(), body)
    asked, ran = outcomes["trigger-elicitation-request"], outcomes["trigger-long-running-operation"]
    assert isinstance(asked.pause, QuestionDeclined)
    assert isinstance(ran.pause, QuestionDeclined)
    assert asked.pause.calls_in_flight == ran.pause.calls_in_flight == 2
    assert "Long running operation completed" in ran.text  # its own result, kept


def test_a_question_goes_to_the_person_and_the_answer_to_the_server(
    everything: McpConfig,
) -> None:
    asked: list[Question] = []

    async def person(question: Question) -> Answer:
        asked.append(question)
        return Answer("accept", {"name": "Ada Lovelace", "check": True, "integer": 7})

    async def body(pool: ServerPool) -> Any:
        return await pool.call("everything", "trigger-elicitation-request", {})

    outcome = with_pool(everything, ClientSide(ask=person), body)
    assert [q.server for q in asked] == ["everything"]
    assert outcome.pause is None
    assert "- Name: Ada Lovelace" in outcome.text
    assert "- Favorite Integer: 7" in outcome.text


def test_an_answer_that_does_not_fit_the_form_is_not_sent(everything: McpConfig) -> None:
    async def careless(question: Question) -> Answer:
        return Answer("accept", {"integer": 1000})  # no name (required), integer above 100

    async def body(pool: ServerPool) -> Any:
        return await pool.call("everything", "trigger-elicitation-request", {})

    outcome = with_pool(everything, ClientSide(ask=careless), body)
    assert "cancelled" in outcome.text
    assert "1000" not in outcome.text


def test_a_servers_progress_reaches_the_calls_sink(everything: McpConfig) -> None:
    heard: list[tuple[float, float | None, str | None]] = []

    async def body(pool: ServerPool) -> Any:
        return await pool.call(
            "everything",
            "trigger-long-running-operation",
            {"duration": 0.3, "steps": 3},
            on_progress=lambda *said: heard.append(said),
        )

    outcome = with_pool(everything, ClientSide(), body)
    assert not outcome.is_error, outcome.error
    assert heard == [(1.0, 3.0, None), (2.0, 3.0, None), (3.0, 3.0, None)]


def test_a_task_only_tool_is_not_called_and_says_why(everything: McpConfig) -> None:
    async def body(pool: ServerPool) -> Any:
        return await pool.call("everything", "simulate-research-query", {"topic": "mcp"})

    outcome = with_pool(everything, ClientSide(), body)
    assert outcome.is_error
    assert outcome.pause == TaskRequired(
        blocked_step="", server="everything", suggested_tool="simulate-research-query"
    )
    assert "-32601" not in (outcome.error or "")
    assert "runs only as an MCP task" in (outcome.error or "")


def test_the_filesystem_server_works_in_the_root_it_is_offered(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "a.txt").write_text("inside the project\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside\n", encoding="utf-8")
    config = config_for(project, fs=node_server("server-filesystem"))  # no directories given

    async def body(pool: ServerPool) -> Any:
        # the server asks for the roots once the session is open, and takes them a moment later
        deadline = time.monotonic() + 20
        while True:
            allowed = await pool.call("fs", "list_allowed_directories", {})
            if str(project) in allowed.text or time.monotonic() > deadline:
                break
            await anyio.sleep(0.1)
        listed = await pool.call("fs", "list_directory", {"path": str(project)})
        read = await pool.call("fs", "read_text_file", {"path": str(project / "notes" / "a.txt")})
        outside = await pool.call("fs", "read_text_file", {"path": str(tmp_path / "secret.txt")})
        return allowed, listed, read, outside

    allowed, listed, read, outside = with_pool(config, ClientSide(roots=(project,)), body)
    assert allowed.text.splitlines()[1:] == [str(project)]
    assert "[DIR] notes" in listed.text
    assert read.text == "inside the project\n"
    assert outside.is_error
    assert "outside allowed directories" in (outside.error or "")
