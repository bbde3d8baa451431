"""What the executor, as an MCP client, offers the servers its steps call, and how it answers them.

Declared on every session (`initialize`'s client capabilities), so that servers show the tools
that need them:

- **roots** — the project root, as a `file://` URI (`roots/list`): a server that works on files
  (the reference filesystem server, started without directories) works inside the project. An
  entry's own `roots` in `.mcp.json` replaces it; `[]` declares no roots to that server.
- **elicitation** (form and URL) — a question for a person, asked by a server while one of the
  run's calls is in flight. Given an `Asker` (the CLI's, when stdin and stderr are terminals), the
  person answers it there; an answer is checked against the form's schema before it is sent.
  Without one, the question is declined, and each call in flight to that server at the time
  carries it back (`CallWatch`): the executor pauses the step with a `questionDeclined` reason
  holding the question, so the handoff shows it. The protocol does not say which call a server's
  question is about: with one call in flight to that server (the common case; always with
  `--per-server 1`) it is exact; with several, each of them pauses with it, and says so
  (`callsInFlight`): a wrong pause costs the person a look, a missed one would lose the question.
- Not declared: **sampling** (the executor has no model to ask).

Progress notifications need nothing declared: a call that is given a progress sink sends a
progress token (`sessions.ServerPool.call`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mcp.client.session import ClientRequestContext
    from mcp_types import ElicitRequestParams, ElicitResult, ErrorData, ListRootsResult

Action = Literal["accept", "decline", "cancel"]


@dataclass(frozen=True, slots=True)
class Question:
    """A server's elicitation request: `message`, and either the form it wants filled
    (`schema`: a flat JSON Schema object of strings, numbers, booleans and enums) or a `url`
    for the person to visit."""

    server: str
    message: str
    schema: dict[str, Any] | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A person's answer: `accept` with the form's `content` (none for a URL), or `decline` /
    `cancel`."""

    action: Action
    content: dict[str, Any] | None = None


Asker = Callable[[Question], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class ClientSide:
    """What a run's sessions offer their servers: the `roots` (the project root) and who answers
    their questions (`ask`; None: nobody, so each question is declined)."""

    roots: tuple[Path, ...] = ()
    ask: Asker | None = None


@dataclass(slots=True, eq=False)  # each one itself: kept in a set while its call is in flight
class CallWatch:
    """One call in flight: the questions declined while it ran, each with how many calls to
    that server were in flight then (this one included)."""

    declined: list[tuple[Question, int]] = field(default_factory=list)


class Handlers:
    """The session callbacks of one server's connection."""

    def __init__(
        self,
        server: str,
        client: ClientSide,
        in_flight: set[CallWatch],
        roots: list[Path] | None = None,
    ) -> None:
        """`roots`: the server's own, from its `.mcp.json` entry (None: the client's)."""
        self.server = server
        self.client = client
        self.in_flight = in_flight
        self.roots = tuple(client.roots if roots is None else roots)

    def callbacks(self) -> dict[str, Any]:
        """The `ClientSession` keyword arguments that declare and answer elicitation, and roots
        when there are any to offer."""
        given: dict[str, Any] = {"elicitation_callback": self.elicit}
        if self.roots:
            given["list_roots_callback"] = self.list_roots
        return given

    async def list_roots(self, context: ClientRequestContext) -> ListRootsResult:
        from mcp_types import ListRootsResult, Root

        roots = [
            Root.model_validate({"uri": root.as_uri(), "name": root.name}) for root in self.roots
        ]
        return ListRootsResult(roots=roots)

    async def elicit(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult | ErrorData:
        from loguru import logger
        from mcp_types import ElicitRequestURLParams, ElicitResult

        if isinstance(params, ElicitRequestURLParams):
            question = Question(self.server, params.message, url=params.url)
        else:
            question = Question(self.server, params.message, schema=params.requested_schema)
        if self.client.ask is None:
            for watch in self.in_flight:
                watch.declined.append((question, len(self.in_flight)))
            logger.debug(f"MCP server {self.server!r} asked a person, with no one to answer: "
                         f"declined: {question.message!r}")  # fmt: skip
            return ElicitResult(action="decline")
        answer = await self.client.ask(question)
        if answer.action == "accept" and question.schema is not None:
            problem = form_problem(question.schema, answer.content or {})
            if problem is not None:  # an asker's bug: nothing a server should receive
                logger.warning(f"an answer to {self.server!r} does not fit its form ({problem}): "
                               "cancelled")  # fmt: skip
                return ElicitResult(action="cancel")
        content = answer.content if answer.action == "accept" and question.url is None else None
        return ElicitResult(action=answer.action, content=content)


def form_problem(schema: dict[str, Any], content: dict[str, Any]) -> str | None:
    """Why `content` does not fit the form `schema` (None when it does)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(content))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
