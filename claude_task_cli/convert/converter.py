"""convert_task, the core function: path → validated TaskDocument (or every error at once)."""

from __future__ import annotations

import gc
import os
from pathlib import Path, PurePath

from claude_task_cli.convert.blocks import NestingError, parse_blocks
from claude_task_cli.convert.document import Parsed, build_document
from claude_task_cli.convert.graph import (
    check_references,
    combined_edges,
    default_order,
    find_cycle,
    task_waves,
)
from claude_task_cli.convert.model import Step, TaskDocument, Warning
from claude_task_cli.convert.source import SourceText, decode, read_source
from claude_task_cli.errors import CycleError, InputError, TaskSpecError, TaskSpecErrors


def convert_text(source: SourceText, stem: str) -> TaskDocument:
    """Convert decoded text; raise TaskSpecErrors listing every problem found.

    The cycle collector is paused meanwhile. Converting makes a few objects per line, none in a
    cycle, and the collections they trigger rescan every one made so far, so time grows faster
    than the document. Two targets of benchmarks/bench_convert.py are missed or at their limit
    without the pause: 100,000 headings in at most 15x the time of 10,000, and a 10,000-step
    document in at most 1.5x markdown-it's own parse."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _convert(source, stem)
    finally:
        if enabled:
            gc.enable()


def _convert(source: SourceText, stem: str) -> TaskDocument:
    try:
        parsed_blocks = parse_blocks(source.text)
    except NestingError as exc:
        raise TaskSpecErrors([TaskSpecError(source.path, exc.line, str(exc))]) from None
    parsed = build_document(source, parsed_blocks.blocks, stem, parsed_blocks.warnings)
    errors = _resolve(parsed, source.path)
    if errors:
        raise TaskSpecErrors(errors)
    doc = parsed.doc
    guessed = [Warning(line=line, message=msg) for line, msg in parsed.steps.guessed]
    doc.warnings = sorted(
        {(w.line, w.message): w for w in [*doc.warnings, *guessed]}.values(),
        key=lambda w: (w.line, w.message),
    )
    return doc


def convert_bytes(data: bytes, path: str, stem: str | None = None) -> TaskDocument:
    return convert_text(decode(data, path), stem or Path(path).stem)


def convert_file(path: Path, display: str | None = None) -> TaskDocument:
    """Read and convert one document; `display` is how the path is shown in messages and JSON."""
    return convert_text(read_source(path, display), path.stem)


def collect_documents(paths: list[Path]) -> list[Path]:
    """Expand directories into their `*.md` files (sorted, recursive, hidden ones skipped)."""
    return [path for path, _relative in collect_inputs(paths)]


def collect_inputs(paths: list[Path]) -> list[tuple[Path, PurePath]]:
    """Each document with its name relative to the directory it was found in (`a/x.md` for
    `DIR/a/x.md`) or, for a file named directly, its file name. A file named twice (directly or
    through a directory) is converted once."""
    found: list[tuple[Path, PurePath]] = []
    seen: set[str] = set()
    for path in paths:
        if path.is_dir():
            docs = sorted(
                p
                for p in path.rglob("*.md")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not docs:
                raise InputError(path, "directory has no *.md task documents")
            entries = [(doc, PurePath(doc.relative_to(path))) for doc in docs]
        else:
            entries = [(path, PurePath(path.name))]
        for doc, relative in entries:
            key = os.path.normcase(os.path.abspath(doc))
            if key not in seen:
                seen.add(key)
                found.append((doc, relative))
    return found


def _resolve(parsed: Parsed, path: str) -> list[TaskSpecError]:
    doc = parsed.doc
    errors = [TaskSpecError(path, ln, msg) for ln, msg in [*parsed.errors, *parsed.steps.errors]]
    task_ids = {task.id for task in doc.tasks}
    order = default_order(doc.tasks, parsed.tasks.declared, [])
    for task in doc.tasks:
        task.depends_on = order[task.id]
        task.depends_declared = task.id in parsed.tasks.declared
        line = parsed.tasks.lines.get(task.id, task.line)
        for dep in task.depends_on:
            if dep in parsed.tasks.duplicates and task.depends_declared:
                lines = ", ".join(str(n) for n in parsed.tasks.duplicates[dep])
                errors.append(
                    TaskSpecError(
                        path,
                        line,
                        f"duplicate task id {dep} (again at line {lines}): "
                        f"Task {task.id} depends on it ambiguously",
                    )
                )
            elif dep not in task_ids:
                errors.append(
                    TaskSpecError(
                        path, line, f"Task {task.id} depends on Task {dep}, which does not exist"
                    )
                )

    declared = parsed.steps.declared
    for task in doc.tasks:
        _assign_steps(task.steps, declared, [])
    step_ids = {step.id for _t, step in doc.all_steps()}
    duplicates = parsed.steps.duplicates
    for owner, refs in declared.items():
        for ref in refs:
            if ref in duplicates:
                lines = ", ".join(str(n) for n in duplicates[ref])
                errors.append(
                    TaskSpecError(
                        path,
                        parsed.steps.dep_lines[owner],
                        f"duplicate step id {ref} (again at line {lines}): "
                        f"step {owner} depends on it ambiguously",
                    )
                )
            elif ref not in step_ids:
                line = parsed.steps.dep_lines[owner]
                errors.append(
                    TaskSpecError(
                        path, line, f"step {owner} depends on step {ref}, which does not exist"
                    )
                )
    if errors:
        return errors

    for _task, step in doc.all_steps():
        for ref in step.tool.references if step.tool else []:
            if ref in duplicates:
                errors.append(
                    TaskSpecError(
                        path,
                        step.tool.line if step.tool else step.line,
                        f"duplicate step id {ref}: ${{step:{ref}}} is ambiguous",
                    )
                )
    if errors:
        return errors
    edges = combined_edges(doc)
    cycle_error = _cycles(parsed, path, edges)
    if cycle_error is not None:
        return [cycle_error]
    errors.extend(TaskSpecError(path, ln, msg) for ln, msg in check_references(doc, edges))
    doc.waves = task_waves(doc.tasks)
    return errors


def _assign_steps(steps: list[Step], declared: dict[str, list[str]], base: list[str]) -> None:
    order = default_order(steps, declared, base)
    for step in steps:
        step.depends_on = order[step.id]
        if step.substeps:
            _assign_steps(step.substeps, declared, step.depends_on)
            inner = {dep for sub in step.substeps for dep in sub.depends_on}
            sinks = [sub.id for sub in step.substeps if sub.id not in inner]
            step.depends_on = list(dict.fromkeys([*step.depends_on, *sinks]))


def _cycles(parsed: Parsed, path: str, edges: dict[str, list[str]]) -> CycleError | None:
    doc = parsed.doc
    tasks = {task.id: task for task in doc.tasks}
    cycle = find_cycle({task.id: task.depends_on for task in doc.tasks})
    if cycle:
        line = parsed.tasks.lines.get(cycle[0], tasks[cycle[0]].line)
        return CycleError(path, line, [f"Task {t}" for t in cycle])
    steps = {step.id: step for _t, step in doc.all_steps()}
    cycle = find_cycle({step.id: step.depends_on for step in steps.values()})
    if cycle:
        line = parsed.steps.dep_lines.get(cycle[0], steps[cycle[0]].line)
        return CycleError(path, line, [f"Step {s}" for s in cycle])
    cycle = find_cycle(edges)
    if cycle:
        names = [("Step " if n.startswith("s:") else "Task ") + n[2:] for n in cycle]
        first = next(n[2:] for n in cycle if n.startswith("s:"))
        line = parsed.steps.dep_lines.get(first, steps[first].line)
        return CycleError(path, line, names)
    return None
