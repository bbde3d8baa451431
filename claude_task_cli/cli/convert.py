"""`convert_task` and `schema`: thin wrappers over claude_task_cli.convert.converter."""

import contextlib
import json
import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated

import typer

from claude_task_cli.cli.boundary import boundary, err, log_conversions, plain_output
from claude_task_cli.errors import InputError, OptionError, OutputError, TaskCliError

if TYPE_CHECKING:  # the model imports pydantic: only inside commands at run time
    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.convert.preview import Preview


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
        bool,
        typer.Option("--stdout", help="Print the JSON instead (several inputs: one JSON array)."),
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Validate only (also against the project's .mcp.json): no output, the exit code.",
        ),
    ] = False,
    servers: Annotated[
        bool,
        typer.Option(
            "--servers", help="With --check: start the servers; check tools and arguments."
        ),
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
    path:line: message and exit with code 2; every other input is still converted. --check also
    checks that every server a document calls is declared in the project's .mcp.json (exit 4
    when there is none); --check --servers starts them and checks each tool and its arguments.

    Examples:

      claude-task convert_task docs/tasks/003_test_mcp.md

      claude-task convert_task docs/tasks/ -o build/graphs/

      claude-task convert_task docs/tasks/003_test_mcp.md --preview

      claude-task convert_task docs/tasks/ --check --servers
    """
    with boundary(eager_logging=False):
        _refuse_conflicts(output, stdout=stdout, check=check, show_preview=show_preview,
                          as_json=as_json)  # fmt: skip
        if servers and not check:
            raise OptionError("--servers goes with --check")
        from claude_task_cli.convert.converter import collect_inputs, convert_file
        from claude_task_cli.convert.source import display_path

        inputs = collect_inputs(paths)
        writing = not (check or show_preview or stdout)
        targets = _targets(inputs, output) if writing else {}
        converted: list[TaskDocument] = []
        failures: list[TaskCliError] = []
        for path, _relative in inputs:
            try:
                converted.append(convert_file(path, display_path(path)))
                if check:
                    from claude_task_cli.operations import check_document

                    check_document(converted[-1], path, contact=servers)
            except TaskCliError as exc:
                failures.append(exc)
                for line in exc.lines():
                    err(line)
        if not quiet and not check:
            for doc in converted:
                for warning in doc.warnings:
                    err(f"{doc.source.path}:{warning.line}: warning: {warning.message}")
        written: list[tuple[TaskDocument, Path]] = []
        try:
            if show_preview:
                from claude_task_cli.convert.preview import preview

                _show_previews([preview(doc) for doc in converted], as_json)
            elif stdout:
                if len(converted) == 1 and len(inputs) == 1:
                    typer.echo(converted[0].to_json(), nl=False)
                else:
                    typer.echo(
                        json.dumps(
                            [json.loads(d.to_json()) for d in converted],
                            ensure_ascii=False,
                            indent=2,
                        )
                    )
            elif writing:
                sources = {display_path(path): path for path, _relative in inputs}
                for doc in converted:
                    target = targets[sources[doc.source.path]]
                    _write(doc, target)
                    written.append((doc, target))
                _report_written(written, as_json)
        finally:
            mode = "checked" if check else "previewed" if show_preview else "printed"
            log_conversions(converted, failures, {d.source.path: t for d, t in written}, mode)
        if failures:
            raise typer.Exit(int(max(f.exit_code for f in failures)))


def _refuse_conflicts(
    output: Path | None, *, stdout: bool, check: bool, show_preview: bool, as_json: bool
) -> None:
    """Options that would silently override each other are refused (exit code 2)."""
    modes = [name for name, on in (("--stdout", stdout), ("--check", check),
                                   ("--preview", show_preview)) if on]  # fmt: skip
    if len(modes) > 1:
        raise OptionError(f"{' and '.join(modes)} cannot be combined: choose one")
    if output is not None and modes:
        raise OptionError(f"{modes[0]} writes no file: it cannot be combined with -o/--output")
    if as_json and (stdout or check):
        raise OptionError(f"--json is for the summary or --preview: not with {modes[0]}")


def _targets(inputs: list[tuple[Path, PurePath]], output: Path | None) -> dict[Path, Path]:
    """Where each input's JSON goes; refused (before anything is written) when two inputs would
    write the same file or the output cannot be a directory."""
    if output is None:
        targets = {path: path.with_suffix(".json") for path, _relative in inputs}
    elif output.suffix.lower() == ".json" and not output.is_dir():
        if len(inputs) > 1:
            raise InputError(output, "several inputs need -o to name a directory, not a .json file")
        targets = {inputs[0][0]: output}
    else:
        if output.exists() and not output.is_dir():
            raise OutputError(
                output, "exists and is not a directory (-o names a directory, or a .json file)"
            )
        targets = {path: output / relative.with_suffix(".json") for path, relative in inputs}
    by_target: dict[str, list[Path]] = {}
    for path, target in targets.items():
        by_target.setdefault(os.path.normcase(os.path.abspath(target)), []).append(path)
    for target in targets.values():
        clash = by_target[os.path.normcase(os.path.abspath(target))]
        if len(clash) > 1:
            names = " and ".join(p.as_posix() for p in clash)
            raise InputError(
                target, f"{names} would both be written here; nothing written "
                "(convert them separately or pass their directory)",
            )  # fmt: skip
    return targets


def schema() -> None:
    """Print the JSON Schema of convert_task's output (the contract everything consumes).

    Example: claude-task schema > task-document.schema.json
    """
    with boundary():
        from claude_task_cli.convert.contract import json_schema

        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        schema.update(json_schema())
        typer.echo(json.dumps(schema, indent=2, ensure_ascii=False))


def _write(doc: "TaskDocument", target: Path) -> None:
    """Write atomically (a temporary file beside the target, then a rename)."""
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a directory is needed
        raise OutputError(target, "cannot write: a parent is not a directory") from None
    except OSError as exc:
        raise OutputError(target, f"cannot write: {exc.strerror or exc}") from exc
    try:
        temporary.write_text(doc.to_json(), encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise OutputError(target, f"cannot write: {exc.strerror or exc}") from exc


def _report_written(written: "list[tuple[TaskDocument, Path]]", as_json: bool) -> None:
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


def _show_previews(items: "list[Preview]", as_json: bool) -> None:
    if as_json:
        from claude_task_cli.convert.document_json import to_data

        typer.echo(json.dumps(to_data(items), indent=2, ensure_ascii=False))
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
            "  on a failure: what depends on it is skipped, the rest still runs "
            "(execute_task --fail-fast stops at the first failure)",
        ]
        typer.echo("\n".join(lines))
