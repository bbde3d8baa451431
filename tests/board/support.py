"""Board test helpers: a task document imported as a person would import it."""

from __future__ import annotations

from pathlib import Path

from claude_task_cli.board import Board, ImportOptions, ImportResult
from claude_task_cli.operations import load_document


def import_file(
    board: Board, path: Path, *, preview: bool = False, **options: object
) -> ImportResult:
    """The document at `path` imported onto `board` by `importer`, with `ImportOptions(**options)`."""
    doc, located = load_document(str(path))
    settings = ImportOptions(**options)  # type: ignore[arg-type]
    return board.import_document(doc, located, settings, "importer", preview=preview)
