"""The completion matrix as compact JSON (`task_status --json`), fast.

The text is exactly `json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))`;
`tests/test_matrix_json.py` checks that on real runs and on generated rows. It is built row by row
because json's C encoder spends most of its time on dictionaries: a 10,000-step matrix is 12,000
of them with ~175,000 keys, ~51 ms through `to_dict()` and `json.dumps`, about twice this. Each
row is one f-string of constant keys and its values: strings through json's own C string encoder,
numbers through `repr` (json's text for an `int` and a finite `float`). A row holding anything
else (a `bool` where an int belongs, a NaN, a value that is not a string where one belongs) is
encoded by json itself. A step's pause reason (a small mapping, on failed and paused rows only) is
encoded by the same encoder `json.dumps` uses, so its text is the same by construction.
"""

from __future__ import annotations

import json
from dataclasses import fields
from json.encoder import encode_basestring

from claude_task_cli.report.matrix import Matrix, StepRow, TaskRow

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_str = encode_basestring  # a str (a StrEnum too) as a JSON string, in C; TypeError for others
_HEAD = tuple(f.name for f in fields(Matrix) if f.name not in ("tasks", "steps"))


def matrix_json(matrix: Matrix) -> str:
    """`matrix.to_dict()` as compact JSON, non-ASCII kept (see the module docstring)."""
    head = {name: getattr(matrix, name) for name in _HEAD}
    # tasks and steps are the matrix's last two fields: the head's text, less its closing brace
    return "".join(
        (
            _encode(head)[:-1],
            ',"tasks":[',
            ",".join([_task(t) for t in matrix.tasks]),
            '],"steps":[',
            ",".join([_step(s) for s in matrix.steps]),
            "]}",
        )
    )


def _number(value: float | None) -> str | None:
    """json's text for None or a finite float; None for anything else."""
    if value is None:
        return "null"
    if type(value) is float and value - value == 0:  # json writes NaN and Infinity its own way
        return repr(value)
    return None


def _strings(values: tuple[str, ...]) -> str:
    return "[" + ",".join([_str(v) for v in values]) + "]" if values else "[]"


def _step(r: StepRow) -> str:
    (uid, task_id, title, kind, tool, server, state, completion, failure, blocked_by,
     attempts, duration_ms, passed, failed, source, reason) = r  # fmt: skip
    took = _number(duration_ms)
    if took is not None and type(attempts) is int and type(passed) is int and type(failed) is int:
        try:
            return (
                f'{{"id":{_str(uid)},"task_id":{_str(task_id)},"title":{_str(title)},'
                f'"kind":{_str(kind)},"tool":{"null" if tool is None else _str(tool)},'
                f'"server":{"null" if server is None else _str(server)},'
                f'"state":{_str(state)},"completion":{_str(completion)},'
                f'"failure":{"null" if failure is None else _str(failure)},'
                f'"blocked_by":{_strings(blocked_by)},"attempts":{attempts!r},'
                f'"duration_ms":{took},"checks_passed":{passed!r},"checks_failed":{failed!r},'
                f'"source":{"null" if source is None else _str(source)},'
                f'"pause_reason":{"null" if reason is None else _encode(reason)}}}'
            )
        except TypeError:  # a value that is not a string where one belongs
            pass
    return _encode(r._asdict())


def _task(r: TaskRow) -> str:
    (tid, title, state, completion, total, done, percent, failures, blocked_by,
     duration_ms) = r  # fmt: skip
    took, share = _number(duration_ms), _number(percent)
    if took is not None and share is not None and type(total) is int and type(done) is int:
        try:
            return (
                f'{{"id":{_str(tid)},"title":{_str(title)},"state":{_str(state)},'
                f'"completion":{_str(completion)},"steps_total":{total!r},'
                f'"steps_complete":{done!r},"percent":{share},'
                f'"failures":{_strings(failures)},"blocked_by":{_strings(blocked_by)},'
                f'"duration_ms":{took}}}'
            )
        except TypeError:
            pass
    return _encode(r._asdict())
