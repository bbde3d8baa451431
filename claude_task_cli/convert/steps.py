"""List items → steps, sub-steps, details, tool bindings and commands.

A checkbox item under a task is a step; its nested checkboxes are sub-steps; its nested plain
bullets are details, except `Depends on: 1.2` and `Execution mode: parallel`, which are read as
dependencies. Fences inside a step: ```mcp is its tool binding, ```bash/sh/shell are commands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from claude_task_cli.convert.binding import BindingError, parse_binding
from claude_task_cli.convert.blocks import Block, Fence, Heading, Item, ListBlock, Paragraph, Table
from claude_task_cli.convert.model import Command, ListItem, Step, ToolBinding

SHELL_LANGS = {"bash", "sh", "shell", "zsh", "console"}
_STEP_ID = re.compile(r"^(\d+[A-Za-z]?(?:\.\d+)+|[A-Z]{1,5}-?\d+(?:\.\d+)*)[.:)]?\s+(.*)$")
_DEPENDS = re.compile(r"^(?:\*\*)?depends[\s_-]*on(?:\*\*)?\s*:?(?:\*\*)?\s*(.*)$", re.I)
_MODE = re.compile(r"^(?:\*\*)?execution[\s_-]*mode(?:\*\*)?\s*:?(?:\*\*)?\s*(\w+)", re.I)
_PARALLEL_MARK = re.compile(r"\s*\[P\]\s*")
_STEP_REF = re.compile(r"[A-Za-z]*-?\d+[A-Za-z]?(?:\.\d+)*")
_NONE = re.compile(r"^\s*(?:none|nothing|n/?a|-|—|–)?\s*\.?\s*$", re.I)


@dataclass
class StepContext:
    """What building steps collects besides the steps themselves."""

    dep_lines: dict[str, int] = field(default_factory=dict)
    declared: dict[str, list[str]] = field(default_factory=dict)
    guessed: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    reserved: set[str] = field(default_factory=set)  # every id an author wrote, anywhere
    numbers: FreeNumbers = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = FreeNumbers(self.used)

    def used(self, step_id: str) -> bool:
        """Taken already, or written by the author somewhere (maybe further down)."""
        return step_id in self.taken or step_id in self.reserved


class FreeNumbers:
    """The first number from a start on that makes an unused id `<stem><n>`.

    An id once used stays used, so the run of used numbers found from a start is remembered
    per stem and skipped the next time: a thousand duplicates of one id cost a thousand
    look-ups, not half a million."""

    def __init__(self, used: Callable[[str], bool]) -> None:
        self.used = used
        self.runs: dict[str, tuple[int, int]] = {}  # stem → [low, high): all used

    def first(self, stem: str, start: int) -> int:
        low, high = self.runs.get(stem, (start, start))
        if not low <= start <= high:
            low = high = start
        number = high
        while self.used(f"{stem}{number}"):
            number += 1
        self.runs[stem] = (low, number)
        return number


def written_ids(blocks: list[Block]) -> set[str]:
    """Every step id written at the head of a checkbox anywhere in `blocks` (nested too).

    Collected before any step is built, so that an id invented for a duplicate or an
    unnumbered step is never one the author uses later in the document.
    """
    found: set[str] = set()
    pending = list(blocks)
    while pending:
        block = pending.pop()
        if not isinstance(block, ListBlock):
            continue
        for item in block.items:
            if item.checked is not None:
                match = _STEP_ID.match(_PARALLEL_MARK.sub(" ", item.text).strip())
                if match:
                    found.add(match.group(1))
            pending.extend(item.children)
    return found


def to_list_item(item: Item) -> ListItem:
    """A list item and everything under it, kept verbatim as a ListItem tree."""
    return ListItem(
        text=item.text, line=item.line, checked=item.checked, children=block_items(item.children)
    )


def block_items(blocks: list[Block]) -> list[ListItem]:
    """Blocks nested in a list item, as ListItem children (lists flattened into their items)."""
    out: list[ListItem] = []
    for block in blocks:
        if isinstance(block, ListBlock):
            out.extend(to_list_item(item) for item in block.items)
        elif isinstance(block, Fence):
            out.append(ListItem(text=f"```{block.info}\n{block.content}```", line=block.line))
        elif isinstance(block, Paragraph | Heading):
            out.append(ListItem(text=block.text, line=block.line))
        elif isinstance(block, Table):
            rows = [" | ".join(row) for row in block.rows]
            out.append(ListItem(text="\n".join(rows), line=block.line))
    return out


def parse_depends(text: str) -> list[str] | None:
    """Step or task ids named in a `Depends on:` value; [] for `none`; None if unreadable."""
    body = text.strip().strip("*").strip()
    if _NONE.match(body):
        return []
    refs = [
        ref for ref in _STEP_REF.findall(re.sub(r"(?i)\btasks?\b|\bsteps?\b", " ", body)) if ref
    ]
    return refs or None


def build_steps(items: list[Item], prefix: str, ctx: StepContext) -> list[Step]:
    """Steps from checkbox items; ids taken from `1.2` prefixes or assigned under `prefix`."""
    steps: list[Step] = []
    for index, item in enumerate(items, start=1):
        steps.append(_build_step(item, prefix, index, ctx))
    return steps


def _build_step(item: Item, prefix: str, index: int, ctx: StepContext) -> Step:
    title = item.text
    parallel = bool(_PARALLEL_MARK.search(title))
    if parallel:
        title = _PARALLEL_MARK.sub(" ", title).strip()
    match = _STEP_ID.match(title)
    if match:
        step_id, title = match.group(1), match.group(2).strip()
    else:
        step_id = free_id(prefix, index, ctx.numbers)
        ctx.guessed.append((item.line, f"step has no number; id {step_id} assigned"))
    if step_id in ctx.taken:
        renamed = next_free(step_id, ctx.numbers)
        ctx.duplicates.setdefault(step_id, []).append(item.line)
        ctx.guessed.append((item.line, f"duplicate step id {step_id}; renamed {renamed}"))
        step_id = renamed
    ctx.taken.add(step_id)

    details: list[ListItem] = []
    substep_items: list[Item] = []
    fences: list[Fence] = []
    for block in item.children:
        if isinstance(block, ListBlock):
            for child in block.items:
                if child.checked is not None:
                    substep_items.append(child)
                    continue
                dep = _DEPENDS.match(child.text)
                mode = _MODE.match(child.text)
                if dep and not child.children:
                    _declare(step_id, dep.group(1), child.line, ctx)
                elif mode and not child.children:
                    parallel = parallel or mode.group(1).lower() == "parallel"
                else:
                    details.append(to_list_item(child))
                    fences.extend(_nested_fences(child.children))
        elif isinstance(block, Fence) and (block.info == "mcp" or block.info in SHELL_LANGS):
            fences.append(block)
        else:
            details.extend(block_items([block]))

    tool, commands = bind_fences(step_id, fences, ctx)
    substeps = build_steps(substep_items, step_id, ctx)
    return Step(
        id=step_id,
        title=title,
        checked=bool(item.checked),
        line=item.line,
        parallel=parallel,
        details=details,
        substeps=substeps,
        tool=tool,
        commands=commands,
        depends_on=[],
        implicit=False,
    )


def _declare(owner: str, text: str, line: int, ctx: StepContext) -> None:
    refs = parse_depends(text)
    if refs is None:
        ctx.errors.append((line, f"cannot read step dependencies from {text.strip()!r}"))
        return
    ctx.declared[owner] = ctx.declared.get(owner, []) + refs
    ctx.dep_lines[owner] = line


def bind_fences(
    step_id: str, fences: list[Fence], ctx: StepContext
) -> tuple[ToolBinding | None, list[Command]]:
    tool: ToolBinding | None = None
    commands: list[Command] = []
    for fence in fences:
        if fence.info == "mcp":
            if tool is not None:
                ctx.errors.append(
                    (fence.line, f"step {step_id} has a second mcp block (one tool per step)")
                )
                continue
            try:
                tool = parse_binding(fence.content, fence.line)
            except BindingError as exc:
                ctx.errors.append((exc.line, exc.message))
        else:
            commands.append(Command(lang=fence.info, script=fence.content, line=fence.line))
    return tool, commands


def _nested_fences(blocks: list[Block]) -> list[Fence]:
    found: list[Fence] = []
    for block in blocks:
        if isinstance(block, Fence) and (block.info == "mcp" or block.info in SHELL_LANGS):
            found.append(block)
        elif isinstance(block, ListBlock):
            for item in block.items:
                if item.checked is None:
                    found.extend(_nested_fences(item.children))
    return found


def next_free(taken_id: str, numbers: FreeNumbers) -> str:
    """An id for a duplicate that nobody uses: the next free number at the same level
    (`2.6` → `2.7`, or `2.8` if the author wrote a 2.7 anywhere), else `<id>-2`."""
    head, _, last = taken_id.rpartition(".")
    if head and last.isdigit():
        return f"{head}.{numbers.first(head + '.', int(last) + 1)}"
    return f"{taken_id}-{numbers.first(taken_id + '-', 2)}"


def free_id(prefix: str, index: int, numbers: FreeNumbers) -> str:
    """`<prefix>.<n>` for an unnumbered step: n from its position, skipping used ids."""
    return f"{prefix}.{numbers.first(prefix + '.', index)}"
