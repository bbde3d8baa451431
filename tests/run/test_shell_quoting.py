"""A step result placed into a shell string reaches the command as data: quoted for the place it
sits in (checked by running real shells), or refused with the place named."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_task_cli.outcomes import InvalidParams
from claude_task_cli.run.arguments import SHELL_ARGS, refused_reason, resolve_args
from claude_task_cli.run.shell_quoting import DOUBLE, SINGLE, WORD, places

INJECTION = "'; touch pwned; '"
# Every character a shell treats specially, and more (no NUL: an argv cannot hold one).
_VALUES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\0"),
    max_size=40,
) | st.sampled_from([INJECTION, '"; touch pwned; "', "$(touch pwned)", "`touch pwned`", "\\", "'"])


def shell_args(command: str, value: Any, **extra: Any) -> dict[str, Any]:
    resolution = resolve_args(
        {"command": command, **extra}, {"1.1": {"value": value}}, shell_args=SHELL_ARGS
    )
    assert resolution.unresolved == []
    assert resolution.refused == []
    return resolution.args


def run_shell(shell: str, command: str, cwd: Path) -> str:
    done = subprocess.run(
        [shell, "-c", command], cwd=cwd, capture_output=True, timeout=30, check=True
    )
    return done.stdout.decode()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("echo ${step:1.1}", [WORD]),
        ("echo '${step:1.1}' \"${step:1.1}\"", [SINGLE, DOUBLE]),
        ("echo \"it's ${step:1.1}\" 'say \"${step:1.1}\"'", [DOUBLE, SINGLE]),
        ('echo "$(printf %s ${step:1.1})" "$(echo "${step:1.1}")"', [WORD, DOUBLE]),
        ("echo \\'${step:1.1} \\\"${step:1.1}", [WORD, WORD]),
        ("x=${step:1.1}; echo $# \"$x\" ${step:1.1}", [WORD, WORD]),
        ("echo $((1 + 2)) $(ls) ${step:1.1}", [WORD]),
        ("echo a # note ${step:1.1}\necho ${step:1.1}", ["inside a comment", WORD]),
        ("cat <<EOF\n${step:1.1}\nEOF\necho ${step:1.1}", ["inside a here-document", WORD]),
        ("cat <<-'END' | wc\n\t'${step:1.1}'\n\tEND\necho '${step:1.1}'", ["inside a here-document", SINGLE]),
        ("cat <<<${step:1.1}", [WORD]),
        ("echo `date` ${step:1.1}", ["inside or after backquotes (write $(…) instead)"]),
        ("echo $'${step:1.1}'", ["inside $'…'"]),
        ("echo ${HOME:-${step:1.1}}", ["inside ${…}"]),
        ("echo $(( ${step:1.1} + 1 ))", ["inside $((…))"]),
        ("echo \"$(case a in a) echo ${step:1.1};; esac)\"", ["after a construct whose quoting this reader does not follow"]),
    ],
)  # fmt: skip
def test_where_a_placeholder_sits(template: str, expected: list[str]) -> None:
    assert list(places(template).values()) == expected


def test_a_placeholder_whose_place_is_not_told_is_refused() -> None:
    # A path with a space cuts the here-document delimiter's word in two: not followed.
    resolution = resolve_args(
        {"command": "cat <<${step:1.1/a b}\nx"}, {"1.1": {"a b": "v"}}, shell_args=SHELL_ARGS
    )
    assert [r.place for r in resolution.refused] == ["where its quoting cannot be told"]


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["/bin/sh", "bash"])
@pytest.mark.parametrize(
    "template",
    [
        "printf %s ${step:1.1/value}",
        "printf %s '${step:1.1/value}'",
        'printf %s "${step:1.1/value}"',
        'x=${step:1.1/value}; printf %s "$x"',
        'printf %s "$(printf %s "${step:1.1/value}")-$(printf %s ${step:1.1/value})"',
    ],
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_VALUES)
def test_a_real_shell_gets_the_value_as_data(
    shell: str, template: str, value: str, tmp_path: Path
) -> None:
    command = shell_args(template, value)["command"]
    out = run_shell(shell, command, tmp_path)
    trimmed = value.rstrip("\n")  # a command substitution drops trailing newlines
    expected = f"{trimmed}-{trimmed}" if "$(" in template else value
    assert out == expected
    assert not (tmp_path / "pwned").exists()


@settings(max_examples=200, deadline=None)
@given(value=_VALUES, quoted=st.sampled_from(["{}", "'{}'", '"{}"', "a{}b", "--x='{}'"]))
def test_split_into_an_argv_the_value_stays_one_piece(value: str, quoted: str) -> None:
    template = "printf %s " + quoted.format("${step:1.1/value}")
    command = shell_args(template, value, shell=False)["command"]
    expected = quoted.replace("'", "").replace('"', "").format(value)
    assert shlex.split(command) == ["printf", "%s", expected]


@pytest.mark.slow
def test_the_injection_of_the_issue_runs_no_shell(tmp_path: Path) -> None:
    command = shell_args("echo '${step:1.1/value}'", INJECTION)["command"]
    assert run_shell("bash", command, tmp_path) == INJECTION + "\n"
    assert not (tmp_path / "pwned").exists()


def test_values_that_are_not_text_are_quoted_as_json() -> None:
    command = shell_args("echo ${step:1.1/value}", {"a": "b c"})["command"]
    assert command == """echo '{"a": "b c"}'"""


def test_a_script_is_quoted_as_a_command_is() -> None:
    resolution = resolve_args(
        {"script": "echo ${step:1.1}\nls"}, {"1.1": "a;b"}, shell_args=SHELL_ARGS
    )
    assert resolution.args == {"script": "echo 'a;b'\nls"}


def test_a_whole_placeholder_is_the_command_itself() -> None:
    resolution = resolve_args(
        {"command": "${step:1.1/cmd}"}, {"1.1": {"cmd": ["ls", "-l"]}}, shell_args=SHELL_ARGS
    )
    assert resolution.args == {"command": ["ls", "-l"]}  # a list: an argv, no shell


def test_other_arguments_and_other_tools_are_not_shell_text() -> None:
    args = {"command": "echo ${step:1.1}", "env": {"X": "pre ${step:1.1}"}}
    quoted = resolve_args(args, {"1.1": "a b"}, shell_args=SHELL_ARGS).args
    assert quoted == {"command": "echo 'a b'", "env": {"X": "pre a b"}}
    assert resolve_args(args, {"1.1": "a b"}).args["command"] == "echo a b"


def test_the_handoff_shows_its_marker_quoted() -> None:
    resolution = resolve_args(
        {"command": "echo ${step:1.1/x}"},
        {},
        placeholder=lambda _p: "<result>",
        shell_args=SHELL_ARGS,
    )
    assert resolution.args == {"command": "echo '<result>'"}
    left = resolve_args({"command": "echo ${step:1.1/x}"}, {}, shell_args=SHELL_ARGS)
    assert left.args == {"command": "echo ${step:1.1/x}"}  # not resolved: left as written
    assert [u.step_id for u in left.unresolved] == ["1.1"]


def test_a_refused_placeholder_pauses_with_the_reason_and_the_way_out() -> None:
    resolution = resolve_args(
        {"command": "cat <<EOF\n${step:1.1}\nEOF"}, {"1.1": "x"}, shell_args=SHELL_ARGS
    )
    assert resolution.args["command"] == "cat <<EOF\n${step:1.1}\nEOF"
    reason = refused_reason("2.1", "run_command", resolution.refused)
    assert isinstance(reason, InvalidParams)
    assert reason.blocked_step == "2.1"
    [problem] = reason.problems
    assert problem.startswith("command: ${step:1.1} sits inside a here-document")
    assert 'pass it in env (NAME: the placeholder) and write "$NAME"' in problem
