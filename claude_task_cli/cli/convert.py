"""`convert_task` and `schema`: thin wrappers over claude_task_cli.convert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from claude_task_cli.cli.boundary import boundary, err, plain_output
from claude_task_cli.errors import InputError, TaskCliError

if TYPE_CHECKING:  # the model imports pydantic: only inside commands at run time
    from claude_task_cli.model import TaskDocument
    from claude_task_cli.preview import Preview


def convert_task(
    paths: Annotated[
        list[Path], typer.Argument(help="Task documents (.md) or directories of them.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="A .json file (one input) or a directory (any other name; created if missing).",
        ),
    ] = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the JSON instead of writing it.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Validate only: no output, just the exit code.")
    ] = False,
    show_preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show waves, roots, blocked roots and counts; write nothing."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable summary or preview.")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Do not print warnings.")] = False,
) -> None:
    """Convert markdown task documents into validated JSON step graphs.

    By default each document's JSON is written beside it as <stem>.json. Errors are printed as
    path:line: message and exit with code 2; every other input is still converted.

    Examples:

      claude-task convert_task docs/tasks/003_test_mcp.md

      claude-task convert_task docs/tasks/ -o build/graphs/

      claude-task convert_task docs/tasks/003_test_mcp.md --preview
    """
    with boundary(eager_logging=False):
        from claude_task_cli.convert import collect_documents, convert_file
        from claude_task_cli.preview import preview
        from claude_task_cli.source import display_path

        documents = collect_documents(paths)
        if output is not None and len(documents) > 1 and output.suffix.lower() == ".json":
            raise InputError(output, "several inputs need -o to name a directory, not a .json file")
        converted: list[TaskDocument] = []
        failures: list[TaskCliError] = []
        for path in documents:
            try:
                converted.append(convert_file(path, display_path(path)))
            except TaskCliError as exc:
                failures.append(exc)
                for line in exc.lines():
                    err(line)
        if not quiet and not check:
            for doc in converted:
                for warning in doc.warnings:
                    err(f"{doc.source.path}:{warning.line}: warning: {warning.message}")
        if check:
            pass
        elif show_preview:
            _show_previews([preview(doc) for doc in converted], as_json)
        elif stdout:
            if len(converted) == 1 and len(documents) == 1:
                typer.echo(converted[0].to_json(), nl=False)
            else:
                typer.echo(
                    json.dumps(
                        [json.loads(d.to_json()) for d in converted], ensure_ascii=False, indent=2
                    )
                )
        else:
            written = [(doc, _write(doc, documents, output)) for doc in converted]
            _report_written(written, as_json)
        if failures:
            raise typer.Exit(int(max(f.exit_code for f in failures)))


def schema() -> None:
    """Print the JSON Schema of convert_task's output (the contract everything consumes).

    Example: claude-task schema > task-document.schema.json
    """
    with boundary():
        from claude_task_cli.model import TaskDocument

        typer.echo(json.dumps(TaskDocument.model_json_schema(), indent=2, ensure_ascii=False))


def _write(doc: TaskDocument, documents: list[Path], output: Path | None) -> Path:
    source = Path(doc.source.path)
    if output is None:
        target = source.with_suffix(".json")
    elif len(documents) > 1 or output.is_dir() or output.suffix.lower() != ".json":
        target = output / f"{source.stem}.json"
    else:
        target = output
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(doc.to_json(), encoding="utf-8")
    temporary.replace(target)
    return target


def _report_written(written: list[tuple[TaskDocument, Path]], as_json: bool) -> None:
    rows: list[dict[str, str | int]] = []
    for doc, target in written:
        rows.append(
            {
                "source": doc.source.path,
                "output": target.as_posix(),
                "tasks": len(doc.tasks),
                "steps": len(doc.all_steps()),
                "warnings": len(doc.warnings),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if plain_output():
        for row in rows:
            typer.echo(
                f"converted {row['source']} -> {row['output']} "
                f"({row['tasks']} tasks, {row['steps']} steps, {row['warnings']} warnings)"
            )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="convert_task", show_lines=False)
    for column in ("source", "output", "tasks", "steps", "warnings"):
        table.add_column(
            column, justify="right" if column in ("tasks", "steps", "warnings") else "left"
        )
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("source", "output", "tasks", "steps", "warnings")))
    Console().print(table)


def _show_previews(items: list[Preview], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in items], indent=2, ensure_ascii=False))
        return
    for p in items:
        c = p.counts
        waves = "  ".join("[" + ", ".join(w) + "]" for w in p.waves) or "(none)"
        lines = [
            f"{p.path}: {p.title} (id {p.id})",
            f"  waves: {waves}",
            f"  roots: {', '.join(p.roots) or '(none)'}",
            f"  blocked roots: {', '.join(p.blocked_roots) or '(none)'}",
            f"  tasks {c.tasks}, steps {c.steps}, checklist items {c.checklist_items} "
            f"({c.checked} checked), tool bindings {c.tool_bindings}, commands {c.commands}, "
            f"warnings {c.warnings}",
        ]
        typer.echo("\n".join(lines))
