"""Regenerate the converter's golden files: `python tests/convert/regen_golden.py` (then review the diff)."""

from __future__ import annotations

import os
from pathlib import Path

from claude_task_cli.convert.converter import convert_file

GOLDEN = Path(__file__).resolve().parent / "golden"
REPO = GOLDEN.parents[2]


def expected_json(document: Path) -> str:
    return convert_file(document, document.relative_to(REPO).as_posix()).to_json()


if __name__ == "__main__":
    os.chdir(REPO)
    for md in sorted(GOLDEN.glob("*.md")):
        md.with_suffix(".json").write_text(expected_json(md), encoding="utf-8")
        print(f"wrote {md.with_suffix('.json').relative_to(REPO)}")
