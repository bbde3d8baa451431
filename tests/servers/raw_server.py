"""A hand-written MCP server over stdio, for what the SDK's servers never do: write a stray line
on stdout in the middle of a session. It answers `initialize`, `tools/list` (one tool, `noisy`)
and `tools/call` of `noisy`, which writes `noise: <its text argument>` on stdout, then answers
`{"said": text}`. Run it by path: `python tests/servers/raw_server.py`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

TOOL = {
    "name": "noisy",
    "description": "Writes a stray line on stdout, then answers.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def answer(request: dict[str, Any]) -> dict[str, Any]:
    method = request["method"]
    if method == "initialize":
        return {
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "raw", "version": "0"},
        }
    if method == "tools/list":
        return {"tools": [TOOL]}
    if method == "tools/call":
        text = request["params"].get("arguments", {}).get("text", "")
        sys.stdout.write(f"noise: {text}\n")
        return {"content": [{"type": "text", "text": text}], "structuredContent": {"said": text}}
    return {}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if "id" in request and "method" in request:
            send({"jsonrpc": "2.0", "id": request["id"], "result": answer(request)})


if __name__ == "__main__":
    main()
