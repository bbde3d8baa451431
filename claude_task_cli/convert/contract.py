"""pydantic over the contract's dataclasses: what users and files give is validated here.

Imported only by what needs it (a document with `mcp` blocks, a converted `.json`, `schema`):
converting a plain document does not pay for importing pydantic and building the adapters.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import PydanticJsonSchemaWarning
from pydantic_core import to_jsonable_python

from claude_task_cli.convert.model import Expectation, TaskDocument, ToolBinding
from claude_task_cli.convert.not_given import NOT_GIVEN


@cache
def _document() -> TypeAdapter[TaskDocument]:
    return TypeAdapter(TaskDocument)


@cache
def _binding() -> TypeAdapter[ToolBinding]:
    return TypeAdapter(ToolBinding)


def load_document(data: bytes | str) -> TaskDocument:
    """A converted document read back from its JSON; raises pydantic's ValidationError."""
    return _document().validate_json(data)


def validate_binding(data: dict[str, Any]) -> ToolBinding:
    """A binding as the author wrote it, typed and bounded; raises pydantic's ValidationError.

    Values under `args` and `equals` become JSON values the way pydantic writes them (a YAML
    date becomes its ISO text), which is what the JSON holds and what the tool is sent."""
    binding = _binding().validate_python(data)
    binding.args = to_jsonable_python(binding.args)
    for exp in binding.expect:
        if exp.equals is not NOT_GIVEN:
            exp.equals = to_jsonable_python(exp.equals)
    return binding


@cache
def _expectation() -> TypeAdapter[Expectation]:
    return TypeAdapter(Expectation)


def expectation(data: dict[str, Any]) -> Expectation:
    """One expectation from its fields (as in a binding's `expect` list)."""
    return _expectation().validate_python(data)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a converted document (`claude-task schema`)."""
    with warnings.catch_warnings():
        # `equals` defaults to NOT_GIVEN, which has no JSON form: the schema leaves it out
        warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
        return _document().json_schema()
