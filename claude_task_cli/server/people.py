"""People through the protocol: a step for a person is asked through the client's elicitation.

When a run pauses on a step for a person (no tool, no commands: an `awaitingClient` pause) and
the connected client declared form elicitation, `execute_task` asks it — done or not done, a
note, and a value for each key later steps take from this step's result (`${step:3.1/approver}`
asks for `approver`; `${step:3.1}` for `value`). The answer is recorded as the step's outcome
(the facade's `record_step`, as an agent's would be) and the run goes on:

- done → the result `{"done": true, "note", <values>, "answeredBy"}`;
- not done → a failure, `not done: <note>`, which stands until a result is recorded;
- declined or cancelled → nothing is recorded: the step stays paused for the client, with the
  handoff, exactly as without elicitation. It is not asked again within the same call.

How the question travels depends on the protocol version: up to 2025-11-25 as an
`elicitation/create` request in the middle of the call; from 2026-07-28 (no server-to-client
requests) as an `InputRequiredResult`, the client answering by calling `execute_task` again with
the answers, which are recorded before the run resumes. `request_state` (sealed by the SDK)
carries which run and steps were asked, and the answers so far.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcp.server.elicitation import render_elicitation_schema
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, create_model

from claude_task_cli.outcomes import AwaitingClient, RunStatus

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.run.results import RunOutcome

_INPUT_REQUIRED = "2026-07-28"  # the first protocol whose tools/call asks through its result
_KEY = "step:"


class People:
    """The person (or agent) behind one `execute_task` call's client, when it can be asked."""

    def __init__(self, ctx: Context | None, doc: TaskDocument, task: str, state: Any) -> None:
        self.ctx, self.doc, self.task, self.state = ctx, doc, task, state
        self.asked: set[str] = set()
        self.answered: list[dict[str, Any]] = []
        self.run_id: int | None = None
        self.last: RunOutcome | None = None  # where the run stood after the latest answer
        if ctx is not None and ctx.request_state:
            try:
                carried = json.loads(ctx.request_state)
                self.run_id = carried["run"]
                self.asked = set(carried["asked"])
                self.answered = list(carried["answered"])
            except (ValueError, KeyError, TypeError):
                pass  # not ours: start afresh

    @property
    def finished(self) -> RunOutcome | None:
        """The run as the last answer left it, when that completed it (executing again would
        start a new run)."""
        if self.last is not None and self.last.run_status == RunStatus.COMPLETED:
            return self.last
        return None

    @property
    def can_ask(self) -> bool:
        """Whether the client declared form elicitation (a bare `elicitation: {}` counts)."""
        if self.ctx is None:
            return False
        capabilities = self.ctx.client_capabilities
        asks = capabilities.elicitation if capabilities is not None else None
        return asks is not None and (asks.form is not None or asks.url is None)

    @property
    def _in_results(self) -> bool:
        assert self.ctx is not None
        version = self.ctx.protocol_version
        return version is not None and is_version_at_least(version, _INPUT_REQUIRED)

    def waiting(self, outcome: RunOutcome) -> list[AwaitingClient]:
        """The steps for a person this run paused on that were not asked yet in this call."""
        if not self.can_ask or outcome.run_id is None:
            return []
        return [
            r
            for r in outcome.pause_reasons
            if isinstance(r, AwaitingClient) and r.blocked_step not in self.asked
        ]

    async def ask(self, outcome: RunOutcome) -> InputRequiredResult | bool:
        """Ask about each step `waiting` returns: as an `InputRequiredResult` to return (from
        2026-07-28), else one `elicitation/create` each, recording each answer. True when an
        answer was recorded (the run can go on)."""
        waiting = self.waiting(outcome)
        if not waiting:
            return False
        assert self.ctx is not None
        self.run_id = outcome.run_id
        if self._in_results:
            requests = {}
            for reason in waiting:
                self.asked.add(reason.blocked_step)
                message, form = self._question(reason)
                schema = render_elicitation_schema(form)
                requests[_KEY + reason.blocked_step] = ElicitRequest(
                    params=ElicitRequestFormParams(message=message, requested_schema=schema)
                )
            return InputRequiredResult(input_requests=requests, request_state=self._state())
        recorded = False
        for reason in waiting:
            self.asked.add(reason.blocked_step)
            message, form = self._question(reason)
            try:
                answer = await self.ctx.elicit(message, form)
            except ValueError:  # accepted with content that does not fit the form
                self._note(reason.blocked_step, "cancel", None)
                continue
            content = answer.data.model_dump() if answer.action == "accept" else None
            recorded = await self._record(reason.blocked_step, answer.action, content) or recorded
        return recorded

    async def record_answers(self) -> bool:
        """The answers a client sent back with this call (2026-07-28), recorded. True when one
        was recorded."""
        if self.ctx is None or not self.ctx.input_responses:
            return False
        recorded = False
        for key, answer in self.ctx.input_responses.items():
            step = key.removeprefix(_KEY)
            if not key.startswith(_KEY) or step not in self.asked:
                continue
            if not isinstance(answer, ElicitResult):
                continue
            content = answer.content if answer.action == "accept" else None
            recorded = await self._record(step, answer.action, content) or recorded
        return recorded

    def _question(self, reason: AwaitingClient) -> tuple[str, type[BaseModel]]:
        """The message and the form for one step."""
        fields: dict[str, Any] = {
            "done": (bool, Field(title="Done", description="Is this step done?")),
            "note": (str | None, Field(None, title="Note", description="Anything to record.")),
        }
        for key in self._values(reason.blocked_step):
            fields[key] = (str | None, Field(None, title=key, description="Used by later steps."))
        form: type[BaseModel] = create_model(f"Step{len(self.asked)}", **fields)
        message = (
            f"{self.doc.id}: a step for a person.\n{reason.guidance}\n\nIs it done? Answer, "
            "or decline to leave it for later."
        )
        return message, form

    def _values(self, step: str) -> list[str]:
        """The keys of `step`'s result that later steps use (`value`: the whole result)."""
        from claude_task_cli.convert.binding import iter_placeholders

        keys: list[str] = []
        for _task, other in self.doc.all_steps():
            if other.tool is None:
                continue
            for ref, path in iter_placeholders(other.tool.args):
                if ref == step:
                    keys.append(path.strip("/").split("/")[0] or "value")
        return [k for k in dict.fromkeys(keys) if k.isidentifier() and k not in ("done", "note")]

    async def _record(self, step: str, action: str, content: dict[str, Any] | None) -> bool:
        """Record an accepted answer as the step's outcome; note every answer."""
        import anyio.to_thread

        from claude_task_cli.operations import record_step

        if action != "accept" or content is None:
            self._note(step, action, None)
            return False
        try:
            done = bool(content.get("done"))
        except AttributeError:
            self._note(step, "cancel", None)
            return False
        who = self._who()
        note = content.get("note") or None
        if done:
            result = {**{k: v for k, v in content.items() if v is not None}, "answeredBy": who}
            outcome = await anyio.to_thread.run_sync(
                lambda: record_step(self.task, step, result=result, state=self.state)
            )
        else:
            failure = f"not done: {note}" if note else "not done"
            outcome = await anyio.to_thread.run_sync(
                lambda: record_step(
                    self.task, step, failure=f"{failure} (by {who})", state=self.state
                )
            )
        self.run_id, self.last = outcome.run_id, outcome
        self._note(step, "accept", "result" if done else "failure")
        return True

    def _note(self, step: str, action: str, recorded: str | None) -> None:
        self.answered.append(
            {"step": step, "action": action, "recorded": recorded, "answeredBy": self._who()}
        )

    def _who(self) -> str:
        """Who answered, as far as the protocol says: a person through the named client."""
        assert self.ctx is not None
        params = self.ctx.session.client_params
        info = params.client_info if params is not None else None
        client = f"{info.name} {info.version}" if info is not None else "the MCP client"
        return f"a person through {client} (elicitation)"

    def _state(self) -> str:
        return json.dumps(
            {"run": self.run_id, "asked": sorted(self.asked), "answered": self.answered},
            separators=(",", ":"),
        )
