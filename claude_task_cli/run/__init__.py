"""The run stage: executing a document's step graph through MCP tool calls, durably.

What the facade uses: `run_document` (execute or resume, as `RunOptions` say) and its
`RunOutcome`; `status_of` and `record_step_result` (a run read back, a step done outside);
`handoff` (what was done and what remains); `record_json` (these records as the JSON the doors
return); `open_store` (a document's state database).
"""

from claude_task_cli.run.continuation import record_step_result, status_of
from claude_task_cli.run.handoff import Handoff, handoff
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import RunOutcome, StepResult, record_json
from claude_task_cli.run.runner import open_store, run_document

__all__ = [
    "Handoff",
    "RunOptions",
    "RunOutcome",
    "StepResult",
    "handoff",
    "open_store",
    "record_json",
    "record_step_result",
    "run_document",
    "status_of",
]
