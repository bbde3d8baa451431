"""`serve --transport http` and the command server's HTTP mode, over real HTTP: loopback by
default, a bearer token required anywhere else, Host and Origin checked against the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.server.support import server_env, serving_http
from tests.support import COMMAND_SERVER

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
TOKEN = "s3cret-token-for-tests"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


def post(url: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status of an `initialize` POST to `url` with `headers`."""
    request = urllib.request.Request(
        url,
        data=json.dumps(INITIALIZE).encode(),
        method="POST",
        headers={"Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream", **(headers or {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


async def tool_names(url: str, headers: dict[str, str] | None = None) -> set[str]:
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return {tool.name for tool in (await session.list_tools()).tools}


def refused_start(
    argv: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A server that must refuse to start: it exits at once, with one line on stderr."""
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=30,
                          check=False)  # fmt: skip
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    return done


def no_token(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, **server_env(tmp_path)}
    env.pop("CLAUDE_TASK_TOKEN", None)
    return env


def test_serve_refuses_to_listen_beyond_loopback_without_a_token(
    project: Path, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "claude_task_cli", "serve", "--transport", "http",
            "--host", "0.0.0.0", "--port", "0"]  # fmt: skip
    done = refused_start(argv, project, no_token(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (
        "--host 0.0.0.0: serving beyond this machine needs a bearer token: give --token or set "
        "CLAUDE_TASK_TOKEN\n"
    )


def test_the_command_server_refuses_to_listen_beyond_loopback_without_a_token(
    tmp_path: Path,
) -> None:
    argv = [*COMMAND_SERVER, "--transport", "http", "--host", "0.0.0.0"]
    done = refused_start(argv, tmp_path, no_token(tmp_path))
    assert done.returncode == 2
    assert (
        done.stderr.rstrip()
        .splitlines()[-1]
        .endswith(
            "--host 0.0.0.0: serving beyond this machine needs a bearer token: give --token or set "
            "CLAUDE_TASK_TOKEN"
        )
    )


async def test_off_loopback_every_request_needs_the_token(project: Path, tmp_path: Path) -> None:
    env = {"CLAUDE_TASK_TOKEN": TOKEN}
    with serving_http(project, tmp_path, "--host", "0.0.0.0", env=env) as announced:
        url = announced.replace("0.0.0.0", "127.0.0.1")
        assert post(url) == 401
        assert post(url, {"Authorization": "Bearer wrong"}) == 401
        assert post(url, {"Authorization": f"Bearer {TOKEN}"}) == 200
        names = await tool_names(url, {"Authorization": f"Bearer {TOKEN}"})
    assert "execute_task" in names


async def test_a_token_given_on_loopback_is_required_too(project: Path, tmp_path: Path) -> None:
    with serving_http(project, tmp_path, "--token", TOKEN) as url:
        assert post(url) == 401
        assert "task_status" in await tool_names(url, {"Authorization": f"Bearer {TOKEN}"})


def test_host_and_origin_must_name_the_server(project: Path, tmp_path: Path) -> None:
    with serving_http(project, tmp_path) as url:
        port = url.split(":")[-1].split("/")[0]
        assert post(url) == 200
        assert post(url, {"Host": f"localhost:{port}"}) == 200
        assert post(url, {"Host": f"attacker.example:{port}"}) == 421  # DNS rebinding
        assert post(url, {"Host": "127.0.0.1:1"}) == 421
        assert post(url, {"Origin": "http://attacker.example"}) == 403
        assert post(url, {"Origin": f"http://127.0.0.1:{port}"}) == 200


def test_an_allowed_host_is_accepted(project: Path, tmp_path: Path) -> None:
    env = {"CLAUDE_TASK_TOKEN": TOKEN}
    args = ("--host", "0.0.0.0", "--allowed-host", "tasks.example")
    with serving_http(project, tmp_path, *args, env=env) as announced:
        url = announced.replace("0.0.0.0", "127.0.0.1")
        port = url.split(":")[-1].split("/")[0]
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert post(url, {**bearer, "Host": f"tasks.example:{port}"}) == 200
        assert post(url, {**bearer, "Host": f"other.example:{port}"}) == 421


async def test_the_command_server_over_http_needs_its_token(tmp_path: Path) -> None:
    argv = [*COMMAND_SERVER, "--transport", "http", "--host", "0.0.0.0"]
    env = {**no_token(tmp_path), "CLAUDE_TASK_TOKEN": TOKEN}
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = line.split()[-1].replace("0.0.0.0", "127.0.0.1")
        assert post(url) == 401
        with anyio.fail_after(30):
            names = await tool_names(url, {"Authorization": f"Bearer {TOKEN}"})
        assert names == {"run_command"}
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_inspector_needs_the_token_too(
    project: Path, tmp_path: Path, inspector: Callable[..., Any]
) -> None:
    with serving_http(project, tmp_path, "--token", TOKEN) as url:
        refused = inspector(url, "--method", "tools/list", ok=False)
        listed = inspector(url, "--header", f"Authorization: Bearer {TOKEN}",
                           "--method", "tools/list")  # fmt: skip
    assert refused.returncode != 0
    assert "execute_task" in {tool["name"] for tool in listed["tools"]}
