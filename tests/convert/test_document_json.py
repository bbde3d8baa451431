"""document_json: dataclass trees as JSON values, NOT_GIVEN left out, no pydantic needed."""

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
from claude_task_cli.convert.model import NOT_GIVEN, Expectation, ToolBinding

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


@given(args=st.dictionaries(st.text(), json_values, max_size=5), equals=json_values)
def test_a_binding_round_trips_through_its_json(args: dict[str, Any], equals: Any) -> None:
    binding = ToolBinding(
        server="s",
        tool="t",
        args=args,
        line=1,
        expect=[Expectation(path="a", equals=equals), Expectation(contains="x")],
    )
    data = json.loads(dumps(binding))
    assert data["args"] == args
    assert data["expect"][0]["equals"] == equals
    assert "equals" not in data["expect"][1]


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
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(ToolBinding(server="s", tool="t", line=1, args={"x": {1}}))


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_documents_read_back_to_the_same_text(golden: Path) -> None:
    text = golden.read_text(encoding="utf-8")
    doc = load_document(text)
    assert dumps(doc) == text


def test_converting_a_document_without_bindings_imports_no_pydantic() -> None:
    code = (
        "import sys; from pathlib import Path; from claude_task_cli.convert.converter import convert_file\n"
        f"convert_file(Path({str(GOLDEN / 'messy.md')!r})).to_json()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_importing_the_package_imports_neither_the_parser_nor_pydantic() -> None:
    code = (
        "import sys, claude_task_cli.convert as convert\n"
        "assert convert.levels({'b': ['a']}) == [['a'], ['b']]\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'markdown_it', 'pydantic', 'yaml'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
