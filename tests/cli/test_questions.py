"""A server's question asked in the terminal: each field by its schema, defaults, choices, values
asked again until they fit, decline and cancel. Typed answers come from a text stream here; a
real pseudo-terminal and a real server: tests/mcp/test_client_runs.py."""

from __future__ import annotations

import io
import sys
from typing import Any

import anyio
import pytest
from rich.console import Console

from claude_task_cli.cli.questions import TerminalQuestions, terminal_asker
from claude_task_cli.mcp.client_side import Answer, Question

FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name", "description": "Your full name"},
        "age": {"type": "integer", "minimum": 1, "maximum": 130},
        "ratio": {"type": "number", "default": 0.5},
        "agree": {"type": "boolean"},
        "email": {"type": "string", "format": "email"},
        "hero": {
            "type": "string",
            "oneOf": [{"const": "h1", "title": "Superman"}, {"const": "h2", "title": "Batman"}],
            "default": "h1",
        },
        "pets": {
            "type": "array",
            "items": {"type": "string", "enum": ["cat", "dog", "fish"]},
            "minItems": 1,
        },
        "legacy": {"type": "string", "enum": ["p1", "p2"], "enumNames": ["Cats", "Dogs"]},
    },
    "required": ["name", "age"],
}


def asked(typed: str, question: Question) -> tuple[Answer, str]:
    """The answer `typed` (lines) gives, and what the person was shown."""
    shown = io.StringIO()
    console = Console(file=shown, width=100, color_system=None)
    questions = TerminalQuestions(console, stream=io.StringIO(typed))
    answer = anyio.run(questions.ask, question)
    return answer, shown.getvalue()


def test_a_form_is_asked_field_by_field_each_value_checked() -> None:
    typed = "\n".join([
        "",  # Answer it? [y]
        "",  # name: required, asked again
        "Ada",
        "old",  # age: not a whole number
        "200",  # above the maximum
        "36",
        "",  # ratio: the default
        "yes",  # agree
        "not-an-email",
        "ada@example.org",
        "2",  # hero: by number
        "cat, 3",  # pets: by value and by number
        "Dogs (p2)",  # legacy: by what is shown
    ]) + "\n"  # fmt: skip
    answer, shown = asked(typed, Question("srv", "Who are you?", schema=FORM))
    assert answer == Answer(
        "accept",
        {
            "name": "Ada",
            "age": 36,
            "ratio": 0.5,
            "agree": True,
            "email": "ada@example.org",
            "hero": "h2",
            "pets": ["cat", "fish"],
            "legacy": "p2",
        },
    )
    assert "MCP server srv asks" in shown
    assert "Who are you?" in shown
    assert "Your full name" in shown
    assert "an answer is required" in shown
    assert "'old' is not a whole number" in shown
    assert "200 is greater than the maximum of 130" in shown
    assert "is not a 'email'" in shown
    assert "1) Superman" in shown
    assert "2) Dogs (p2)" in shown


def test_fields_not_required_may_be_left_out() -> None:
    typed = "y\nAda\n7\n" + "\n" * 6
    answer, _ = asked(typed, Question("srv", "Who?", schema=FORM))
    assert answer == Answer("accept", {"name": "Ada", "age": 7, "ratio": 0.5, "hero": "h1"})


def test_no_declines_and_the_end_of_input_cancels() -> None:
    assert asked("n\n", Question("srv", "Who?", schema=FORM))[0] == Answer("decline")
    answer, shown = asked("y\nAda\n", Question("srv", "Who?", schema=FORM))
    assert answer == Answer("cancel")
    assert "cancelled" in shown


def test_a_url_is_shown_and_the_person_says_when_done() -> None:
    question = Question("srv", "Sign in", url="https://example.org/login")
    answer, shown = asked("\n", question)
    assert answer == Answer("accept")
    assert "Open: https://example.org/login" in shown
    assert asked("n\n", question)[0] == Answer("decline")


def test_no_terminal_no_asker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert terminal_asker() is None
