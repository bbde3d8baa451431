"""Validation errors point at path:line; bad input is one clear message, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from claude_task_cli.convert.converter import collect_documents, convert_bytes, convert_file
from claude_task_cli.convert.model import ListItem
from claude_task_cli.errors import CycleError, ExitCode, InputError, TaskSpecErrors


def errors_of(markdown: str) -> list[str]:
    with pytest.raises(TaskSpecErrors) as caught:
        convert_bytes(markdown.encode(), "doc.md")
    assert caught.value.exit_code is ExitCode.INVALID_INPUT
    return caught.value.lines()


def test_dependency_on_a_missing_task() -> None:
    doc = "# T\n\n### Task 1: A\n\n**Depends on**: Task 9\n\n- [ ] 1.1 x\n"
    assert errors_of(doc) == ["doc.md:5: Task 1 depends on Task 9, which does not exist"]


def test_dependency_on_a_missing_step() -> None:
    doc = "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n  - Depends on: 1.7\n"
    assert errors_of(doc) == ["doc.md:6: step 1.1 depends on step 1.7, which does not exist"]


def test_cycle_message_names_the_whole_cycle() -> None:
    doc = (
        "# T\n\n### Task 1: A\n**Depends on**: Task 3\n\n"
        "### Task 2: B\n**Depends on**: Task 1\n\n"
        "### Task 3: C\n**Depends on**: Task 2\n"
    )
    with pytest.raises(TaskSpecErrors) as caught:
        convert_bytes(doc.encode(), "doc.md")
    (error,) = caught.value.errors
    assert isinstance(error, CycleError)
    assert error.cycle == ["Task 1", "Task 3", "Task 2", "Task 1"]
    assert str(error) == "doc.md:4: dependency cycle: Task 1 → Task 3 → Task 2 → Task 1"


def test_step_cycle() -> None:
    doc = "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n  - Depends on: 1.2\n- [ ] 1.2 y\n  - Depends on: 1.1\n"
    assert errors_of(doc) == ["doc.md:6: dependency cycle: Step 1.1 → Step 1.2 → Step 1.1"]


def test_duplicate_ids_are_errors_when_referenced() -> None:
    doc = (
        "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n- [ ] 1.1 again\n- [ ] 1.3 z\n  - Depends on: 1.1\n"
        "\n### Task 1: B\n\n### Task 2: C\n**Depends on**: Task 1\n"
    )
    assert errors_of(doc) == [
        "doc.md:8: duplicate step id 1.1 (again at line 6): step 1.3 depends on it ambiguously",
        "doc.md:13: duplicate task id 1 (again at line 10): Task 2 depends on it ambiguously",
    ]


def test_unreferenced_duplicates_are_renamed_with_a_warning() -> None:
    doc = convert_bytes(b"# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n- [ ] 1.1 again\n", "doc.md")
    assert [s.id for s in doc.tasks[0].steps] == ["1.1", "1.2"]
    assert [(w.line, w.message) for w in doc.warnings] == [
        (6, "duplicate step id 1.1; renamed 1.2")
    ]


def test_a_renamed_duplicate_never_takes_an_id_the_author_wrote_later() -> None:
    markdown = (
        "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n- [ ] 1.1 again\n- [ ] 1.2 real\n"
        "- [ ] 1.4 z\n  - Depends on: 1.2\n\n### Task 2: B\n\n- [ ] 2.1 y\n  - [ ] 1.3 far\n"
    )
    doc = convert_bytes(markdown.encode(), "doc.md")
    assert [s.id for _t, s in doc.all_steps()] == ["1.1", "1.5", "1.2", "1.4", "2.1", "1.3"]
    assert [(w.line, w.message) for w in doc.warnings] == [
        (6, "duplicate step id 1.1; renamed 1.5")
    ]
    assert doc.tasks[0].steps[3].depends_on == ["1.2"]


def test_an_unnumbered_step_never_takes_an_id_the_author_wrote_later() -> None:
    doc = convert_bytes(b"# T\n\n### Task 1: A\n\n- [ ] x\n- [ ] 1.1 real\n", "doc.md")
    assert [s.id for s in doc.tasks[0].steps] == ["1.2", "1.1"]
    assert [w.message for w in doc.warnings] == ["step has no number; id 1.2 assigned"]


def test_malformed_mcp_block_reports_the_yaml_line() -> None:
    doc = (
        "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n  ```mcp\n  server: time\n  args: [unclosed\n  ```\n"
    )
    (line,) = errors_of(doc)
    assert line.startswith("doc.md:9: malformed mcp block:")


def test_unknown_keys_in_a_binding() -> None:
    doc = (
        "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n  ```mcp\n  server: s\n  tool: t\n  retry: 3\n  ```\n"
    )
    (line,) = errors_of(doc)
    assert line.startswith("doc.md:9: unknown key in mcp block: retry (allowed:")


def _bound(body: str) -> str:
    return "# T\n\n### Task 1: A\n\n- [ ] 1.1 a\n- [ ] 1.2 x\n  ```mcp\n" + body + "  ```\n"


def test_unknown_keys_in_an_expect_entry_point_at_the_key() -> None:
    allowed = "(allowed: contains, equals, exists, exit_code, matches, path)"
    block = "  server: s\n  tool: t\n  expect:\n    - path: x\n      equal: 1\n"
    assert errors_of(_bound(block)) == [
        f"doc.md:12: unknown key in an mcp block's expect entry: equal {allowed}"
    ]
    one_line = '  {"server": "s", "tool": "t", "expect": [{"path": "a", "equal": 1}]}\n'
    assert errors_of(_bound(one_line)) == [
        f"doc.md:8: unknown key in an mcp block's expect entry: equal {allowed}"
    ]


def test_yaml_aliases_are_refused_at_their_line_and_fast() -> None:
    levels = "".join(
        f"    {b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefg", "bcdefgh", strict=True)
    )
    block = "  server: s\n  tool: t\n  args:\n    a: &a [lol, lol]\n" + levels
    started = time.perf_counter()
    assert errors_of(_bound(block)) == [
        "doc.md:11: malformed mcp block: YAML anchors and aliases (&name, *name) are not "
        "allowed: write the value out"
    ]
    assert time.perf_counter() - started < 5
    alias_only = "  server: s\n  tool: t\n  args: {a: *nowhere}\n"
    assert errors_of(_bound(alias_only))[0].startswith("doc.md:10: malformed mcp block: YAML")


def test_yaml_nested_too_deep_is_refused_at_its_line() -> None:
    deep = "[" * 300 + "1" + "]" * 300
    assert errors_of(_bound(f"  server: s\n  tool: t\n  args:\n    a: {deep}\n")) == [
        "doc.md:11: mcp block nested deeper than 32 levels"
    ]
    block = "  server: s\n  tool: t\n  args:\n" + "".join(
        "  " * (depth + 2) + f"k{depth}:\n" for depth in range(40)
    )
    assert errors_of(_bound(block)) == ["doc.md:42: mcp block nested deeper than 32 levels"]


def test_yaml_nested_within_the_limit_converts() -> None:
    nested = "[" * 30 + "1" + "]" * 30  # with the block's mapping and `args`: 32 levels
    block = f"  server: s\n  tool: t\n  args: {{a: {nested}}}\n"
    tool = convert_bytes(_bound(block).encode(), "doc.md").tasks[0].steps[1].tool
    assert tool is not None
    assert str(tool.args["a"]).count("[") == 30


def test_an_mcp_block_over_the_size_limit_is_refused_at_its_fence() -> None:
    big = "  server: s\n  tool: t\n  args: {a: '" + "x" * 300_000 + "'}\n"
    assert errors_of(_bound(big)) == [
        "doc.md:7: mcp block is 300,032 characters, over the limit of 262,144: "
        "put large values in a file and pass its path"
    ]


def test_json_bindings_still_work() -> None:
    block = (
        '  {"server": "s", "tool": "t", "args": {"a": [1, {"b": "${step:1.1/x}"}], "c": null},\n'
        '   "retryable": true, "expect": [{"path": "a", "equals": 1}]}\n'
    )
    tool = convert_bytes(_bound(block).encode(), "doc.md").tasks[0].steps[1].tool
    assert tool is not None
    assert tool.args == {"a": [1, {"b": "${step:1.1/x}"}], "c": None}
    assert (tool.retryable, tool.references, tool.expect[0].equals) == (True, ["1.1"], 1)


def test_binding_needs_server_and_tool() -> None:
    doc = "# T\n\n### Task 1: A\n\n- [ ] 1.1 x\n  ```mcp\n  tool: t\n  ```\n"
    assert errors_of(doc) == ["doc.md:6: mcp block needs `server`"]


def test_placeholder_to_a_step_that_does_not_exist_or_comes_later() -> None:
    doc = (
        "# T\n\n### Task 1: A\n\n"
        "- [ ] 1.1 x\n  ```mcp\n  server: s\n  tool: t\n  args: {a: '${step:1.2}', b: '${step:9.9/x}'}\n  ```\n"
        "- [ ] 1.2 y\n"
    )
    assert errors_of(doc) == [
        "doc.md:6: step 1.1: ${step:1.2} does not come earlier (add `Depends on: 1.2` to step 1.1)",
        "doc.md:6: step 1.1: ${step:9.9} names no step",
    ]


def test_placeholder_to_a_parallel_sibling_is_not_earlier() -> None:
    doc = (
        "# T\n\n### Task 1: A\n\n- [ ] 1.1 base\n- [ ] 1.2 [P] x\n"
        "- [ ] 1.3 [P] y\n  ```mcp\n  server: s\n  tool: t\n  args: {a: '${step:1.2}'}\n  ```\n"
    )
    assert errors_of(doc) == [
        "doc.md:8: step 1.3: ${step:1.2} does not come earlier (add `Depends on: 1.2` to step 1.3)"
    ]


def test_every_error_is_reported_at_once() -> None:
    doc = "# T\n\n### Task 1: A\n**Depends on**: Task 8\n\n### Task 2: B\n**Depends on**: Task 9\n"
    assert len(errors_of(doc)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ],
)
def test_unreadable_input(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        convert_bytes(data, "doc.md")
    assert caught.value.exit_code is ExitCode.INVALID_INPUT


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        convert_file(tmp_path / "nope.md")
    with pytest.raises(InputError, match="directory has no"):
        collect_documents([tmp_path])


def test_crlf_and_bom_give_the_same_json_as_the_clean_file() -> None:
    clean = (Path(__file__).parent / "golden" / "bindings.md").read_bytes()
    dirty = b"\xef\xbb\xbf" + clean.replace(b"\n", b"\r\n")
    a, b = convert_bytes(clean, "doc.md"), convert_bytes(dirty, "doc.md")
    a.source = b.source
    assert a.to_json() == b.to_json()


def test_non_utf8_text_converts_with_a_warning() -> None:
    data = "# Task 7: Café ⏳ Not Started\n\n### Task 1: Ça va\n\n- [ ] 1.1 Déjà vu\n".encode()
    latin = data.decode("utf-8").replace("⏳ ", "").encode("latin-1")
    doc = convert_bytes(latin, "doc.md")
    assert doc.title == "Café"
    assert doc.tasks[0].steps[0].title == "Déjà vu"
    assert doc.source.encoding == "cp1252"
    assert doc.warnings[0].message.startswith("not valid UTF-8")


def test_a_document_without_tasks_converts_with_a_warning() -> None:
    doc = convert_bytes(b"# Analysis\n\nJust prose.\n", "doc.md")
    assert doc.tasks == []
    assert doc.waves == []
    assert "no `Task N:` headings" in doc.warnings[-1].message


@pytest.mark.parametrize(
    "markdown",
    [
        "".join("  " * i + "- [ ] x\n" for i in range(400)),
        ">" * 3000 + " - [ ] x\n",
    ],
    ids=["lists", "quotes"],
)
def test_absurd_nesting_is_a_domain_error_not_a_crash(markdown: str) -> None:
    (line,) = errors_of(markdown)
    assert line.endswith(": lists or block quotes nested deeper than 64 levels")


def test_deep_but_reasonable_nesting_converts() -> None:
    doc = "# T\n\n### Task 1: A\n\n" + "".join("  " * i + "- [ ] x\n" for i in range(60))
    converted = convert_bytes(doc.encode(), "doc.md")
    assert len(converted.all_steps()) == 60
    assert converted.to_json()


def test_status_and_dependencies_lines_of_one_paragraph_are_read() -> None:
    markdown = (
        "# T\n\n## TASK #001: A\n\n**Status**: 🔄 Not Started  \n**Dependencies**: None  \n"
        "**Expected Test Duration**: N/A\n\n## TASK #002: B\n\n**Status**: ✅ Done  \n"
        "**Dependencies**: #001\n\n## TASK #003: C ⛔ Blocked\n\n**Status**: Complete  \n"
        "**Dependencies**: #001, #002\n\n## TASK #004: D\n\n**Dependencies**: #001-#003  \n"
        "**Status**: sideways\n"
    )
    doc = convert_bytes(markdown.encode(), "doc.md")
    assert [(t.id, t.status.value, t.status.raw) for t in doc.tasks] == [
        ("1", "not_started", "🔄 Not Started"),
        ("2", "complete", "✅ Done"),
        ("3", "blocked", "⛔ Blocked"),  # the heading's status wins
        ("4", "unknown", "sideways"),
    ]
    assert [(t.depends_on, t.depends_declared) for t in doc.tasks] == [
        ([], True), (["1"], True), (["1", "2"], True), (["1", "2", "3"], True),
    ]  # fmt: skip
    assert doc.tasks[0].lists == {
        "Expected Test Duration": [ListItem(text="N/A", line=7)],
    }
    assert [(w.line, w.message) for w in doc.warnings] == [
        (21, "dependency range '#001-#003' read as tasks 1 to 3"),
        (22, "unrecognised status 'sideways'"),
    ]
