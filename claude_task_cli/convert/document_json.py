"""The converted document as JSON text, and the contract's dataclasses as plain JSON values.

`dumps` writes what `json.dumps(to_data(doc), indent=2, ensure_ascii=False)` would, in about a
fifth of its time (json's indenting encoder is pure Python: ~260 ms for a 10,000-step document;
this ~60 ms), and without pydantic, which converting a document does not import. Fields come in
the dataclass's order; an `equals` the author did not give (`NOT_GIVEN`) is left out; a float
that is not finite is written `null`, as pydantic wrote it before. Values are JSON values by the
time they get here (`contract.validate_binding` makes them so); anything else is a bug and raises
TypeError. `tests/test_document_json.py` holds it to `json.dumps` on arbitrary trees.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from enum import Enum
from json.encoder import encode_basestring  # the C function when _json is there (CPython)
from typing import Any

from claude_task_cli.convert.not_given import NOT_GIVEN

_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def dumps(doc: Any) -> str:
    """Indented JSON text of a dataclass tree, with a trailing newline."""
    out: list[str] = []
    _write(doc, "\n", out)
    out.append("\n")
    return "".join(out)


def _write(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is list:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[")
        first = True
        for item in value:
            out.append(inner if first else "," + inner)
            first = False
            _write(item, inner, out)
        out.append(newline + "]")
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        out.append("{")
        first = True
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
            out.append((inner if first else "," + inner) + encode_basestring(key) + ": ")
            first = False
            _write(item, inner, out)
        out.append(newline + "}")
    elif kind is float:
        out.append(float.__repr__(value) if math.isfinite(value) else "null")
    elif isinstance(value, Enum):
        _write(value.value, newline, out)
    elif is_dataclass(value):
        inner = newline + "  "
        out.append("{")
        first = True
        for name in _names(kind):
            item = getattr(value, name)
            if item is NOT_GIVEN:
                continue
            out.append((inner if first else "," + inner) + '"' + name + '": ')
            first = False
            _write(item, inner, out)
        out.append(newline + "}" if not first else "}")
    else:
        raise TypeError(f"not a JSON value: {kind.__name__}")


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
            name: to_data(item)
            for name in _names(kind)
            if (item := getattr(value, name)) is not NOT_GIVEN
        }
    if kind is float and not math.isfinite(value):
        return None
    return value
