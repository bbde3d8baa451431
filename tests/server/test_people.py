"""A step for a person asked through the client's elicitation: accepted (recorded, the run goes
on), not done (a failure), declined or cancelled (paused for the client, as without it); over
the 2026-07-28 input-required flow in-process and over streamable HTTP, and over
`elicitation/create` on stdio (2025-11-25)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from claude_task_cli.server.tools import build_server
from tests.server.support import serve_over_stdio

pytestmark = pytest.mark.anyio
Answer = Callable[[Any, ElicitRequestParams], Awaitable[ElicitResult]]


class Person:
    """Answers every question the same way, and remembers what it was asked."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action, self.content = action, content
        self.asked: list[ElicitRequestParams] = []

    async def __call__(self, _context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params)
        return ElicitResult(action=self.action, content=self.content)  # type: ignore[arg-type]


def run_of(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_an_accepted_answer_is_recorded_and_the_run_goes_on(project: Path) -> None:
    person = Person("accept", {"done": True, "note": "signed", "approver": "Ada"})
    async with Client(build_server(project), elicitation_callback=person) as client:
        run = run_of(await client.call_tool("execute_task", {"task": "061"}))
    assert (run["status"], run["runStatus"]) == ("completed", "completed")
    results = {r["step_id"]: r for r in run["results"]}
    assert results["1.1"]["source"] == "client"
    assert results["1.1"]["result"] == {
        "done": True,
        "note": "signed",
        "approver": "Ada",
        "answeredBy": "a person through mcp 0.1.0 (elicitation)",
    }
    assert results["1.2"]["result"] == {"value": "approved by Ada"}  # the answer fed step 1.2
    assert run["answered"] == [{"step": "1.1", "action": "accept", "recorded": "result",
                                "answeredBy": "a person through mcp 0.1.0 (elicitation)"}]  # fmt: skip
    [question] = person.asked
    assert "1.1: A person approves the release" in question.message
    schema = question.requested_schema  # type: ignore[union-attr]
    assert set(schema["properties"]) == {"done", "note", "approver"}
    assert schema["required"] == ["done"]


async def test_not_done_is_recorded_as_a_failure(project: Path) -> None:
    person = Person("accept", {"done": False, "note": "not signed yet"})
    async with Client(build_server(project), elicitation_callback=person) as client:
        run = run_of(await client.call_tool("execute_task", {"task": "060"}))
    assert run["runStatus"] == "failed"
    step = run["results"][0]
    assert (step["status"], step["source"]) == ("failed", "client")
    assert step["error"] == (
        "not done: not signed yet (by a person through mcp 0.1.0 (elicitation))"
    )


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_declined_or_cancelled_leaves_the_step_paused_as_before(
    project: Path, action: str
) -> None:
    async with Client(build_server(project)) as client:  # a client that cannot be asked
        before = run_of(await client.call_tool("execute_task", {"task": "060"}))
    person = Person(action)
    async with Client(build_server(project), elicitation_callback=person) as client:
        after = run_of(await client.call_tool("execute_task", {"task": "060"}))
    assert len(person.asked) == 1  # asked once, not again within the call
    assert after.pop("answered") == [
        {"step": "1.1", "action": action, "recorded": None,
         "answeredBy": "a person through mcp 0.1.0 (elicitation)"}
    ]  # fmt: skip
    assert after == before  # the same run, paused for the client, with the same handoff
    assert after["pauseReasons"][0]["type"] == "awaitingClient"
    assert after["handoff"]["remaining"][0]["step_id"] == "1.1"


async def test_a_client_that_cannot_be_asked_is_not(project: Path) -> None:
    async with Client(build_server(project)) as client:
        run = run_of(await client.call_tool("execute_task", {"task": "060"}))
    assert "answered" not in run
    assert run["status"] == "paused"


async def over_stdio(project: Path, tmp_path: Path, person: Person) -> dict[str, Any]:
    """`execute_task 061` over stdio by a 2025-11-25 client that answers with `person`."""
    params = serve_over_stdio(project, tmp_path)
    with anyio.fail_after(60):
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write, elicitation_callback=person) as session,
        ):
            await session.initialize()
            return run_of(await session.call_tool("execute_task", {"task": "061"}))


@pytest.mark.slow
async def test_over_stdio_the_question_is_an_elicitation_request(
    project: Path, tmp_path: Path
) -> None:
    person = Person("accept", {"done": True, "approver": "Grace"})
    run = await over_stdio(project, tmp_path, person)
    assert run["runStatus"] == "completed"
    assert run["results"][1]["result"] == {"value": "approved by Grace"}
    assert run["answered"][0]["answeredBy"].startswith("a person through mcp ")


@pytest.mark.slow
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_over_stdio_declined_or_cancelled_pauses(
    project: Path, tmp_path: Path, action: str
) -> None:
    run = await over_stdio(project, tmp_path, Person(action))
    assert (run["status"], run["pauseReasons"][0]["blockedStep"]) == ("paused", "1.1")
    assert run["answered"][0]["action"] == action


@pytest.mark.slow
async def test_over_streamable_http(http_server: str) -> None:
    person = Person("accept", {"done": True, "approver": "Katherine"})
    declines, cancels = Person("decline"), Person("cancel")
    with anyio.fail_after(90):
        async with Client(http_server, elicitation_callback=declines) as client:
            declined = run_of(await client.call_tool("execute_task", {"task": "061"}))
        async with Client(http_server, elicitation_callback=cancels) as client:
            cancelled = run_of(await client.call_tool("execute_task", {"task": "061"}))
        async with Client(http_server, elicitation_callback=person) as client:
            run = run_of(await client.call_tool("execute_task", {"task": "061"}))
    for paused, action in ((declined, "decline"), (cancelled, "cancel")):
        assert (paused["status"], paused["answered"][0]["action"]) == ("paused", action)
    assert run["runId"] == declined["runId"] == cancelled["runId"]  # the same run, resumed
    assert run["results"][1]["result"] == {"value": "approved by Katherine"}
