"""The reports' tests: the first recorded fixture run, ready to render."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_task_cli.report.render import Reports
from tests.report.regen_reports import DOCUMENTS, fixture_evidence


@pytest.fixture
def demo(tmp_path: Path) -> Reports:
    doc, evidence = fixture_evidence(DOCUMENTS[0], tmp_path)
    return Reports.of(doc, evidence)
