"""A document checked against the project's servers before it runs, so a misspelt server, tool or
argument is caught at its line with the fix in the message, not half-way through a run.

```python
found = check_declared(doc, path)               # every server it calls is in .mcp.json
problems = await check_tools(doc, path, found)  # contacting them: tools exist, arguments fit
raise with_install_hint(error)                  # a server that did not start: what to install
```

Every problem is a `TaskSpecError` at the line it comes from (`doc.md:12: server 'tme' is not
declared in .mcp.json (did you mean 'time'?)`). Arguments holding a whole `${step:…}` placeholder
are not type-checked: their value is known only during the run.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from claude_task_cli.convert.binding import PLACEHOLDER
from claude_task_cli.convert.model import Step, TaskDocument, ToolBinding
from claude_task_cli.errors import (
    McpConfigMissingError,
    ServerStartError,
    TaskSpecError,
    TaskSpecErrors,
)

CONFIG_NAME = ".mcp.json"

# Reference servers whose absence has a known cure: Python module or command → PyPI package,
# npm package (as named in `node_modules/`) → itself.
PYPI_MODULES = {
    "mcp_server_time": "mcp-server-time",
    "mcp_server_git": "mcp-server-git",
    "mcp_server_fetch": "mcp-server-fetch",
    "claude_task_cli": "claude-task-cli",
}
PYPI_COMMANDS = {package: package for package in PYPI_MODULES.values()}
NPM_PACKAGES = frozenset(
    f"@modelcontextprotocol/{name}"
    for name in ("server-filesystem", "server-everything", "server-memory")
)
_NO_MODULE = re.compile(r"^(?P<python>\S+): .*?No module named '?(?P<module>[\w.]+?)'?\)?$")
_NO_COMMAND = re.compile(r"^cannot run it: No such file or directory: (?P<command>\S+)$")
PYTHON_VARIABLE = "CLAUDE_TASK_PYTHON"  # the facade sets it to its own interpreter
_PYTHON_FORM = re.compile(r"\$\{" + PYTHON_VARIABLE + r"(:-[^}]*)?\}")
_NODE_MISSING = re.compile(r"Cannot find module '[^']*node_modules/(?P<package>@[^/]+/[^/]+)/")


def bindings(doc: TaskDocument) -> Iterator[tuple[Step, ToolBinding]]:
    """Every step bound to a tool, in document order."""
    for _task, step in doc.all_steps():
        if step.tool is not None:
            yield step, step.tool


def check_declared(doc: TaskDocument, path: Path, mcp_config: Path | None = None) -> Path | None:
    """The project's `.mcp.json` (or `mcp_config`), once every server the document calls is
    declared in it; None when the document calls no server. Raises `TaskSpecErrors` (each
    undeclared server at its line) and `McpConfigMissingError` (no `.mcp.json`)."""
    bound = list(bindings(doc))
    if not bound:
        return None
    lines = _BlockLines(path, doc)
    start = path.resolve().parent
    found = mcp_config or _nearest_config(start)
    if found is None or not found.is_file():
        step, binding = bound[0]
        where = f"no {found}" if found is not None else f"no {CONFIG_NAME} in {start} or above"
        raise McpConfigMissingError(
            f"step {step.id} calls server {binding.server!r}, but there is {where} "
            "(claude-task init writes one)",
            path=doc.source.path,
            line=lines.key(binding, "server"),
        )
    names = _declared_names(found)
    problems = []
    for _step, binding in bound:
        if binding.server not in names:
            hint = _near(binding.server, names) or "it declares " + (
                ", ".join(sorted(names)) or "none"
            )
            problems.append(
                TaskSpecError(
                    doc.source.path,
                    lines.key(binding, "server"),
                    f"server {binding.server!r} is not declared in {CONFIG_NAME} ({hint})",
                )
            )
    if problems:
        raise TaskSpecErrors(problems)
    return found


async def check_tools(doc: TaskDocument, path: Path, mcp_config: Path) -> list[TaskSpecError]:
    """Start each server the document calls and check every binding against what it lists: the
    tool exists, the arguments fit its input schema. A server that does not start raises
    `ServerStartError` (with an install hint when known)."""
    import anyio

    from claude_task_cli.mcp.client_side import ClientSide
    from claude_task_cli.mcp.config import load_mcp_config
    from claude_task_cli.mcp.sessions import ServerPool
    from claude_task_cli.project import project_root

    bound = list(bindings(doc))
    lines = _BlockLines(path, doc)
    problems: list[TaskSpecError] = []
    servers = sorted({binding.server for _step, binding in bound})
    listed: dict[str, Mapping[str, Any]] = {}
    failed: list[ServerStartError] = []

    async def list_tools(pool: ServerPool, server: str) -> None:
        try:
            listed[server] = await pool.list_tools(server)
        except ServerStartError as exc:
            failed.append(exc)

    async with (
        # offered what a run offers, so they list the same tools (some list more to a client
        # that takes roots or questions)
        ServerPool(
            load_mcp_config(mcp_config),
            allowed=servers,
            client=ClientSide(roots=(project_root(path.resolve().parent),)),
        ) as pool,
        anyio.create_task_group() as group,  # the servers start side by side
    ):
        for server in servers:
            group.start_soon(list_tools, pool, server)
    if failed:
        first = min(failed, key=lambda exc: servers.index(exc.server))
        raise with_install_hint(first)
    for _step, binding in bound:
        tools = listed[binding.server]
        spec = tools.get(binding.tool)
        if spec is None:
            hint = _near(binding.tool, tools) or "it has " + (", ".join(sorted(tools)) or "none")
            message = f"server {binding.server!r} has no tool {binding.tool!r} ({hint})"
            problems.append(TaskSpecError(doc.source.path, lines.key(binding, "tool"), message))
            continue
        for key, message in argument_problems(binding.args, spec.input_schema):
            line = lines.key(binding, key, within="args") if key else lines.key(binding, "args")
            text = f"tool {binding.tool!r}: {message}"
            problems.append(TaskSpecError(doc.source.path, line, text))
    return problems


def argument_problems(args: Mapping[str, Any], schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(argument name or "", message) for each way `args` does not fit `schema`; arguments that
    are one whole placeholder count as given, with a type known only at run time."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return []  # the executor does not check against a broken schema either
    deferred = {k for k, v in args.items() if isinstance(v, str) and PLACEHOLDER.fullmatch(v)}
    instance = {k: v for k, v in args.items() if k not in deferred}
    properties = schema.get("properties")
    known = set(properties) if isinstance(properties, dict) else set()
    problems: list[tuple[str, str]] = []
    closed = schema.get("additionalProperties") is False
    # required names already accounted for: one a misspelt argument stands for, one reported
    accounted: set[str] = set()
    for name in args:
        if known and name not in known:
            near = difflib.get_close_matches(name, sorted(known - set(args)), n=1)
            if near or closed:
                said = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append((name, f"unknown argument {name!r}{said}"))
                accounted.update(near)
    for error in Draft202012Validator(schema).iter_errors(instance):
        where = [str(part) for part in error.absolute_path]
        if error.validator == "additionalProperties" and not where:
            continue  # said above, with the near name
        if error.validator == "required" and not where:
            for name in error.validator_value:
                if name not in args and name not in accounted:  # each missing one has the list
                    accounted.add(name)
                    problems.append(("", f"missing required argument {name!r}"))
            continue
        key = where[0] if where else ""
        label = f"argument {'/'.join(where)!r}: " if where else ""
        problems.append((key, f"{label}{error.message}"))
    return problems


def with_install_hint(error: ServerStartError) -> ServerStartError:
    """`error` with the install command of a known reference server whose module, command or
    npm package was missing; `error` itself otherwise."""
    if error.hint is not None:
        return error
    hint = None
    command = _NO_COMMAND.match(error.message)
    if command is not None and Path(command["command"]).name in PYPI_COMMANDS:
        package = PYPI_COMMANDS[Path(command["command"]).name]
        hint = f"{package} is not installed (no command {command['command']}): " + (
            f"pip install {package}"
        )
    for line in error.stderr_tail:
        module = _NO_MODULE.match(line.strip())
        if module is not None and module["module"].split(".")[0] in PYPI_MODULES:
            package = PYPI_MODULES[module["module"].split(".")[0]]
            python = _unmasked(module["python"])
            hint = f"{package} is not installed for {python}: {python} -m pip install {package}"
        node = _NODE_MISSING.search(line)
        if node is not None and node["package"] in NPM_PACKAGES:
            hint = f"{node['package']} is not installed: npm install {node['package']}"
    if hint is None:
        return error
    return ServerStartError(error.server, error.message, error.stderr_tail, hint=hint)


def _nearest_config(start: Path) -> Path | None:
    """The nearest `.mcp.json` at or above `start`, as `mcp.config.find_mcp_config` finds it."""
    for directory in (start, *start.parents):
        if (directory / CONFIG_NAME).is_file():
            return directory / CONFIG_NAME
    return None


def _declared_names(found: Path) -> frozenset[str]:
    """The server names `found` declares, read as plain JSON: `mcp.config`'s loader builds
    pydantic models first, which would take `convert_task --check` past its whole-process
    target (docs/benchmarks.md). A file plain JSON cannot read goes to the loader, for
    the error that says what is wrong with it."""
    try:
        servers = json.loads(found.read_text(encoding="utf-8"))["mcpServers"]
        if isinstance(servers, dict):
            return frozenset(servers)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        pass
    from claude_task_cli.mcp.config import load_mcp_config

    return load_mcp_config(found).names


def _unmasked(python: str) -> str:
    """The interpreter a server ran: messages about servers show `${VAR}` forms rather than what
    they expand to (secrets), but the interpreter claude-task gives its servers is no secret, and
    an install command naming `${CLAUDE_TASK_PYTHON:-python3}` would install elsewhere."""
    given = os.environ.get(PYTHON_VARIABLE)
    return _PYTHON_FORM.sub(lambda _match: given, python) if given else python


def _near(name: str, candidates: Any) -> str | None:
    found = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f"did you mean {found[0]!r}?" if found else None


class _BlockLines:
    """Lines of the keys inside a document's ```mcp blocks (`server:`, `tool:`, an argument),
    read from the markdown; a block's fence line when the text is not at hand."""

    def __init__(self, path: Path, doc: TaskDocument) -> None:
        source = path if path.suffix.lower() == ".md" else Path(doc.source.path)
        try:
            self.lines = source.read_text(encoding="utf-8-sig", errors="replace").splitlines()
        except OSError:
            self.lines = []

    def key(self, binding: ToolBinding, key: str, *, within: str | None = None) -> int:
        """The 1-based line of `key:` in the block opening at `binding.line` (after `within:`
        when given), else the fence line."""
        pattern = re.compile(rf"(^|[\s{{,\-])[\"']?{re.escape(key)}[\"']?\s*:")
        number = binding.line  # 1-based fence line: self.lines[number] is the line after it
        seen_within = within is None
        while number < len(self.lines):
            text = self.lines[number]
            if text.strip().startswith(("```", "~~~")):
                break
            number += 1
            if not seen_within:
                seen_within = re.search(rf"(^|[\s{{,])[\"']?{within}[\"']?\s*:", text) is not None
                text = text.split(":", 1)[1] if seen_within else text
            if seen_within and pattern.search(text):
                return number
        return binding.line
