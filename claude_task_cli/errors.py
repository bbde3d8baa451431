"""Domain errors raised by the core and translated once, at the CLI and MCP boundaries.

Every error knows its exit code, so the boundary never has to guess. The core raises these;
it never prints and never exits.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Documented process exit codes (see README "Exit codes")."""

    OK = 0
    FAILED = 1  # a run finished with a failed step, or a report of an incomplete run
    INVALID_INPUT = 2  # bad document, bad path, bad option: nothing was run
    PAUSED = 3  # a run paused waiting for the client (an agent or a person)
    ENVIRONMENT = 4  # a server would not start, a config is missing, the store is locked
    INTERNAL = 70  # a bug: the traceback is in the log file
    INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT), 128 + 2 as shells report it
    STDOUT_CLOSED = 141  # the reader of stdout went away (`| head`), 128 + 13 (SIGPIPE)
    TERMINATED = 143  # stopped by SIGTERM, 128 + 15


class TaskCliError(Exception):
    """Base of every error the boundary knows how to report in one line."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def lines(self) -> list[str]:
        """The message, one line per problem."""
        return [str(self)]


class InputError(TaskCliError):
    """The input cannot be read as a task document at all (missing, empty, binary, ...)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class TaskSpecError(TaskCliError):
    """A problem at one line of a task document."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


class CycleError(TaskSpecError):
    """Dependencies that loop; `cycle` is the whole loop, first node repeated at the end."""

    def __init__(self, path: Path | str, line: int, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(path, line, "dependency cycle: " + " → ".join(cycle))


class TaskSpecErrors(TaskCliError):
    """Several problems found in one pass; the document is rejected as a whole."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, errors: list[TaskSpecError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.path, e.line, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))

    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]


class McpConfigError(TaskCliError):
    """A `.mcp.json` that cannot be used: unreadable, bad JSON, bad entry, unset variable,
    or a server name it does not declare."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        server: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.server = server
        self.message = message
        where = "" if self.path is None else self.path + (f":{line}" if line else "") + ": "
        who = "" if server is None else f"server {server!r}: "
        super().__init__(where + who + message)


class McpConfigMissingError(McpConfigError):
    """No `.mcp.json` where a document that calls servers looks for one: an environment error,
    like a server that does not start (the document itself may be fine)."""

    exit_code = ExitCode.ENVIRONMENT


class ServerStartError(TaskCliError):
    """An MCP server that would not start (or answer `initialize`); carries its stderr tail, and
    a `hint` (the install command) when what is missing is known."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(
        self,
        server: str,
        message: str,
        stderr_tail: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.server = server
        self.message = message
        self.stderr_tail = list(stderr_tail or [])
        self.hint = hint
        text = f"MCP server {server!r} failed to start: {message}"
        if self.stderr_tail:
            text += "\n" + "\n".join(f"  stderr: {line}" for line in self.stderr_tail)
        if hint is not None:
            text += f"\n  hint: {hint}"
        super().__init__(text)

    def lines(self) -> list[str]:
        return str(self).splitlines()


class StoreError(TaskCliError):
    """The state database cannot be used: unreadable, corrupt, or written by a newer release."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class RunLockedError(TaskCliError):
    """Another executor holds the claim on a run of this document (the atomic claim refused us).

    Exit code ENVIRONMENT: nothing is wrong with the input; wait for the other run or stop it.
    """

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, doc: str, run_id: int, holder: str) -> None:
        self.doc = doc
        self.run_id = run_id
        self.holder = holder
        super().__init__(
            f"{doc}: run {run_id} is being executed by {holder}; "
            "wait for it to finish (or stop it) and try again"
        )


class RunStoppedError(TaskCliError):
    """A run stopped by a signal: the steps it cut are recorded `interrupted`, the run is no
    longer running, its servers are closed."""

    def __init__(self, signal_name: str, exit_code: ExitCode) -> None:
        self.signal_name = signal_name
        self.exit_code = exit_code
        super().__init__(
            f"stopped by {signal_name}: a step cut while it ran is recorded interrupted; "
            "execute_task resumes the run (with --rerun-interrupted it runs those steps again)"
        )


class DocumentChangedError(TaskCliError):
    """The document changed since the run being resumed started; results would be mixed."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, doc: str, run_id: int, old_sha: str, new_sha: str) -> None:
        self.doc = doc
        self.run_id = run_id
        self.old_sha = old_sha
        self.new_sha = new_sha
        super().__init__(
            f"{doc}: changed since run {run_id} started (sha256 {old_sha[:12]} → {new_sha[:12]}); "
            "start a new run (--no-resume) or restore the document"
        )


class RunStateError(TaskCliError):
    """A request about run state that cannot be honoured: no run yet, an unknown step, a step
    outside the selection, a result for a step that already completed."""

    exit_code = ExitCode.INVALID_INPUT


class ReportError(TaskCliError):
    """A report that cannot be rendered or written: a broken template (override), an output
    path that would leave the output directory, an output directory that cannot be written."""

    exit_code = ExitCode.INVALID_INPUT


class OptionError(TaskCliError):
    """Command-line options that contradict each other (e.g. `--stdout` with `-o`)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class OutputError(TaskCliError):
    """An output that cannot be written (a missing or read-only directory, a full disk, a file
    where a directory is needed). Exit code ENVIRONMENT: the input itself is fine."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")
