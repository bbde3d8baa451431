"""`.mcp.json` loading: entry types, `${VAR}` expansion, finding the file, errors pointing at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_task_cli.errors import ExitCode, McpConfigError
from claude_task_cli.mcp.config import (
    HttpServer,
    SseServer,
    StdioServer,
    find_mcp_config,
    load_mcp_config,
)


def write(directory: Path, servers: Any) -> Path:
    path = directory / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2), encoding="utf-8")
    return path


def test_stdio_entry_with_and_without_type(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "a": {"command": "srv", "args": ["-x"], "env": {"K": "v"}},
            "b": {"type": "stdio", "command": "srv2"},
        },
    )
    config = load_mcp_config(path)
    a, b = config.get("a"), config.get("b")
    assert isinstance(a, StdioServer)
    assert (a.name, a.command, a.args, a.env, a.cwd) == ("a", "srv", ["-x"], {"K": "v"}, None)
    assert isinstance(b, StdioServer)
    assert b.args == []
    assert config.names == {"a", "b"}
    assert config.path == path.resolve()


def test_http_entry_and_streamable_http_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "h": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X-A": "1"}},
            "s": {"type": "streamable-http", "url": "https://example.test/mcp"},
            "u": {"url": "http://127.0.0.1:9/mcp"},  # no type: a url means http
            "legacy": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
        },
    )
    config = load_mcp_config(path)
    h = config.get("h")
    assert isinstance(h, HttpServer)
    assert h.headers == {"X-A": "1"}
    assert isinstance(config.get("s"), HttpServer)
    assert isinstance(config.get("u"), HttpServer)
    assert isinstance(config.get("legacy"), SseServer)


def test_expansion_with_and_without_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "s": {
                "command": "${BIN}/srv",
                "args": ["--level", "${LEVEL:-info}", "--name=${NAME:-anon}", "$LITERAL"],
                "env": {"TOKEN": "${TOKEN}", "EMPTY_DEFAULT": "${EMPTY:-fallback}"},
                "cwd": "${SUB:-work}",
            },
            "h": {
                "type": "http",
                "url": "http://${HOST:-127.0.0.1}:${PORT}/mcp",
                "headers": {"Authorization": "Bearer ${TOKEN}"},
            },
        },
    )
    environ = {"BIN": "/opt/bin", "NAME": "me", "TOKEN": "t0k", "EMPTY": "", "PORT": "8080"}
    config = load_mcp_config(path, environ=environ)
    s = config.get("s")
    assert isinstance(s, StdioServer)
    assert s.command == "/opt/bin/srv"
    assert s.args == ["--level", "info", "--name=me", "$LITERAL"]
    assert s.env == {"TOKEN": "t0k", "EMPTY_DEFAULT": "fallback"}
    assert s.cwd == (tmp_path / "work").resolve()  # relative cwd: from the config's directory
    h = config.get("h")
    assert isinstance(h, HttpServer)
    assert h.url == "http://127.0.0.1:8080/mcp"
    assert h.headers == {"Authorization": "Bearer t0k"}


def test_what_the_environment_gave_is_written_back_in_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "s": {
                "command": "${BIN}/server",
                "args": ["--token", "${TOKEN}", "--level", "${LEVEL:-verbose}", "${N}"],
                "env": {"KEY": "Bearer ${TOKEN}"},
            },
            "h": {"url": "https://${HOST}/mcp", "headers": {"X": "${TOKEN:-none}"}},
        },
    )
    environ = {"BIN": "/opt/s3cret", "TOKEN": "tok-123456", "N": "7", "HOST": "internal.corp"}
    config = load_mcp_config(path, environ=environ)
    server = config.get("s")
    assert server.expansions == {"/opt/s3cret": "${BIN}", "tok-123456": "${TOKEN}"}
    message = "cannot run /opt/s3cret/server --token tok-123456 at internal.corp, level verbose 7"
    assert server.redact(message) == (
        "cannot run ${BIN}/server --token ${TOKEN} at internal.corp, level verbose 7"
    )  # a default from the file and a one-character value stay as they are
    assert config.redact(message) == (
        "cannot run ${BIN}/server --token ${TOKEN} at ${HOST}, level verbose 7"
    )


def test_redaction_is_one_pass_longest_value_first(tmp_path: Path) -> None:
    path = write(tmp_path, {"s": {"command": "${LONG}", "args": ["${SHORT}", "${NAME}"]}})
    environ = {"LONG": "abcdefgh", "SHORT": "abcd", "NAME": "SHORT"}
    config = load_mcp_config(path, environ=environ)
    # "abcd" inside "abcdefgh" is not replaced on its own, nor "SHORT" inside "${SHORT}"
    assert config.redact("abcdefgh abcd SHORT") == "${LONG} ${SHORT} ${NAME}"


def test_absolute_cwd_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, {"s": {"command": "srv", "cwd": "/"}})
    entry = load_mcp_config(path, environ={}).get("s")
    assert isinstance(entry, StdioServer)
    assert entry.cwd == Path("/")


def test_unset_variable_names_server_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, {"ok": {"command": "x"}, "needs": {"command": "x", "args": ["${NOPE}"]}})
    with pytest.raises(McpConfigError) as info:
        load_mcp_config(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert "'needs'" in message
    assert "NOPE" in message
    assert "args[0]" in message
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_json_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text('{\n  "mcpServers": {\n    "a": {"command": "x",}\n  }\n}\n', encoding="utf-8")
    with pytest.raises(McpConfigError) as info:
        load_mcp_config(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: invalid JSON")


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ({"a": {"args": ["x"]}}, "server 'a': command: Field required"),
        ({"a": {"type": "carrier-pigeon", "command": "x"}}, "unknown type 'carrier-pigeon'"),
        ({"a": ["not", "an", "object"]}, "server 'a': entry must be an object"),
        ({"a": {"type": "http", "url": "ftp://x"}}, "server 'a': url:"),
        ({"a": {"command": "x", "env": {"N": 1}}}, "server 'a': env.N:"),
    ],
)
def test_bad_entries_name_file_and_server(tmp_path: Path, servers: Any, expected: str) -> None:
    path = write(tmp_path, servers)
    with pytest.raises(McpConfigError, match=expected) as info:
        load_mcp_config(path, environ={})
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize("text", ["[]", '{"servers": {}}', '{"mcpServers": []}'])
def test_missing_mcp_servers_object(tmp_path: Path, text: str) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(McpConfigError, match='"mcpServers"'):
        load_mcp_config(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="cannot read"):
        load_mcp_config(tmp_path / "absent.json")


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, {"a": {"command": "x", "disabled": False, "autoApprove": ["t"]}})
    entry = load_mcp_config(path).get("a")
    assert isinstance(entry, StdioServer)
    assert not hasattr(entry, "disabled")


def test_get_undeclared_lists_declared_names(tmp_path: Path) -> None:
    config = load_mcp_config(write(tmp_path, {"b": {"command": "x"}, "a": {"command": "y"}}))
    with pytest.raises(McpConfigError, match=r"server 'zz': not declared .*\(declared: a, b\)"):
        config.get("zz")


def test_find_walks_up_from_a_directory_or_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, {})
    nested = tmp_path / "a" / "b" / "c"
    nested.mkdir(parents=True)
    (nested / "task.md").write_text("# t\n", encoding="utf-8")
    assert find_mcp_config(nested) == path.resolve()
    assert find_mcp_config(nested / "task.md") == path.resolve()
    inner = write(tmp_path / "a", {})
    assert find_mcp_config(nested) == inner.resolve()


def test_find_stops_at_the_root(tmp_path: Path) -> None:
    # Whatever the machine has above tmp_path is the answer; the walk must end, not loop.
    above = next((d / ".mcp.json" for d in tmp_path.parents if (d / ".mcp.json").is_file()), None)
    assert find_mcp_config(tmp_path) == above
    root = Path("/.mcp.json")
    assert find_mcp_config(Path("/")) == (root if root.is_file() else None)
