"""The completion matrix as JUnit XML, for CI systems that display test reports.

One `<testsuite>` per task, one `<testcase>` per step (`classname` = `<doc-id>.task_<n>`, `time` =
the step's time in calls). A COMPLETE step passes; a step skipped because a prerequisite failed is
`<skipped>`; every other incomplete step (failed, paused, awaiting the client, not run, a failed
check) is a `<failure>` whose `type` is its state and whose text is the recorded evidence: error,
pause reason, checks, and the output, trimmed visibly. A step whose outcome was not produced by a
tool call of the engine (recorded by the client, ticked in the document) carries a `source`
property and says so in its `<system-out>` (or its failure text).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from claude_task_cli.errors import ReportError
from claude_task_cli.report.evidence import StepEvidence
from claude_task_cli.report.markdown_escape import as_text, trim_note, trimmed
from claude_task_cli.report.matrix import Completion, State, StepRow
from claude_task_cli.report.render import Reports

EVIDENCE_LIMIT = 2000  # characters of output kept in a failure's text
# outcomes no tool call of the engine produced, and how a reader should know them
_SOURCES = {
    "client": "recorded by the client with record_step, not by a tool call",
    "document": "ticked [x] in the document, no tool call",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can carry: control characters (ANSI escapes, NULs) shown as `\\xNN`."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def junit_xml(reports: Reports) -> bytes:
    """The JUnit XML document (UTF-8, deterministic)."""
    matrix, run = reports.matrix, reports.run
    recorded = run["steps"] if run is not None else {}
    root = ET.Element("testsuites", name=_xml(f"{matrix.doc_id}: {matrix.title}"))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    grouped = matrix.by_task()
    for task in matrix.tasks:
        rows = grouped[task.id]
        suite = ET.SubElement(root, "testsuite", name=_xml(f"Task {task.id}: {task.title}"))
        counts = {"tests": len(rows), "failures": 0, "skipped": 0}
        seconds = 0.0
        for row in rows:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_xml(f"{matrix.doc_id}.task_{task.id}"),
                name=_xml(f"{row.id} {row.title}"),
                time=f"{(row.duration_ms or 0.0) / 1000:.3f}",
            )
            seconds += (row.duration_ms or 0.0) / 1000
            if row.source in _SOURCES:
                properties = ET.SubElement(case, "properties")
                ET.SubElement(properties, "property", name="source", value=row.source)
            if row.completion == Completion.COMPLETE:
                if row.source in _SOURCES:
                    ET.SubElement(case, "system-out").text = f"COMPLETE: {_SOURCES[row.source]}"
                continue
            if row.state == State.SKIPPED:
                ET.SubElement(case, "skipped", message=_xml(row.failure or "skipped"))
                counts["skipped"] += 1
                continue
            failure = ET.SubElement(
                case, "failure", message=_xml(row.failure or row.state.value), type=row.state.value
            )
            failure.text = _xml(_evidence_text(row, recorded.get(row.id)))
            counts["failures"] += 1
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", "0")
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", f"{seconds:.3f}")
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _evidence_text(row: StepRow, evidence: StepEvidence | None) -> str:
    if evidence is None:
        lines = ["No evidence recorded: the step was not run."]
        if row.blocked_by:
            lines.append("Blocked by: " + ", ".join(row.blocked_by))
        return "\n".join(lines)
    lines = [f"state: {row.state.value}; attempts: {evidence['attempts']}"]
    source = evidence["source"]
    if source in _SOURCES:
        lines.append(f"source: {source} ({_SOURCES[source]})")
    if row.blocked_by:
        lines.append("blocked by: " + ", ".join(row.blocked_by))
    if evidence["error"]:
        lines.append(f"error: {evidence['error']}")
    if evidence["pause_reason"] is not None:
        lines.append("pause reason: " + json.dumps(evidence["pause_reason"], ensure_ascii=False))
    for check in evidence["checks"]:
        verdict = "passed" if check["passed"] else "FAILED"
        lines.append(f"check {verdict}: {check['description']} {check['message']}".rstrip())
    if evidence["result"] is not None:
        text, omitted = trimmed(as_text(evidence["result"]), EVIDENCE_LIMIT)
        lines.append("output:\n" + text + (f"\n{trim_note(omitted)}" if omitted else ""))
    return "\n".join(lines)


def write_junit(reports: Reports, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junit_xml(reports))
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the JUnit XML: {exc}") from exc
    return path
