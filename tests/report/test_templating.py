"""The report environment's code generator (inline attribute reads, joined output) renders what
jinja2's own sandbox renders, across the template language, not only in the packaged templates."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from claude_task_cli.report import templating
from claude_task_cli.report.templating import environment
from claude_task_cli.report.views import Item

# Every construct whose compiled code holds attribute reads or output in its own scope: macros
# (with defaults, and called with a caller), filter and set blocks, filtered recursive loops,
# filters taking attribute names, literals, namespaces, conditional expressions.
LANGUAGE = """{% macro m(x, d=items[0].text) %}[{{ x.text }}|{{ d }}]{% endmacro %}
{{ m(items[1]) }}
{% macro w(x) %}<{{ caller(x.text) }}>{% endmacro %}{% call(t) w(items[0]) %}{{ t }}/{{ items[1].text }}{% endcall %}
{% filter upper %}{{ items[0].text }}{% endfilter %}
{% set block %}{{ items[1].depth }}{% endset %}{{ block }}
{% for i in items if i.depth > 0 recursive %}{{ loop.depth }}:{{ i.text }}{% endfor %}
{{ items | map(attribute="text") | join(",") }} {{ items | selectattr("checked") | list | length }}
{{ {items[0].text: items[1].depth} }} {{ (items[0].text, items[1].text) }} {{ [items[0].depth] }}
{{ items[0].text.upper() }} {{ items[0].nope is defined }} {{ "%s-%s" % (items[0].text, 2) }}
{% set ns = namespace(v=items[0].depth) %}{% set ns.v = items[1].depth %}{{ ns.v }}
{{ items[1].text if items[0].checked else items[0].text ~ "!" }}
"""
ITEMS = [Item("first", True, 0), Item("second", None, 2)]


def _jinja_sandbox() -> SandboxedEnvironment:
    plain = SandboxedEnvironment(
        undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
    )
    plain.filters.update(environment().filters)
    return plain


def test_the_template_language_renders_as_in_jinjas_own_sandbox() -> None:
    ours = environment().from_string(LANGUAGE).render(items=ITEMS)
    assert ours == _jinja_sandbox().from_string(LANGUAGE).render(items=ITEMS)
    assert "[second|first]" in ours  # it did render
    assert "<first/second>" in ours


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{{ items[0].__class__.__mro__ }}", SecurityError),
        ("{{ items[0]._private }}", UndefinedError),
        ("{{ items[0].no_such_field }}", UndefinedError),
        ("{{ items[0].text.format.__globals__ }}", SecurityError),
    ],
)
def test_what_jinjas_sandbox_refuses_is_refused(source: str, error: type[Exception]) -> None:
    for env in (environment(), _jinja_sandbox()):
        with pytest.raises(error):
            env.from_string(source).render(items=ITEMS)


# -- compiled templates kept between processes ---------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp directory, for this test alone; returns jinja2's cache directory in it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"_jinja2-cache-{os.getuid()}"


def refuse_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def compiled_again(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(templating._Sandbox, "compile", compiled_again)


def test_a_compiled_template_is_kept_for_the_next_environment(
    private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = environment().get_template("matrix.md.j2")
    assert len(list(private_tmp.glob("claude-task-*.cache"))) == 1
    assert stat.S_IMODE(private_tmp.stat().st_mode) == 0o700
    refuse_compiling(monkeypatch)
    kept = environment().get_template("matrix.md.j2")
    assert kept.root_render_func.__code__.co_code == compiled.root_render_func.__code__.co_code


def test_a_damaged_or_foreign_cache_file_is_compiled_again(private_tmp: Path) -> None:
    environment().get_template("matrix.md.j2")
    (kept,) = private_tmp.glob("claude-task-*.cache")
    kept.write_bytes(b"not marshalled code")
    other_release = private_tmp / "claude-task-0123456789abcdef-x.cache"
    other_release.write_bytes(b"")
    assert environment().get_template("matrix.md.j2").render is not None
    assert kept.read_bytes() != b"not marshalled code"  # written again, whole
    assert not other_release.exists()


def test_no_usable_cache_only_costs_the_compilation(
    private_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment().get_template("matrix.md.j2")
    (kept,) = private_tmp.glob("claude-task-*.cache")
    kept.unlink()
    kept.mkdir()  # neither readable nor replaceable as a file, even by root
    assert environment().get_template("matrix.md.j2").render is not None
    assert kept.is_dir()
    env = environment()
    kept.rmdir()
    private_tmp.rmdir()  # gone between the environment's creation and its first write
    assert env.get_template("matrix.md.j2").render is not None
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
    assert templating._bytecode_cache() is None
    assert environment().get_template("matrix.md.j2").render is not None
