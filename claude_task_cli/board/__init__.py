"""The task board: the orchestration spec's task lifecycle (states, transitions, guards, review),
import and re-import of task documents, the ready queue, atomic claims with leases and fencing,
and the audit trail — in the state database, on SQLite or PostgreSQL (`store/engines.py`).

`Board` (store.py) is what the facade and the doors use; `states.py` holds the rules as data,
`worker.py` the `work` loop (given how to execute a task), `quick.py` one-off tool calls.
docs/board.md documents it all.
"""

from claude_task_cli.board.claims import LEASE, Limits
from claude_task_cli.board.errors import NOTHING_READY, ClaimLostError, TransitionError
from claude_task_cli.board.importer import ImportOptions, ImportResult
from claude_task_cli.board.records import (
    BoardEvent,
    BoardTask,
    Claimed,
    board_json,
    default_actor,
    default_worker,
)
from claude_task_cli.board.settle import Execution
from claude_task_cli.board.states import ALLOWED, Policy, TaskState, parse_state
from claude_task_cli.board.store import Board

__all__ = [
    "ALLOWED",
    "LEASE",
    "NOTHING_READY",
    "Board",
    "BoardEvent",
    "BoardTask",
    "ClaimLostError",
    "Claimed",
    "Execution",
    "ImportOptions",
    "ImportResult",
    "Limits",
    "Policy",
    "TaskState",
    "TransitionError",
    "board_json",
    "default_actor",
    "default_worker",
    "parse_state",
]
