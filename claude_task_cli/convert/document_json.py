"""The contract's dataclasses as plain JSON values, and a converted document as JSON text.

Fields come in the dataclass's order; an `equals` the author did not give (`NOT_GIVEN`) is left
out; a float that is not finite is written `null`, as pydantic wrote it before. Values are JSON
values by the time they get here (`contract.validate_binding` makes them so), so the standard
`json` module writes them; converting a document imports no pydantic.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from claude_task_cli.convert.not_given import NOT_GIVEN


def to_data(value: Any) -> Any:
    """A dataclass tree as plain JSON values (dicts in field order), `NOT_GIVEN` left out."""
    kind = type(value)
    if kind is list:
        return [to_data(v) for v in value]
    if kind is dict:
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(item)
            for f in fields(value)
            if (item := getattr(value, f.name)) is not NOT_GIVEN
        }
    if kind is float and not math.isfinite(value):
        return None
    return value


def dumps(value: Any) -> str:
    """Indented JSON text of a dataclass tree (UTF-8 kept as is), with a trailing newline."""
    return json.dumps(to_data(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
