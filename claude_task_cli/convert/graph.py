"""Dependencies: documented defaults, checks, cycles and waves. Pure functions over the model.

Defaults (docs/task-format.md, "Dependencies"): a task or step that declares nothing runs after the
one before it; consecutive items marked parallel (`[P]` or `Execution mode: parallel`) form a group
that shares one predecessor, and whatever follows the group waits for all of it. The first sub-step
of a step inherits the step's predecessors, and a step with sub-steps runs after them.

Ordering and cycle detection are the standard library's `graphlib.TopologicalSorter`; the graphs
here are given as prerequisites (`{node: [what it waits for]}`), the shape every stage uses.
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from claude_task_cli.convert.model import Step, Task, TaskDocument

Prerequisites = Mapping[str, Collection[str]]


class _Node(Protocol):
    id: str
    parallel: bool


def default_order(
    items: Sequence[_Node], declared: dict[str, list[str]], base: list[str]
) -> dict[str, list[str]]:
    """Predecessors for each item: declared ones as written, the documented default otherwise."""
    result: dict[str, list[str]] = {}
    previous: list[str] = []  # members of the group before the current one
    current: list[str] = []
    current_parallel = False
    for item in items:
        if item.id in declared:
            result[item.id] = list(dict.fromkeys(declared[item.id]))
            previous, current, current_parallel = current or previous, [item.id], False
            continue
        if item.parallel and current_parallel:
            current.append(item.id)
            result[item.id] = list(previous or base)
            continue
        previous = current or previous
        result[item.id] = list(previous or base)
        current, current_parallel = [item.id], item.parallel
    return result


def _positions(prerequisites: Prerequisites) -> dict[str, int]:
    """Each node's place in the mapping: keys in order, then nodes only named as prerequisites."""
    position = {node: n for n, node in enumerate(prerequisites)}
    for needs in prerequisites.values():
        for node in needs:
            position.setdefault(node, len(position))
    return position


def _sorter(
    prerequisites: Prerequisites, position: dict[str, int]
) -> graphlib.TopologicalSorter[str]:
    """A prepared sorter; a cycle raises graphlib.CycleError with the path of `find_cycle`."""
    sorter = graphlib.TopologicalSorter(prerequisites)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib walks from a prerequisite to what waits for it; read the other way round,
        # each node is followed by one it waits for, starting from the earliest node
        loop = list(reversed(exc.args[1][1:]))
        start = loop.index(min(loop, key=position.__getitem__))
        cycle = [*loop[start:], *loop[:start], loop[start]]
        raise graphlib.CycleError("dependency cycle: " + " → ".join(cycle), cycle) from None
    return sorter


def find_cycle(prerequisites: Prerequisites) -> list[str] | None:
    """A dependency cycle, or None: each node followed by one it waits for, starting at the
    cycle's node that comes first in `prerequisites`, that node repeated at the end."""
    try:
        _sorter(prerequisites, _positions(prerequisites))
    except graphlib.CycleError as exc:
        cycle: list[str] = exc.args[1]
        return cycle
    return None


def levels(prerequisites: Prerequisites) -> list[list[str]]:
    """Nodes grouped into waves: a node comes in the wave after the last of its prerequisites,
    so the first wave is every node that waits for nothing. Within a wave, nodes keep their
    order in `prerequisites` (its keys first, then nodes only named as prerequisites).

    Raises graphlib.CycleError, whose `args[1]` is the cycle as `find_cycle` gives it."""
    position = _positions(prerequisites)
    sorter = _sorter(prerequisites, position)
    waves: list[list[str]] = []
    while sorter.is_active():
        wave = sorted(sorter.get_ready(), key=position.__getitem__)
        waves.append(wave)
        sorter.done(*wave)
    return waves


def task_waves(tasks: Sequence[Task]) -> list[list[str]]:
    """Task ids in waves (see `levels`), in document order within each wave."""
    return levels({task.id: task.depends_on for task in tasks})


def combined_edges(doc: TaskDocument) -> dict[str, list[str]]:
    """Prerequisites of every node of the whole run: `s:ID` steps and `t:ID` task completions."""
    edges: dict[str, list[str]] = {}
    for task in doc.tasks:
        task_steps = [f"s:{step.id}" for step in _walk(task.steps)]
        edges[f"t:{task.id}"] = task_steps
        after = [f"t:{dep}" for dep in task.depends_on]
        for step in _walk(task.steps):
            edges[f"s:{step.id}"] = [f"s:{dep}" for dep in step.depends_on] + after
    return edges


def check_references(doc: TaskDocument, edges: dict[str, list[str]]) -> list[tuple[int, str]]:
    """Placeholders must name a step that exists and is a (transitive) predecessor.
    `edges` are the run's prerequisites (`combined_edges`), acyclic."""
    referencing = [s for _t, s in doc.all_steps() if s.tool is not None and s.tool.references]
    if not referencing:
        return []
    known = {step.id for _t, step in doc.all_steps()}
    pairs = [
        (f"s:{step.id}", f"s:{ref}")
        for step in referencing
        for ref in (step.tool.references if step.tool else [])
        if ref in known
    ]
    late = not_waiting(edges, pairs)
    problems: list[tuple[int, str]] = []
    for step in referencing:
        assert step.tool is not None
        for ref in step.tool.references:
            if ref not in known:
                problems.append((step.tool.line, f"step {step.id}: ${{step:{ref}}} names no step"))
            elif (f"s:{step.id}", f"s:{ref}") in late:
                problems.append(
                    (
                        step.tool.line,
                        f"step {step.id}: ${{step:{ref}}} does not come earlier "
                        f"(add `Depends on: {ref}` to step {step.id})",
                    )
                )
    return problems


def not_waiting(
    prerequisites: Prerequisites, pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (node, target) pairs where `node` does not wait for `target`, directly or through
    other nodes (a node never waits for itself). `prerequisites` must be acyclic.

    Only the pairs asked about are searched: from the node back through its prerequisites,
    skipping every node placed before the target in a topological order (it cannot lead
    there), remembering per target which nodes reach it and which do not. A target costs at
    most the part of the graph between it and the last node asked about it; memory is one
    answer per node visited, for one target at a time."""
    sorter = graphlib.TopologicalSorter(prerequisites)
    position = {node: n for n, node in enumerate(sorter.static_order())}
    by_target: dict[str, list[str]] = {}
    for node, target in pairs:
        by_target.setdefault(target, []).append(node)
    missing: set[tuple[str, str]] = set()
    for target, nodes in by_target.items():
        reach = _Reach(prerequisites, position, target)
        for node in sorted(set(nodes), key=lambda n: position.get(n, -1)):
            if not reach.from_node(node):
                missing.add((node, target))
    return missing


class _Reach:
    """Which nodes wait, directly or not, for one target node (answers remembered)."""

    def __init__(self, edges: Prerequisites, position: dict[str, int], target: str):
        self.edges = edges
        self.position = position
        self.target = target
        self.floor = position.get(target, -1)
        self.answers: dict[str, bool] = {target: True}

    def from_node(self, start: str) -> bool:
        """Whether `start` waits for the target (iterative depth-first search)."""
        if start == self.target or self.target not in self.position:
            return False  # a node never waits for itself, nor for one the graph lacks
        if start in self.answers:
            return self.answers[start]
        answers, edges, position, floor = self.answers, self.edges, self.position, self.floor
        stack = [(start, iter(edges.get(start, ())))]
        while stack:
            node, needs = stack[-1]
            for need in needs:
                if need in answers:
                    if answers[need]:
                        for waiting, _rest in stack:
                            answers[waiting] = True
                        return True
                elif position[need] > floor:
                    stack.append((need, iter(edges.get(need, ()))))
                    break
                else:
                    answers[need] = False  # placed before the target: cannot lead to it
            else:
                answers[node] = False
                stack.pop()
        return answers[start]


def _walk(steps: list[Step]) -> Iterable[Step]:
    for step in steps:
        yield step
        yield from _walk(step.substeps)
