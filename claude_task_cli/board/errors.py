"""The board's domain errors, translated at the doors like every `TaskCliError`, and its exit
code for "nothing to claim"."""

from __future__ import annotations

from claude_task_cli.errors import ExitCode, TaskCliError

NOTHING_READY = 5  # `claim` / `work`: no ready task could be claimed (README "Exit codes")


class TransitionError(TaskCliError):
    """A move the rules refuse: `rule` names the rule (`transition`, `review`, `dependency`,
    `claim`), `blocker` what stands in the way. Exit code 2: nothing was changed."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, rule: str, blocker: str, where: str = "") -> None:
        self.rule = rule
        self.blocker = blocker
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}refused by the {rule} rule: {blocker}")

    def at(self, where: str) -> TransitionError:
        """The same refusal, saying which task it is about."""
        return TransitionError(self.rule, self.blocker, where)


class ClaimLostError(TaskCliError):
    """A write fenced by a claim token that no longer holds: the lease ended (or a person moved
    the task) and the task may have a new claimant; the write was refused, nothing changed."""

    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"{where}: the claim is no longer held (its lease ended or the task was moved); "
            "nothing was written"
        )
