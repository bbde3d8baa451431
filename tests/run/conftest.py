"""The engine's unit tests' harness: a run's store in the test's folder, closed after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_task_cli.store import Store
from tests.run.engine_fakes import Harness


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(Store(tmp_path / "state.db"))
    yield harness
    harness.store.close()
