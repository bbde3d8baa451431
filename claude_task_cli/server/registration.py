"""How a function becomes one of the server's tools: strict arguments, a published result schema,
and the result itself (structured content with the same data as compact JSON text beside it).

The SDK builds a tool from a function's signature; here its argument model is made to refuse
arguments it does not declare (`additionalProperties: false`), an argument that does not fit is
one line per problem (`boundary.arguments_result`) rather than pydantic's report, and the output
schema given is published as is — the tools build their results from the types it was made from
(`schemas.py`), and the client checks every result against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BeforeValidator, ConfigDict, Field, ValidationError

from claude_task_cli.server.boundary import arguments_result, tool_boundary


def _as_text(value: object) -> object:
    """Ids sent as numbers (`3.1`, `10`: clients parse what looks like one) taken as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = BeforeValidator(_as_text)
TaskArg = Annotated[
    str,
    Text,
    Field(description="The task document: a path inside the project, or its id (e.g. 010)."),
]


def structured(data: Any, text: str | None = None) -> CallToolResult:
    """A tool's result: `data` as structured content, and as compact JSON text beside it."""
    shown = (
        text if text is not None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    return CallToolResult(content=[TextContent(type="text", text=shown)], structured_content=data)


class StrictTool(Tool):
    """A tool whose arguments that do not fit its schema (an unknown one included) are one
    line each, as a tool error with structured content like any other (`boundary.py`)."""

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return arguments_result(self.name, exc.__cause__)
            raise


def strict_tool(
    fn: Callable[..., Any], title: str, hints: ToolAnnotations, schema: dict[str, Any]
) -> Tool:
    """`fn` as a tool that refuses arguments it does not declare and publishes `schema` as the
    JSON Schema of its structured result (built by `structured`, published as is)."""
    made = Tool.from_function(tool_boundary(fn), title=title, annotations=hints)
    tool = StrictTool.model_validate(dict(made), from_attributes=False)
    model = tool.fn_metadata.arg_model
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    strict: type[ArgModelBase] = type(model.__name__, (model,), {"model_config": config})
    tool.fn_metadata.arg_model = strict
    tool.fn_metadata.output_schema = without_titles(schema)
    tool.parameters = without_titles(strict.model_json_schema(by_alias=True))
    return tool


def without_titles(schema: Any) -> Any:
    """`schema` without pydantic's generated `title`s, which repeat the names beside them and
    only cost a model's context."""
    if isinstance(schema, dict):
        return {
            key: without_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [without_titles(item) for item in schema]
    return schema
