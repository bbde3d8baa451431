"""The filters that make document and tool text safe in markdown: cells, code spans, fences,
what a tool said, mermaid labels, times, JSON values; the author's text with its raw HTML inert,
checked against a CommonMark parser."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from claude_task_cli.report.author_text import inert_line, inert_markdown
from claude_task_cli.report.markdown_escape import (
    as_text,
    cell,
    code,
    data,
    data_cell,
    fence,
    mermaid_label,
    oneline,
    prose,
    timestamp,
)
from tests.support import html_in

GFM = MarkdownIt("commonmark").enable("table")


@pytest.mark.parametrize(
    "text",
    ["plain", "`", "``x``", "a ``` b", "ends with `", " padded ", "a|b", "new\nline", ""],
)
def test_code_spans_survive_backticks_and_pipes(text: str) -> None:
    rendered = GFM.renderInline(f"| x |\n|---|\n| {code(text)} |")
    inside = GFM.parse(f"| x |\n|---|\n| {code(text)} |")
    cells = [t for t in inside if t.type == "inline"]
    assert len(cells) == 2, rendered
    spans = [c for c in cells[1].children or [] if c.type == "code_inline"]
    expected = " ".join(text.split())
    if expected:
        assert spans[0].content.strip() == expected.strip()


def test_cells_escape_html_pipes_and_trim_visibly() -> None:
    assert cell("a | b") == "a \\| b"
    assert cell("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert cell("line\nbreak") == "line break"
    assert cell(None) == cell("") == "—"
    assert cell("x" * 200, 10) == "xxxxxxxxxx (… 190 more characters trimmed)"


@pytest.mark.parametrize(
    "said",
    [
        "Invalid timezone: *Mars*/_Olympus_ ~~gone~~",
        'echo "boom" >&2 && exit 3',
        "see [the docs](http://x) or <b>bold</b> &amp; `code` | pipe \\ back",
        "plain words, nothing to escape",
    ],
)
def test_what_a_tool_said_renders_as_it_said_it(said: str) -> None:
    """`data` (list items, sentences) and `data_cell` (table cells) escape every character
    markdown would read as formatting: rendered, the text is exactly what the tool said."""
    inline = MarkdownIt("commonmark").renderInline(data(said))
    assert inline == html.escape(said, quote=False).replace('"', "&quot;")
    table = (
        MarkdownIt("commonmark").enable("table").render(f"| a |\n|---|\n| {data_cell(said)} |\n")
    )
    assert f"<td>{html.escape(said, quote=False).replace(chr(34), '&quot;')}</td>" in table
    assert data_cell(None) == "—"
    assert data_cell("x" * 200, 10) == "xxxxxxxxxx (… 190 more characters trimmed)"


def test_a_backslash_is_doubled_only_where_markdown_reads_it_as_an_escape() -> None:
    """A check's description shows Python's `'1.0.0\\n'`: written once, it renders the same."""
    said = "stdout equals '1.0.0\\n': is '0.9.0\\n'"
    assert data(said) == data_cell(said) == cell(said) == said
    assert data("a \\* b") == "a \\\\\\* b"  # before punctuation: both escaped
    assert cell("ends with \\") == "ends with \\\\"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="\\n*_`[]<>&|'!a ", max_size=30))
def test_what_a_tool_said_with_backslashes_renders_as_said(said: str) -> None:
    shown = " ".join(said.split())
    expected = html.escape(shown, quote=False).replace("'", "&#x27;")
    inline = MarkdownIt("commonmark").renderInline(data(said)).replace("'", "&#x27;")
    assert inline == expected
    table = GFM.render(f"| a |\n|---|\n| {data_cell(said)} |\n").replace("'", "&#x27;")
    assert f"<td>{expected}</td>" in table or not shown


def test_fences_grow_past_backtick_runs_and_say_what_they_trim() -> None:
    assert fence("a ```` b", "text").startswith("`````text\n")
    assert fence("plain").startswith("```\nplain\n```")
    trimmed = fence("x" * 50, "text", 10)
    assert trimmed.endswith("```\n\n_… 40 more characters trimmed_")
    assert fence({"a": 1}, "json") == '```json\n{"a": 1}\n```'
    assert fence({"k": "v" * 80}, "json") == '```json\n{\n  "k": "' + "v" * 80 + '"\n}\n```'
    assert fence("x" * 50, "text", 0) == "```text\n" + "x" * 50 + "\n```"  # 0: no limit


def test_fences_cut_to_a_number_of_lines_say_how_many_more() -> None:
    text = "".join(f"{n}\n" for n in range(1, 6))
    assert fence(text, "text", 0, 3) == "```text\n1\n2\n3\n```\n\n_… (2 more lines)_"
    assert fence(text, "text", 0, 4).endswith("_… (1 more line)_")
    assert fence(text, "text", 0, 5) == fence(text, "text", 0)
    assert fence(text, "text", 3, 4).endswith("_… 5 more characters trimmed, and 1 more line_")


def test_mermaid_labels_cannot_end_the_label() -> None:
    assert mermaid_label('a "quoted" `x` <b> | #1') == (
        "a #quot;quoted#quot; #96;x#96; #lt;b#gt; #124; #35;1"
    )


def test_times_are_the_recorded_ones_in_utc() -> None:
    assert timestamp(0.0) == "1970-01-01 00:00:00.000 UTC"
    assert timestamp(1795316221.17085) == "2026-11-22 02:57:01.170 UTC"
    assert timestamp(None) == "—"
    assert timestamp(1795316221.9999996) == "2026-11-22 02:57:02.000 UTC"  # rounds into the next


@given(st.floats(min_value=-2e9, max_value=4e9) | st.integers(0, 4 * 10**9).map(lambda n: n / 2000))
def test_times_are_written_as_datetime_writes_them(epoch: float) -> None:
    moment = datetime.fromtimestamp(epoch, UTC)
    assert timestamp(epoch) == moment.isoformat(" ", "milliseconds").replace("+00:00", " UTC")


def test_a_code_span_outside_a_table_keeps_its_pipes() -> None:
    assert code("a|b", 0, table=False) == "`a|b`"
    assert code("a|b") == "`a\\|b`"
    assert code("x" * 200, 0, table=False) == "`" + "x" * 200 + "`"  # 0: no limit


def _reference_as_text(value: object, indent: str = "") -> str:
    """as_text's rule, spelled with json.dumps: one line when it fits, else a member per line."""
    if isinstance(value, str) and not indent:
        return value
    line = json.dumps(value, ensure_ascii=False, default=str)
    if len(line) + len(indent) <= 80 or not isinstance(value, dict | list) or not value:
        return line
    inner = indent + "  "
    if isinstance(value, dict):
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_reference_as_text(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    items = [inner + _reference_as_text(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + f"\n{indent}]"


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)


@given(_JSON_VALUES)
def test_values_are_shown_as_json_that_fits_the_line_or_breaks_it(value: object) -> None:
    assert as_text(value) == _reference_as_text(value)


@given(st.text(alphabet="`a\n ", max_size=80))
def test_a_fence_is_one_backtick_longer_than_any_run_inside(text: str) -> None:
    opening = fence(text, "text", 0).split("\n", 1)[0].removesuffix("text")
    longest = max(map(len, re.findall("`+", text)), default=0)
    assert opening == "`" * max(3, longest + 1)


# -- the author's text: markdown kept, raw HTML inert -------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"),
        ("Add `<meta>` tags <b>now</b>", "Add `<meta>` tags &lt;b>now&lt;/b>"),
        ("a ` b <i>", "a ` b &lt;i>"),
        ("`a` <img> `b`", "`a` &lt;img> `b`"),
        ("\\`<img>`", "\\`&lt;img>`"),  # an escaped backtick opens nothing
        ("[a](`) <img> `", "[a](`) &lt;img> `"),  # a link destination can hold a backtick
        ("<https://example.com>", "&lt;https://example.com>"),
        ("**bold** and `code`", "**bold** and `code`"),
    ],
)
def test_raw_html_in_the_authors_text_is_shown_as_text(text: str, shown: str) -> None:
    assert oneline(text) == shown
    assert html_in(f"# {oneline(text)}") == []
    assert html_in(f"- {oneline(text)}") == []


def test_a_description_keeps_its_code_and_loses_its_html() -> None:
    text = "Intro <b>x</b>\n\n```html\n<div>kept</div>\n```\n\nUse `<meta>` here.\n\n<script>y</script>"
    shown = prose(text)
    assert "```html\n<div>kept</div>\n```" in shown
    assert "Use `<meta>` here." in shown
    assert "&lt;script>" in shown
    assert html_in(shown) == []
    # a fence whose container decides where it ends: everything after it is escaped
    assert prose(" ```\n<c>\n```\n<img>") == " ```\n&lt;c>\n```\n&lt;img>"


_MARKUP = st.text(alphabet="<>`\\[]()!/:a ~*-_\n", max_size=40)


@settings(max_examples=400, deadline=None)
@given(_MARKUP)
def test_no_line_of_the_authors_text_reaches_a_report_as_html(text: str) -> None:
    line = " ".join(text.split())
    for context in ("{}", "# T {} — x", "- [ ] {}", "| a |\n|---|\n| {} |"):
        assert html_in(context.format(inert_line(line))) == [], context


@settings(max_examples=400, deadline=None)
@given(_MARKUP)
def test_no_paragraph_of_the_authors_text_reaches_a_report_as_html(text: str) -> None:
    assert html_in(f"## 1. Summary\n\n{inert_markdown(text)}\n\n| a |\n|---|\n") == []


@given(st.text(alphabet="`a*_[]()\n ", max_size=40))
def test_text_without_html_is_left_as_written(text: str) -> None:
    assert inert_markdown(text) == text
    assert inert_line(text) == text
