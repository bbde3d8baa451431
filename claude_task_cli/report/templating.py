"""The Jinja environment reports render in: jinja2's own sandbox, strict about undefined names.

Templates are package data (`claude_task_cli/report/templates/*.j2`, read with
`importlib.resources`, so a wheel install works); a project's top-level `templates/` directory,
and before it an explicit `--templates DIR`, override them file by file. An override is code the
project's author wrote and anyone who clones the project runs: it runs in `SandboxedEnvironment`
as jinja2 ships it, over plain data (`views.py`), so all it can do is lay that data out. Whatever
a document or a tool said is data too, escaped by the filters of `markdown_escape`, never compiled
as a template.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from claude_task_cli.errors import ReportError
from claude_task_cli.report import wording
from claude_task_cli.report.markdown_escape import FILTERS

PROJECT_TEMPLATES = "templates"


class _PackageLoader(BaseLoader):
    """The templates shipped in the package, through importlib.resources."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        from jinja2 import TemplateNotFound

        resource = files("claude_task_cli.report").joinpath("templates", template)
        if "/" in template or "\\" in template or not resource.is_file():
            raise TemplateNotFound(template)
        # its file as the filename: errors and tracebacks then name the template's file and line
        return resource.read_text(encoding="utf-8"), str(resource), lambda: True


def template_search(project_root: Path | None, explicit: Path | None = None) -> list[Path]:
    """Directories that override the packaged templates, first match wins."""
    dirs = []
    if explicit is not None:
        if not explicit.is_dir():
            raise ReportError(f"{explicit}: no such templates directory")
        dirs.append(explicit)
    if project_root is not None and (project_root / PROJECT_TEMPLATES).is_dir():
        dirs.append(project_root / PROJECT_TEMPLATES)
    return dirs


def environment(overrides: Sequence[Path] = ()) -> SandboxedEnvironment:
    """The sandboxed Jinja environment: overrides first, then the package's templates."""
    loaders: list[BaseLoader] = [FileSystemLoader([str(d) for d in overrides])] if overrides else []
    env = SandboxedEnvironment(
        loader=ChoiceLoader([*loaders, _PackageLoader()]),
        undefined=StrictUndefined,
        autoescape=False,  # markdown, not HTML: the filters escape what needs escaping
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.filters.update(wording.FILTERS)
    return env
