"""Property tests: random documents never raise anything but the domain error."""

from __future__ import annotations

import graphlib
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_task_cli.convert.converter import convert_bytes
from claude_task_cli.convert.graph import default_order, find_cycle, levels, not_waiting
from claude_task_cli.convert.preview import checklist_items
from claude_task_cli.convert.source import decode
from claude_task_cli.errors import TaskCliError

_WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_IDS = st.sampled_from(["1", "2", "003", "22a", "1.1", "1.2", "2.1", "9.9", "1.1.1"])

_PIECES = st.one_of(
    st.builds(lambda n, i, w: f"{'#' * n} Task {i}: {w}", st.integers(1, 4), _IDS, _WORDS),
    st.builds(lambda n, w: f"{'#' * n} {w}", st.integers(1, 6), _WORDS),
    st.builds(lambda ind, box, i, w: f"{' ' * ind}- [{box}] {i} {w}", st.integers(0, 6), st.sampled_from(" xX"), _IDS, _WORDS),
    st.builds(lambda ind, w: f"{' ' * ind}1. [ ] {w}", st.integers(0, 4), _WORDS),
    st.builds(lambda ind, w: f"{' ' * ind}- {w}", st.integers(0, 6), _WORDS),
    st.builds(lambda i: f"  - Depends on: {i}", _IDS),
    st.builds(lambda i: f"**Depends on**: Task {i}", _IDS),
    st.sampled_from(["**Implementation Steps**:", "**Priority**: HIGH | **Complexity**: LOW", "- Execution mode: parallel", "> - [ ] quoted", "| a | b |", "|---|---|", "", "---", "```", "  ```"]),
    st.builds(lambda lang, body: f"```{lang}\n{body}\n```", st.sampled_from(["mcp", "bash", "sh", "python", ""]), _WORDS),
    st.builds(lambda s, t, a: f"  ```mcp\n  server: {s}\n  tool: {t}\n  args: {{x: '{a}'}}\n  ```", _WORDS, _WORDS, st.sampled_from(["${step:1.1}", "${step:", "${step:9.9/a}", "plain"])),
    _WORDS,
)  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_PIECES, max_size=40))
    text = "\n".join(lines).encode("utf-8")
    garbage = draw(st.binary(max_size=16))
    where = draw(st.integers(0, len(text)))
    return text[:where] + garbage + text[where:] if draw(st.booleans()) else text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_random_documents_convert_or_fail_with_a_domain_error(data: bytes) -> None:
    try:
        doc = convert_bytes(data, "random.md")
    except TaskCliError as exc:
        assert all(line.startswith("random.md") for line in exc.lines())
        return
    again = json.loads(doc.to_json())  # the JSON is valid and round-trips
    assert again["schema_version"] == doc.schema_version
    source_lines = decode(data, "random.md").text.split("\n")
    for line, _checked in checklist_items(doc):
        assert "[" in source_lines[line - 1]  # every checkbox points at a line holding one


_GRAPHS = st.dictionaries(
    st.sampled_from("abcdefg"), st.lists(st.sampled_from("abcdefg"), max_size=3), max_size=7
)


def _closure(graph: dict[str, list[str]]) -> dict[str, set[str]] | None:
    """Everything each node waits for, by plain repeated expansion; None when a node waits for
    itself (a cycle)."""
    nodes = set(graph) | {n for deps in graph.values() for n in deps}
    closure = {n: set(graph.get(n, [])) for n in nodes}
    changed = True
    while changed:
        changed = False
        for node in nodes:
            more = set().union(*(closure[r] for r in closure[node])) - closure[node]
            if more:
                closure[node] |= more
                changed = True
    return None if any(n in closure[n] for n in nodes) else closure


@settings(max_examples=200, deadline=None)
@given(_GRAPHS)
def test_find_cycle_agrees_with_a_plain_closure(graph: dict[str, list[str]]) -> None:
    cycle = find_cycle(graph)
    assert (cycle is None) == (_closure(graph) is not None)
    if cycle:
        assert cycle[0] == cycle[-1]
        assert all(b in graph.get(a, []) for a, b in itertools.pairwise(cycle))
        order = list(dict.fromkeys([*graph, *(n for deps in graph.values() for n in deps)]))
        assert cycle[0] == min(cycle, key=order.index)  # starts at its earliest node


@settings(max_examples=200, deadline=None)
@given(_GRAPHS)
def test_levels_put_each_node_one_wave_after_its_last_prerequisite(
    graph: dict[str, list[str]],
) -> None:
    closure = _closure(graph)
    if closure is None:
        with pytest.raises(graphlib.CycleError) as caught:
            levels(graph)
        assert caught.value.args[1] == find_cycle(graph)
        return
    waves = levels(graph)
    wave_of = {node: n for n, wave in enumerate(waves) for node in wave}
    assert sorted(wave_of) == sorted(closure) == sorted(n for w in waves for n in w)
    order = list(dict.fromkeys([*graph, *(n for deps in graph.values() for n in deps)]))
    for node, n in wave_of.items():
        needs = graph.get(node, [])
        assert n == (1 + max(wave_of[d] for d in needs) if needs else 0)
    for wave in waves:
        assert wave == sorted(wave, key=order.index)


@settings(max_examples=200, deadline=None)
@given(_GRAPHS, st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh"))))
def test_not_waiting_agrees_with_a_plain_closure(
    graph: dict[str, list[str]], pairs: list[tuple[str, str]]
) -> None:
    closure = _closure(graph)
    if closure is None:
        return
    expected = {(a, b) for a, b in pairs if b not in closure.get(a, set())}
    assert not_waiting(graph, pairs) == expected


class _Item:
    def __init__(self, ident: str, parallel: bool) -> None:
        self.id = ident
        self.parallel = parallel


@given(st.lists(st.booleans(), max_size=12))
def test_default_order_only_points_backwards(flags: list[bool]) -> None:
    items = [_Item(str(n), flag) for n, flag in enumerate(flags)]
    order = default_order(items, {}, [])
    for n, item in enumerate(items):
        assert all(int(dep) < n for dep in order[item.id])
        if n and not item.parallel:
            assert order[item.id], "a sequential item after the first always waits for something"
