"""The report environment's code generator (inline attribute reads, joined output) renders what
jinja2's own sandbox renders, across the template language, not only in the packaged templates."""

from __future__ import annotations

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from claude_task_cli.report_view import Item
from claude_task_cli.templating import environment

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
