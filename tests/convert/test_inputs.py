"""Inputs that must not hang or blow up: special files, oversized documents, unclosed fences."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_task_cli.convert.converter import convert_bytes, convert_file
from claude_task_cli.convert.source import LIMIT_ENV, MAX_DOCUMENT_BYTES
from claude_task_cli.convert.steps import FreeNumbers
from claude_task_cli.errors import ExitCode, InputError, OptionError

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
@pytest.mark.slow
def test_a_fifo_or_a_device_is_refused_at_once_in_a_real_process(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    # a process, so that a regression (opening the FIFO blocks for a writer) fails, not hangs
    done = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "convert_task", str(fifo), "/dev/zero", "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{fifo}: is a FIFO (named pipe), not a regular file: nothing was read",
        "/dev/zero: is a device, not a regular file: nothing was read",
    ]


@needs_fifo
def test_a_fifo_is_named_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO") as caught:
        convert_file(fifo, "pipe.md")  # refused from its stat: nothing waits for a writer
    assert caught.value.exit_code is ExitCode.INVALID_INPUT


def test_a_document_over_the_size_limit_names_the_limit_and_how_to_raise_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "big.md"
    doc.write_text("# Big\n\n" + "- [ ] a step\n" * 100, encoding="utf-8")
    monkeypatch.setenv(LIMIT_ENV, "1000")
    with pytest.raises(InputError) as caught:
        convert_file(doc, "big.md")
    assert str(caught.value) == (
        f"big.md: 1,307 bytes, over the 1,000-byte limit for a task document "
        f"(set {LIMIT_ENV} to raise it)"
    )
    monkeypatch.setenv(LIMIT_ENV, "2000")
    assert len(convert_file(doc, "big.md").sections) == 1


def test_the_default_limit_is_far_above_real_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    assert MAX_DOCUMENT_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1e6"])
def test_a_limit_that_is_not_a_positive_number_is_an_option_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    doc = tmp_path / "plan.md"
    doc.write_text("# Plan\n", encoding="utf-8")
    monkeypatch.setenv(LIMIT_ENV, value)
    with pytest.raises(OptionError, match=f"{LIMIT_ENV}='{value}': expected a positive number"):
        convert_file(doc)


def test_a_fence_never_closed_is_named_with_the_checklist_lines_it_hides() -> None:
    markdown = (
        "# Plan\n\n### Task 1: A\n\n- [ ] 1.1 first\n\n```bash\necho hi\n\n"
        "### Task 2: B\n\n- [ ] 2.1 second\n- [x] 2.2 third\n"
    )
    doc = convert_bytes(markdown.encode(), "doc.md")
    assert [t.id for t in doc.tasks] == ["1"]  # CommonMark: the rest is code
    assert [(w.line, w.message) for w in doc.warnings if "never closed" in w.message] == [
        (
            7,
            "code fence ```bash is never closed: the rest of the document is read as code "
            "(2 checklist-looking lines inside); close it with ```",
        )
    ]


@pytest.mark.parametrize(
    "markdown",
    [
        "# Plan\n\n```bash\necho hi\n```\n",  # closed on the last line
        "# Plan\n\n````\n```\n````",  # closed without a final newline
        "# Plan\n\n- item\n  ```\n  code\n\nafter the list\n",  # ends with its list item
        "# Plan\n\n> ```\n> code\n> ```\n",  # closed inside a quote
    ],
)
def test_a_closed_fence_or_one_ended_by_its_container_is_not_warned_about(markdown: str) -> None:
    doc = convert_bytes(markdown.encode(), "doc.md")
    assert not [w for w in doc.warnings if "never closed" in w.message]


def test_an_unclosed_fence_that_hides_nothing_says_so() -> None:
    doc = convert_bytes(b"# Plan\n\n~~~~python\nprint(1)\n~~~\n", "doc.md")
    assert [(w.line, w.message) for w in doc.warnings if "never closed" in w.message] == [
        (
            3,
            "code fence ~~~~python is never closed: the rest of the document is read as code "
            "(0 checklist-looking lines inside); close it with ~~~~",
        )
    ]


def test_many_duplicate_ids_are_renamed_with_a_look_up_or_two_each() -> None:
    taken: set[str] = set()
    looked_up: list[str] = []

    def used(step_id: str) -> bool:
        looked_up.append(step_id)
        return step_id in taken

    numbers = FreeNumbers(used)
    for _ in range(1000):  # a thousand more `1.1`s: 1.2, 1.3, ... without rescanning from 1.2
        taken.add(f"1.{numbers.first('1.', 2)}")
    assert taken == {f"1.{n}" for n in range(2, 1002)}
    assert len(looked_up) <= 2 * 1000


def test_sections_and_duplicates_at_scale_keep_their_text_and_ids() -> None:
    markdown = "# Plan\n\n" + "".join(f"## Part {n}\n\ntext {n}\n\n" for n in range(3000))
    markdown += "### Task 1: again\n\n- [ ] 1.1 same\n" * 300
    doc = convert_bytes(markdown.encode(), "doc.md")
    assert [s.text for s in doc.sections[1:4]] == ["text 0", "text 1", "text 2"]
    assert doc.sections[3000].text == "text 2999"
    assert [t.id for t in doc.tasks[:3]] == ["1", "1-2", "1-3"]
    assert [s.id for s in doc.tasks[2].steps] == ["1.3"]
