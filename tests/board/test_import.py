"""Import, preview and re-import on both engines: tasks matched by a stable key (title, then
number), never by position; state, history and attempts kept; changes marked; removed tasks
retired and restored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_task_cli.board import Board, Execution, TaskState
from tests.board.support import import_file

S = TaskState


def _by_title(board: Board, *, retired: bool = False) -> dict[str, tuple[str, S]]:
    return {t.title: (t.number, t.state) for t in board.tasks(retired=retired)}


def test_first_import_records_backlog_tasks_with_events(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    result = import_file(board, write_doc("910_plan", [("Alpha", []), ("Beta", [1])]))
    assert (result.first_import, result.created, result.repository) == (True, ["1", "2"], "repo")
    assert result.document == "docs/tasks/910_plan.md"
    assert _by_title(board) == {"Alpha": ("1", S.BACKLOG), "Beta": ("2", S.BACKLOG)}
    kinds = [(e.kind, e.task, e.actor) for e in board.events()]
    assert kinds == [("task.created", "1", "importer"), ("task.created", "2", "importer")]


def test_preview_records_nothing(board: Board, write_doc: Callable[..., Path]) -> None:
    path = write_doc("911_plan", [("Alpha", []), ("Beta", [1])])
    previewed = import_file(board, path, preview=True)
    assert previewed.created == ["1", "2"]
    assert (board.tasks(), board.events()) == ([], [])
    import_file(board, path)
    path = write_doc("911_plan", [("Alpha", []), ("Gamma", [])])
    again = import_file(board, path, preview=True)  # Gamma takes Beta's number: Beta, retitled
    changed = {"2": ["title", "definition", "dependencies"]}
    assert (again.changed, again.unchanged) == (changed, ["1"])
    assert _by_title(board) == {"Alpha": ("1", S.BACKLOG), "Beta": ("2", S.BACKLOG)}


def test_reimport_keeps_state_by_title_not_position(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    path = write_doc("912_plan", [("Alpha", []), ("Beta", [1]), ("Gamma", []), ("Delta", [])])
    import_file(board, path, auto_ready=True)
    claimed, _ = board.claim("w1")
    assert claimed is not None
    board.settle(claimed, Execution("passed"))  # Alpha: in_review, its history recorded
    history = len(board.events())
    # a task inserted first renumbers every other; Gamma's step changes; Delta is removed
    path = write_doc(
        "912_plan",
        [("New first", []), ("Alpha", []), ("Beta", [2]), ("Gamma", [])],
        steps={4: "Something else entirely"},
    )
    result = import_file(board, path)
    assert result.created == ["1"]
    assert result.changed == {"2": ["number"], "3": ["number"], "4": ["number", "definition"]}
    assert result.retired == ["4"]
    assert _by_title(board) == {
        "New first": ("1", S.BACKLOG),
        "Alpha": ("2", S.IN_REVIEW),
        "Beta": ("3", S.BACKLOG),
        "Gamma": ("4", S.READY),
    }
    alpha = next(t for t in board.tasks() if t.title == "Alpha")
    assert (alpha.attempts, alpha.changes) == (1, ["number"])
    assert len(board.events()) == history + 1 + 3 + 1  # created, 3 changed, 1 retired
    assert board.find_task("912", "3").title == "Beta"
    assert [e.payload for e in board.events()[-1:]] == [
        {"number": "4", "retired": True, "title": "Delta"}
    ]


def test_unchanged_reimport_changes_nothing_and_a_removed_task_comes_back(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    first = [("Alpha", []), ("Beta", [])]
    path = write_doc("913_plan", first)
    import_file(board, path)
    again = import_file(board, path)
    assert (again.first_import, again.created, again.changed, again.unchanged) == (
        False,
        [],
        {},
        ["1", "2"],
    )
    import_file(board, write_doc("913_plan", [("Alpha", [])]))
    assert "Beta" not in _by_title(board)
    assert _by_title(board, retired=True)["Beta"] == ("2", S.BACKLOG)
    back = import_file(board, write_doc("913_plan", first))
    assert back.changed == {"2": ["restored"]}
    assert _by_title(board)["Beta"] == ("2", S.BACKLOG)


def test_a_retitled_task_is_matched_by_its_number(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("914_plan", [("Alpha", []), ("Beta", [])]))
    board.move("914", "2", S.READY, "ana")
    renamed = write_doc("914_plan", [("Alpha", []), ("Beta, renamed", [1])], steps={2: "Do beta"})
    result = import_file(board, renamed)
    assert result.changed == {"2": ["title", "dependencies"]}
    assert _by_title(board)["Beta, renamed"] == ("2", S.READY)


def test_status_markers(board: Board, write_doc: Callable[..., Path]) -> None:
    marked = {1: "✅ Complete"}
    path = write_doc("915_plan", [("Alpha", []), ("Beta", [1])], markers=marked)
    import_file(board, path)  # a marker is the author's word, not the board's state
    assert _by_title(board)["Alpha"] == ("1", S.BACKLOG)
    assert board.tasks()[0].marker == "✅ Complete"
    other = write_doc("916_plan", [("Alpha", []), ("Beta", [1])], markers=marked)
    import_file(board, other, accept_marks=True, auto_ready=True)
    tasks = [t for t in board.tasks() if t.path.endswith("916_plan.md")]
    assert [(t.number, t.state) for t in tasks] == [("1", S.DONE), ("2", S.READY)]
    created = next(e for e in board.events("916") if e.task == "1")
    assert created.payload["reason"] == "the document's marker says '✅ Complete'"
    result = import_file(board, write_doc("915_plan", [("Alpha", []), ("Beta", [1])]))
    assert result.changed == {"1": ["marker"]}  # reported; the state stays
    assert board.find_task("915", "1").state == S.BACKLOG


def test_documents_are_found_by_path_id_or_stem(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("917_alpha_plan", [("Alpha", [])]))
    for given in ("917", "917_alpha_plan", "docs/tasks/917_alpha_plan.md", "917_alpha_plan.md"):
        assert board.find_document(given)[1] == "docs/tasks/917_alpha_plan.md"
