"""Report files left behind: when every report of a document is regenerated, the earlier ones
that were not written again (a task renamed, renumbered or removed) are removed.

"Regenerating overwrites cleanly" (issue 4): a renamed task writes `040_task_1_renamed.md`, and
`040_task_1_claimed.md` from the last time would otherwise stay beside it, contradicting it. Only
files of exactly the report naming pattern of that document id and format are candidates —
`<doc-id>_task_<n>_<slug>.<ext>` (`report_view.task_file_name`) — and only regular files; nothing
else in the directory (other documents' reports, the summary, a reader's notes) is touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from claude_task_cli.errors import ReportError
from claude_task_cli.report.views import safe_id


def report_pattern(doc_id: str, suffix: str) -> re.Pattern[str]:
    """The names `task_file_name` gives the task reports of `doc_id` with `suffix` (`.md`)."""
    return re.compile(
        rf"{re.escape(safe_id(doc_id))}_task_[A-Za-z0-9._-]+?_[a-z0-9_]+{re.escape(suffix)}",
        re.ASCII,
    )


def stale_reports(out_dir: Path, doc_id: str, suffix: str, written: Iterable[Path]) -> list[Path]:
    """Task reports of `doc_id` in `out_dir` that are not among `written`, by name."""
    if not out_dir.is_dir():
        return []
    pattern = report_pattern(doc_id, suffix)
    kept = {p.name for p in written}
    return sorted(
        path
        for path in out_dir.iterdir()
        if pattern.fullmatch(path.name)
        and path.name not in kept
        and path.is_file()
        and not path.is_symlink()
    )


def remove_stale_reports(
    out_dir: Path, doc_id: str, suffix: str, written: Iterable[Path]
) -> list[Path]:
    """Remove `stale_reports(...)`; return what was removed. Raises `ReportError`."""
    removed = []
    for path in stale_reports(out_dir, doc_id, suffix, written):
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # gone already
        except OSError as exc:
            raise ReportError(f"{path}: cannot remove the stale report: {exc}") from exc
        removed.append(path)
    return removed
