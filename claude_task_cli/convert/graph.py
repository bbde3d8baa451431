"""Dependencies: documented defaults, checks, cycles and waves. Pure functions over the model.

Defaults (docs/task-format.md, "Dependencies"): a task or step that declares nothing runs after the
one before it; consecutive items marked parallel (`[P]` or `Execution mode: parallel`) form a group
that shares one predecessor, and whatever follows the group waits for all of it. The first sub-step
of a step inherits the step's predecessors, and a step with sub-steps runs after them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from claude_task_cli.convert.model import Step, Task, TaskDocument


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


def find_cycle(nodes: Iterable[str], edges: Callable[[str], Iterable[str]]) -> list[str] | None:
    """The first cycle found (first node repeated at the end), iteratively; None if acyclic."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in nodes:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(edges(root)))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                mark = state.get(child)
                if mark == 1:
                    return [*path[path.index(child) :], child]
                if mark is None:
                    state[child] = 1
                    stack.append((child, iter(edges(child))))
                    path.append(child)
                    advanced = True
                    break
            if not advanced:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def waves(tasks: Sequence[Task]) -> list[list[str]]:
    """Task ids layered so that every task comes after all of its dependencies (Kahn)."""
    position = {task.id: n for n, task in enumerate(tasks)}
    waiting = {task.id: len(set(task.depends_on)) for task in tasks}
    dependents: dict[str, list[str]] = {task.id: [] for task in tasks}
    for task in tasks:
        for dep in set(task.depends_on):
            dependents[dep].append(task.id)
    layer = [task.id for task in tasks if waiting[task.id] == 0]
    layers: list[list[str]] = []
    while layer:
        layers.append(layer)
        following: list[str] = []
        for task_id in layer:
            for dependent in dependents[task_id]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    following.append(dependent)
        layer = sorted(following, key=position.__getitem__)
    return layers


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


def topological(edges: dict[str, list[str]]) -> list[str]:
    """Nodes with every prerequisite before them (iterative post-order; input must be acyclic)."""
    done: set[str] = set()
    order: list[str] = []
    for root in edges:
        if root in done:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            prereqs = edges.get(node, [])
            if i < len(prereqs):
                stack.append((node, i + 1))
                nxt = prereqs[i]
                if nxt not in done:
                    stack.append((nxt, 0))
            elif node not in done:
                done.add(node)
                order.append(node)
    return order


def check_references(doc: TaskDocument, edges: dict[str, list[str]]) -> list[tuple[int, str]]:
    """Placeholders must name a step that exists and is a (transitive) predecessor."""
    referencing = [s for _t, s in doc.all_steps() if s.tool is not None and s.tool.references]
    if not referencing:
        return []
    known = {step.id for _t, step in doc.all_steps()}
    bit = {node: 1 << n for n, node in enumerate(edges) if node.startswith("s:")}
    mask: dict[str, int] = {}
    for node in topological(edges):
        total = 0
        for prereq in edges.get(node, []):
            total |= mask.get(prereq, 0) | bit.get(prereq, 0)
        mask[node] = total
    problems: list[tuple[int, str]] = []
    for step in referencing:
        assert step.tool is not None
        for ref in step.tool.references:
            if ref not in known:
                problems.append((step.tool.line, f"step {step.id}: ${{step:{ref}}} names no step"))
            elif not mask[f"s:{step.id}"] & bit[f"s:{ref}"]:
                problems.append(
                    (
                        step.tool.line,
                        f"step {step.id}: ${{step:{ref}}} does not come earlier "
                        f"(add `Depends on: {ref}` to step {step.id})",
                    )
                )
    return problems


def _walk(steps: list[Step]) -> Iterable[Step]:
    for step in steps:
        yield step
        yield from _walk(step.substeps)
