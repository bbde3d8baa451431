"""The pure parts of the pre-run checks: arguments against an input schema, install hints."""

from __future__ import annotations

import pytest

from claude_task_cli.errors import ServerStartError
from claude_task_cli.run.preflight import argument_problems, with_install_hint

SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "head": {"type": "integer"},
        "options": {"type": "object", "properties": {"depth": {"type": "integer"}}},
    },
    "required": ["path"],
}


def test_arguments_that_fit_have_no_problems() -> None:
    assert argument_problems({"path": "a", "head": 2}, SCHEMA) == []
    # a whole placeholder counts as given, of a type known only during the run
    assert argument_problems({"path": "${step:1.1/content}", "head": "${step:1.2}"}, SCHEMA) == []


def test_each_problem_names_its_argument() -> None:
    assert argument_problems({"pth": "a", "options": {"depth": "deep"}}, SCHEMA) == [
        ("pth", "unknown argument 'pth' (did you mean 'path'?)"),
        ("options", "argument 'options/depth': 'deep' is not of type 'integer'"),
    ]
    assert argument_problems({"head": 1}, SCHEMA) == [("", "missing required argument 'path'")]


def test_an_unknown_argument_far_from_any_is_left_to_an_open_schema() -> None:
    assert argument_problems({"path": "a", "verbose": True}, SCHEMA) == []
    closed = {**SCHEMA, "additionalProperties": False}
    assert argument_problems({"path": "a", "verbose": True}, closed) == [
        ("verbose", "unknown argument 'verbose'")
    ]


def test_a_broken_schema_is_not_held_against_the_document() -> None:
    assert argument_problems({"path": 1}, {"type": "no-such-type"}) == []


def test_install_hints_for_known_reference_servers_only() -> None:
    npm = ServerStartError(
        "fs",
        "the server closed the connection before answering initialize",
        [
            "Error: Cannot find module "
            "'/p/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'",
            "Node.js v20.20.2",
        ],
    )
    assert with_install_hint(npm).lines()[-1] == (
        "  hint: @modelcontextprotocol/server-filesystem is not installed: "
        "npm install @modelcontextprotocol/server-filesystem"
    )
    python = ServerStartError("git", "closed", ["/v/bin/python: No module named mcp_server_git"])
    assert with_install_hint(python).hint == (
        "mcp-server-git is not installed for /v/bin/python: /v/bin/python -m pip install "
        "mcp-server-git"
    )
    unknown = ServerStartError("x", "closed", ["/v/bin/python: No module named my_server"])
    assert with_install_hint(unknown) is unknown
    elsewhere = ServerStartError("x", "cannot run it: No such file or directory: my-server")
    assert with_install_hint(elsewhere) is elsewhere


def test_the_interpreter_claude_task_gives_its_servers_is_named_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLAUDE_TASK_PYTHON", "/v/bin/python")
    masked = ServerStartError(
        "time", "closed", ["${CLAUDE_TASK_PYTHON:-python3}: No module named mcp_server_time"]
    )
    assert with_install_hint(masked).hint == (
        "mcp-server-time is not installed for /v/bin/python: /v/bin/python -m pip install "
        "mcp-server-time"
    )
