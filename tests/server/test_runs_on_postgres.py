"""`serve --db URL`: the server keeps its project's runs on a PostgreSQL server — executed, read
back by its tools, listed as resources — and writes no state file in the project."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from claude_task_cli.errors import InputError
from claude_task_cli.server.tools import build_server
from claude_task_cli.store import Store
from claude_task_cli.store.urls import parse_url
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_a_served_project_keeps_its_runs_on_postgresql(
    project: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.create_schema("served_runs")
    async with Client(build_server(project, db=url)) as client:
        ran = await client.call_tool("execute_task", {"task": "071"})
        status = await client.call_tool("task_status", {"task": "071"})
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
    assert ran.structured_content is not None
    assert ran.structured_content["status"] == "completed"
    assert status.structured_content is not None
    assert {s["id"]: s["state"] for s in status.structured_content["steps"]} == {
        "1.1": "completed",
        "1.2": "completed",
    }
    assert "claude-task://runs/071_short" in listed
    with Store(parse_url(url)) as store:
        run = store.latest_run(str(project / "docs" / "tasks" / "071_short.md"))
    assert run is not None
    assert run.doc_key == "project:docs/tasks/071_short.md"
    assert not (project / ".claude-task" / "state.db").exists()


def test_a_bad_url_stops_the_server_before_it_starts(project: Path) -> None:
    with pytest.raises(InputError, match="unknown database 'mysql'"):
        build_server(project, db="mysql://x/y")
