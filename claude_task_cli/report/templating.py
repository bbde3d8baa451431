"""The Jinja environment reports render in: sandboxed, strict, and compiled for speed.

Templates are package data (`claude_task_cli/report/templates/*.j2`, read with
`importlib.resources`, so a wheel install works); a project's top-level `templates/` directory,
and before it an explicit `--templates DIR`, override them file by file.
Jinja runs sandboxed with undefined names as
errors; whatever a document or a tool said is passed as data and escaped by the filters of
`markdown_escape`, never compiled as a template. The code generator (`_ReportCode`) reads the
report's own data types without a Python call per attribute and yields each output node joined:
the 2,000 task reports of a 10,000-step run make ~700,000 attribute reads and ~750,000 pieces.

Compiling the three templates costs ~60 ms, in every process that renders, so compiled templates
are kept between processes by jinja2's file-system bytecode cache, in its per-user directory (under
the system temp directory, owned by the user, mode 0700; never in the project, where a cloned
repository could bring compiled code that bypasses the sandbox). A file is keyed by its template's
name and source checksum, and its pattern by this release's fingerprint and jinja2's version, so a
change to a template, to the code generator or to jinja2 compiles again. A cache that cannot be
used only costs the compilation.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path

import jinja2
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, StrictUndefined, nodes
from jinja2 import Environment as _Environment
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace

from claude_task_cli.convert import model
from claude_task_cli.errors import ReportError
from claude_task_cli.report.evidence import (
    AttemptEvidence,
    CheckEvidence,
    CommandEvidence,
    RunEvidence,
    StepEvidence,
)
from claude_task_cli.report.markdown_escape import FILTERS
from claude_task_cli.report.matrix import Matrix, StepRow, TaskRow
from claude_task_cli.report.outline import fingerprint
from claude_task_cli.report.views import Item, Link, StepView, TaskView

PROJECT_TEMPLATES = "templates"
_TRUSTED = frozenset(
    {
        *(StepView, TaskView, Item, Link, Matrix, StepRow, TaskRow),
        *(RunEvidence, StepEvidence, CheckEvidence, CommandEvidence, AttemptEvidence),
        *(model.TaskDocument, model.Task, model.Step, model.ListItem, model.StatusInfo),
        *(model.Source, model.Section, model.UsageRow, model.Warning, model.Command),
        *(model.ToolBinding, model.Expectation, model.ReportRequirements),
        Namespace,  # jinja2's own `namespace()`, which guards its internals itself
    }
)


class _PackageLoader(BaseLoader):
    """The templates shipped in the package, through importlib.resources."""

    def get_source(
        self, environment: _Environment, template: str
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


class _ReportCode(CodeGenerator):
    """jinja2's code generator with two changes for rendering 10,000-step reports.

    It compiles `obj.name` to an inline attribute read when `obj` is one of the report's own
    types (`_TRUSTED`), and to jinja2's sandboxed `environment.getattr` otherwise.

    For an instance of those exact types jinja2's sandbox checks come down to refusing names
    that start with `_`: `is_internal_attribute` only looks further into functions, methods,
    types, code objects, frames and generators, and `wrap_str_format` only into `str.format`.
    A name starting with `_` is compiled to the sandboxed path, whatever the object; any other
    is read inline only after `type(obj) in environment.trusted_types` (exact types, no
    subclasses), else it takes the sandboxed path too, as does a name the object lacks (for
    the strict undefined error). A 10,000-step report reads ~700,000 attributes: through
    `environment.getattr`, a Python call each, that was a third of its rendering.
    """

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async or node.attr.startswith("_"):
            super().visit_Getattr(node, frame)
            return
        obj, value, name = self.temporary_identifier(), self.temporary_identifier(), node.attr
        # (v if (v := (getattr(o, n, missing) if type(o := OBJ) in trusted else missing))
        #  is not missing else environment.getattr(o, n))
        self.write(f"({value} if ({value} := (getattr({obj}, {name!r}, missing) if type({obj} := ")
        self.visit(node.node, frame)
        self.write(
            f") in environment.trusted_types else missing)) is not missing"
            f" else environment.getattr({obj}, {name!r}))"
        )

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """One `yield` per output node (its pieces joined) rather than one per piece: a table
        row is ~15 pieces, and a generator's resumption costs more than a join. Jinja's own
        buffered form, pointed at a join: `yield environment.output.extend((a, str(b), …))`."""
        if frame.buffer is not None or self.environment.is_async:
            super().visit_Output(node, frame)
            return
        frame.buffer = "yield environment.output"
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None


class _Joined:
    """What a compiled output node yields through (`_ReportCode.visit_Output`)."""

    extend = staticmethod("".join)

    @staticmethod
    def append(piece: str) -> str:
        return piece


class _Sandbox(SandboxedEnvironment):
    """jinja2's sandbox, with attribute reads of the report's own data types compiled inline
    (`_ReportCode`); everything else takes jinja2's full path."""

    code_generator_class = _ReportCode
    trusted_types = _TRUSTED
    output = _Joined


def environment(overrides: Sequence[Path] = ()) -> SandboxedEnvironment:
    """The sandboxed Jinja environment: overrides first, then the package's templates."""
    loaders: list[BaseLoader] = [FileSystemLoader([str(d) for d in overrides])] if overrides else []
    env = _Sandbox(
        loader=ChoiceLoader([*loaders, _PackageLoader()]),
        undefined=StrictUndefined,
        autoescape=False,  # markdown, not HTML: the filters escape what needs escaping
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(FILTERS)
    return env


class _KeptTemplates(FileSystemBytecodeCache):
    """jinja2's file-system bytecode cache, where a file that cannot be read or written (or is
    damaged) is a miss, and a miss removes the files of other releases."""

    def __init__(self, tag: str) -> None:
        super().__init__(pattern=f"{_PREFIX}{tag}-%s.cache")
        self.tag = tag

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)
            for old in Path(self.directory).glob(f"{_PREFIX}*.cache"):
                if not old.name.startswith(f"{_PREFIX}{self.tag}-"):
                    old.unlink(missing_ok=True)


_PREFIX = "claude-task-"


def _bytecode_cache() -> BytecodeCache | None:
    tag = hashlib.sha256(f"{fingerprint()}:{jinja2.__version__}".encode()).hexdigest()[:16]
    try:
        return _KeptTemplates(tag)
    except (OSError, RuntimeError):  # no private temporary directory to be had
        return None
