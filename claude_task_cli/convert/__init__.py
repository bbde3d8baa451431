"""Converting: a markdown task document → a validated `TaskDocument`, the JSON contract every later
stage consumes (docs/json-contract.md, docs/task-format.md).

The way through: `source` (bytes → clean text) → `blocks` (markdown → blocks with lines) →
`document` and `tasks` (blocks → the model, `steps` and `binding` for checklists and ```mcp
blocks) → `graph` (dependencies: defaults, cycles, waves) → `model` (the contract's dataclasses),
written by `document_json` and validated by `contract` (pydantic, imported only when needed).

What later stages call is here; everything else in the package is its own business. Importing it
imports neither the markdown parser nor pydantic.
"""

from __future__ import annotations

from claude_task_cli.convert.converter import collect_inputs, convert_bytes, convert_file
from claude_task_cli.convert.graph import find_cycle, levels
from claude_task_cli.convert.model import (
    SCHEMA_VERSION,
    Expectation,
    ListItem,
    Step,
    Task,
    TaskDocument,
    ToolBinding,
)
from claude_task_cli.convert.source import display_path

__all__ = [
    "SCHEMA_VERSION",
    "Expectation",
    "ListItem",
    "Step",
    "Task",
    "TaskDocument",
    "ToolBinding",
    "collect_inputs",
    "convert_bytes",
    "convert_file",
    "display_path",
    "find_cycle",
    "levels",
    "load_document",
]


def load_document(data: bytes | str) -> TaskDocument:
    """A converted document read back from its JSON, validated (pydantic's ValidationError when
    it does not fit the contract)."""
    from claude_task_cli.convert.contract import load_document as validated

    return validated(data)
