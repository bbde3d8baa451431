"""document_json: the same text as json.dumps(indent=2), NOT_GIVEN left out, no pydantic."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_task_cli.convert.contract import load_document
from claude_task_cli.convert.document_json import dumps, to_data
from claude_task_cli.convert.model import NOT_GIVEN, Expectation, ListItem, ToolBinding

GOLDEN = Path(__file__).parent / "golden"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def reference(value: Any) -> str:
    return json.dumps(to_data(value), indent=2, ensure_ascii=False) + "\n"


@given(args=st.dictionaries(st.text(), json_values, max_size=5), equals=json_values)
def test_a_binding_is_written_as_json_dumps_writes_it(args: dict[str, Any], equals: Any) -> None:
    binding = ToolBinding(
        server="s",
        tool="t",
        args=args,
        line=1,
        expect=[Expectation(path="a", equals=equals), Expectation(contains="x")],
    )
    assert dumps(binding) == reference(binding)
    assert json.loads(dumps(binding))["args"] == args


@given(texts=st.lists(st.text(), max_size=5), checked=st.none() | st.booleans())
def test_nested_items_are_written_as_json_dumps_writes_them(
    texts: list[str], checked: bool | None
) -> None:
    item = ListItem(
        text="root",
        line=1,
        checked=checked,
        children=[ListItem(text=t, line=i + 2) for i, t in enumerate(texts)],
    )
    assert dumps(item) == reference(item)


def test_an_equals_not_given_is_left_out_and_reads_back_not_given() -> None:
    data = to_data(Expectation(path="x", contains="a"))
    assert data == {
        "path": "x",
        "contains": "a",
        "matches": None,
        "exists": None,
        "exit_code": None,
    }
    assert json.loads(dumps(Expectation(path="x", equals=None)))["equals"] is None
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


def test_a_float_that_is_not_finite_is_null_and_other_values_are_refused() -> None:
    assert json.loads(dumps(ToolBinding(server="s", tool="t", line=1, args={"x": math.inf})))[
        "args"
    ] == {"x": None}
    with pytest.raises(TypeError, match="not a JSON value: set"):
        dumps(ToolBinding(server="s", tool="t", line=1, args={"x": {1}}))
    with pytest.raises(TypeError, match="keys are strings"):
        dumps(ToolBinding(server="s", tool="t", line=1, args={"x": {1: 2}}))


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_documents_read_back_to_the_same_text(golden: Path) -> None:
    text = golden.read_text(encoding="utf-8")
    doc = load_document(text)
    assert dumps(doc) == text == reference(doc)


def test_converting_a_document_without_bindings_imports_no_pydantic() -> None:
    code = (
        "import sys; from pathlib import Path; from claude_task_cli.convert.converter import convert_file\n"
        f"convert_file(Path({str(GOLDEN / 'messy.md')!r})).to_json()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
