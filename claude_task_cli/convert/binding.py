"""MCP tool bindings (```mcp fences) and the `${step:ID/path}` placeholder syntax.

A binding is YAML (JSON is YAML too) with the keys of `ToolBinding`. Any string in `args` may
reference an earlier step's result: `${step:1.2}` is the whole result, `${step:1.2/items/0/name}`
walks into it (`/`-separated keys and list indexes). A string that is exactly one placeholder takes
the referenced value with its type; a placeholder inside a longer string is interpolated as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from claude_task_cli.convert.model import Expectation, ToolBinding

PLACEHOLDER = re.compile(r"\$\{step:([^}/\s]+)((?:/[^}]*)?)\}")
MAX_BLOCK_CHARS = 256 * 1024  # a binding is a few lines; a large value belongs in a file
MAX_BLOCK_DEPTH = 32  # mappings and lists inside one another
_OPENED = re.compile(r"\$\{step:")
_ALLOWED = {f.name for f in fields(ToolBinding)} - {"line", "references"}
_EXPECT_ALLOWED = {f.name for f in fields(Expectation)}


class BindingError(Exception):
    """A malformed binding; `line` is absolute (1-based) in the document."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def parse_binding(content: str, fence_line: int) -> ToolBinding:
    """Parse the body of an ```mcp fence that opens at `fence_line`."""
    data = _load_yaml(content, fence_line)
    if not isinstance(data, dict):
        raise BindingError(
            fence_line, "malformed mcp block: expected a mapping with server, tool, args"
        )
    unknown = sorted(str(key) for key in data if key not in _ALLOWED)
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED))
        raise BindingError(
            _key_line(content, unknown[0], fence_line),
            f"unknown key{'s' if len(unknown) > 1 else ''} in mcp block: {', '.join(unknown)} "
            f"(allowed: {allowed})",
        )
    _check_expect_keys(data.get("expect"), content, fence_line)
    for required in ("server", "tool"):
        if not data.get(required):
            raise BindingError(fence_line, f"mcp block needs `{required}`")
    from pydantic import ValidationError

    from claude_task_cli.convert.contract import validate_binding

    try:
        binding = validate_binding({**data, "line": fence_line})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        line = _key_line(content, str(first["loc"][0]), fence_line)
        raise BindingError(line, f"mcp block: {where}: {first['msg']}") from exc
    refs = list(dict.fromkeys(ref for ref, _path in iter_placeholders(binding.args)))
    for text in _strings(binding.args):
        if _OPENED.search(text) and not PLACEHOLDER.search(text):
            raise BindingError(fence_line, f"malformed placeholder in {text!r}: use ${{step:ID}}")
    binding.references = refs
    return binding


def iter_placeholders(value: Any) -> Iterator[tuple[str, str]]:
    """Every (step id, path) referenced anywhere inside `value`."""
    for text in _strings(value):
        for match in PLACEHOLDER.finditer(text):
            yield match.group(1), match.group(2)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _key_line(content: str, key: str, fence_line: int) -> int:
    """The line of `key:` in the block: at the start of a line (also a `- key:` list entry),
    else anywhere (JSON written on one line); the fence line when it cannot be found."""
    name = re.escape(key)
    match = re.compile(rf"^[\s-]*[\"']?{name}[\"']?\s*:", re.M).search(content) or re.compile(
        rf"[\"']?\b{name}\b[\"']?\s*:"
    ).search(content)
    return fence_line + 1 + content[: match.start()].count("\n") if match else fence_line


def _check_expect_keys(expect: Any, content: str, fence_line: int) -> None:
    """Unknown keys in an `expect` entry, at the key's own line, with the allowed ones."""
    if not isinstance(expect, list):
        return
    for entry in expect:
        if not isinstance(entry, dict):
            continue
        unknown = sorted(str(key) for key in entry if key not in _EXPECT_ALLOWED)
        if unknown:
            raise BindingError(
                _key_line(content, unknown[0], fence_line),
                f"unknown key{'s' if len(unknown) > 1 else ''} in an mcp block's expect entry: "
                f"{', '.join(unknown)} (allowed: {', '.join(sorted(_EXPECT_ALLOWED))})",
            )


def _load_yaml(content: str, fence_line: int) -> Any:
    """The block's YAML read by libyaml's C loader, after a pass over the C parser's events
    that refuses what the loader would accept but a binding must not have: anchors and aliases
    (an alias chain, `&a [*b, *b, ...]`, expands exponentially) and nesting deeper than
    MAX_BLOCK_DEPTH (the loader composes recursively). Blocks over MAX_BLOCK_CHARS are refused
    before any parsing."""
    import yaml  # only documents that bind tools pay for it

    if len(content) > MAX_BLOCK_CHARS:
        raise BindingError(
            fence_line,
            f"mcp block is {len(content):,} characters, over the limit of {MAX_BLOCK_CHARS:,}: "
            "put large values in a file and pass its path",
        )
    try:
        depth = 0
        for event in yaml.parse(content, Loader=yaml.CSafeLoader):
            kind = type(event)
            line = fence_line + 1 + (event.start_mark.line if event.start_mark else 0)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                depth += 1
                if depth > MAX_BLOCK_DEPTH:
                    raise BindingError(
                        line,
                        f"mcp block nested deeper than {MAX_BLOCK_DEPTH} levels",
                    )
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
            if kind is yaml.AliasEvent or getattr(event, "anchor", None):
                raise BindingError(
                    line,
                    "malformed mcp block: YAML anchors and aliases (&name, *name) are not "
                    "allowed: write the value out",
                )
        return yaml.load(content, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = fence_line + 1 + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BindingError(line, f"malformed mcp block: {problem}") from exc
