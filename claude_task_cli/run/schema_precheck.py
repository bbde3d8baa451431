"""A fast yes for the JSON Schemas tools usually declare, before `jsonschema` gives the full answer.

`jsonschema` checks `{"value": 5}` against a one-property schema in ~11 µs (it builds a child
validator per keyword it descends into); the executor does it before every call. `compile_precheck`
turns the common subset of Draft 2020-12 (`type`, `properties`, `required`, `additionalProperties`,
`items`, string `enum` and `const`, `anyOf`, annotations) into a plain predicate that answers in
~1 µs. It is only ever a proof of validity: `True` means `jsonschema` would accept the instance too,
`False` means "ask `jsonschema`", which also words the problems. A schema using anything else
(`$ref`, `oneOf`, bounds, patterns, ...) compiles to None and is always checked by `jsonschema`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never make an instance invalid (`format` asserts nothing without a format checker,
# and the executor's validator has none; `$defs` is unreachable without `$ref`).
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)
_CHECKED = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf"}
)
# Draft 2020-12 types, conservatively: 1.0 is an integer to jsonschema but not here (it is then
# left to jsonschema), and bool is neither integer nor number.
_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "number": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _always(_instance: Any) -> bool:
    return True


def compile_precheck(schema: Any) -> Check | None:
    """A predicate proving `schema` accepts an instance, or None when the schema is outside the
    subset (see the module docstring). `schema` must already be a valid schema."""
    if schema is True:
        return _always
    if not isinstance(schema, Mapping) or not set(schema) <= _ANNOTATIONS | _CHECKED:
        return None
    checks: list[Check] = []
    shaped = bool({"properties", "required", "additionalProperties"} & set(schema))
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not all(name in _TYPES for name in names):
            return None
        tests = [_TYPES[name] for name in names]
        if not (shaped and names == ["object"]):  # else the shape check requires a dict itself
            checks.append(tests[0] if len(tests) == 1 else lambda x: any(t(x) for t in tests))
    for word in ("enum", "const"):
        if word in schema:
            allowed = schema[word] if word == "enum" else [schema[word]]
            if not all(isinstance(value, str) for value in allowed):
                return None
            checks.append(_one_of_strings(frozenset(allowed)))
    if "anyOf" in schema:
        branches = [compile_precheck(branch) for branch in schema["anyOf"]]
        if any(branch is None for branch in branches):
            return None
        options = [branch for branch in branches if branch is not None]
        checks.append(lambda x: any(option(x) for option in options))
    if "items" in schema:
        item = compile_precheck(schema["items"])
        if item is None:
            return None
        checks.append(lambda x: isinstance(x, list) and all(item(value) for value in x))
    if shaped:
        shape = _object_check(schema)
        if shape is None:
            return None
        checks.append(shape)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return lambda x: all(check(x) for check in checks)


def _object_check(schema: Mapping[str, Any]) -> Check | None:
    properties: dict[str, Check | None] = {}
    for name, sub in schema.get("properties", {}).items():
        compiled = compile_precheck(sub)
        if compiled is None:
            return None
        properties[name] = None if compiled is _always else compiled
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    other = None if extra is False else compile_precheck(extra)
    if extra is not False and other is None:
        return None

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return False
        for name in required:
            if name not in x:
                return False
        for key, value in x.items():
            if key in properties:
                test = properties[key]
            elif other is None:  # additionalProperties: false
                return False
            else:
                test = other
            if test is not None and test is not _always and not test(value):
                return False
        return True

    return check


def _one_of_strings(allowed: frozenset[str]) -> Check:
    return lambda x: isinstance(x, str) and x in allowed
