"""Report fixtures: runs recorded by a REAL execution, and the reports rendered from them.

    python tests/report/regen_reports.py            re-render the goldens from the recorded runs
    python tests/report/regen_reports.py --record   first execute the fixture documents again, for real

`--record` copies each `tests/report/fixtures/0*.md` into a scratch project whose `.mcp.json`
declares `mcp-server-time` and the built-in command server, runs it through the real engine
(`runner.run_document`: real MCP calls over stdio), and stores the state database it produced as
an SQL dump (`<stem>.run.sql`, the store's own rows, untouched). The goldens in `golden/` are the
reports rendered from those dumps with the packaged templates; review the diff after either.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from claude_task_cli.convert.converter import convert_file
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.report.evidence import RecordedRun, load_evidence
from claude_task_cli.report.junit import junit_xml
from claude_task_cli.report.render import Reports, render_reports
from claude_task_cli.report.templating import environment
from claude_task_cli.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = FIXTURES / "golden"
DOCUMENTS = sorted(FIXTURES.glob("0*.md"))


def display(document: Path) -> str:
    """The path the document had when it was run (inside the scratch project)."""
    return f"docs/tasks/{document.name}"


def fixture_document(document: Path) -> TaskDocument:
    return convert_file(document, display(document))


def restore(dump: Path, database: Path) -> Path:
    """Load a recorded run into a fresh state database."""
    conn = sqlite3.connect(database)
    try:
        conn.executescript(dump.read_text(encoding="utf-8"))
    finally:
        conn.close()
    return database


def install(project: Path, document: Path, database: Path) -> Path:
    """Put the document under docs/tasks and its recorded run in `database`, stored under this
    project's path of the document (as execute_task would have)."""
    tasks = project / "docs" / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    target = tasks / document.name
    shutil.copy(document, target)
    database.parent.mkdir(exist_ok=True)
    restore(document.with_suffix(".run.sql"), database)
    conn = sqlite3.connect(database)
    with conn:
        conn.execute(
            "UPDATE runs SET doc_key = ? WHERE doc_id = ?",
            (str(target.resolve()), document.stem[:3]),
        )
    conn.close()
    return target


def fixture_evidence(document: Path, scratch: Path) -> tuple[TaskDocument, RecordedRun | None]:
    doc = fixture_document(document)
    database = restore(document.with_suffix(".run.sql"), scratch / f"{document.stem}.db")
    with Store(database) as store:
        key = store.runs()[0].doc_key  # the path it was run from, in the scratch project
        return doc, load_evidence(store, doc, doc_key=key)


def rendered_files(document: Path, scratch: Path) -> dict[str, str]:
    """Every golden file of one fixture: the reports, the JUnit XML, the status JSON."""
    doc, evidence = fixture_evidence(document, scratch)
    reports = Reports.of(doc, evidence)
    files = {r.name: r.text for r in render_reports(reports, environment())}
    files[f"{document.stem}.junit.xml"] = junit_xml(reports).decode()
    files[f"{document.stem}.status.json"] = (
        json.dumps(reports.matrix.to_dict(), indent=1, ensure_ascii=False) + "\n"
    )
    return files


def record(document: Path) -> None:
    """Execute the document for real and keep the state database it produced."""
    from claude_task_cli.run import RunOptions, run_document

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        tasks = project / "docs" / "tasks"
        tasks.mkdir(parents=True)
        copy = tasks / document.name
        shutil.copy(document, copy)
        servers = {
            "time": {
                "command": sys.executable,
                "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
            },
            "commands": {
                "command": sys.executable,
                "args": ["-m", "claude_task_cli.mcp.command_server"],
            },
        }
        (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
        state = project / ".claude-task" / "state.db"
        outcome = run_document(
            convert_file(copy, display(document)), RunOptions(state=state), doc_path=copy
        )
        print(f"recorded {document.name}: run {outcome.run_id} {outcome.run_status}")
        conn = sqlite3.connect(state)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            lines = [f"PRAGMA user_version={version};", *conn.iterdump()]
        finally:
            conn.close()
        document.with_suffix(".run.sql").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> None:
    if "--record" in argv:
        for document in DOCUMENTS:
            record(document)
    GOLDEN.mkdir(exist_ok=True)
    for stale in GOLDEN.iterdir():
        stale.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for document in DOCUMENTS:
            for name, text in rendered_files(document, Path(tmp)).items():
                (GOLDEN / name).write_text(text, encoding="utf-8")
                print(f"wrote {(GOLDEN / name).relative_to(FIXTURES.parent.parent.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
