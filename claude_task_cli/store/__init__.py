"""The state store: every run, step attempt and event, durable in one database — a SQLite file, or
a PostgreSQL server that several machines share (`engines.py`, `urls.py`).

What the stages above use: `Store` (open it on a SQLite file's path or a `DatabaseUrl`;
`urls.state_location` says where a project's is), `Claim` (who executes a run), `document_key`
(how a document's runs are found), and the records it reads back — `RunRecord`, `AttemptRecord`,
`StepState` (a step's attempts folded), `Event` — with `fold_by_step` to fold attempts the same
way.
"""

from claude_task_cli.project import default_state_path
from claude_task_cli.store.claims import Claim, document_key
from claude_task_cli.store.database import APPLY_AFTER, Store
from claude_task_cli.store.records import (
    AttemptRecord,
    Event,
    RunRecord,
    StepState,
    fold,
    fold_by_step,
)
from claude_task_cli.store.schema import SCHEMA_VERSION

__all__ = [
    "APPLY_AFTER",
    "SCHEMA_VERSION",
    "AttemptRecord",
    "Claim",
    "Event",
    "RunRecord",
    "StepState",
    "Store",
    "default_state_path",
    "document_key",
    "fold",
    "fold_by_step",
]
