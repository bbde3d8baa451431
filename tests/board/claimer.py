"""A claiming process for the race tests (not a test module): `python -m tests.board.claimer`.

drain URL WORKER CAP   claim until nothing is ready; after each claim, count the tasks in
                       progress in the claimed task's repository (CAP 0: no cap), then settle
                       it passed; print one JSON line: {"claimed": [ids], "over_cap": [...]}
hold URL WORKER LEASE  claim one task with a LEASE-second lease, print {"task": id}, wait for
                       a line on stdin, then settle it: print "settled" or "lost"
"""

from __future__ import annotations

import json
import sys
import time

from claude_task_cli.board import Board, ClaimLostError, Execution, Limits
from claude_task_cli.store.engines import parse_url


def drain(board: Board, worker: str, cap: int) -> None:
    limits = Limits(per_repository=cap or None)
    claimed: list[int] = []
    over: list[int] = []
    while True:
        got, _why = board.claim(worker, 60.0, limits)
        if got is None:
            break
        claimed.append(got.task.id)
        if cap:
            with board.db.transaction(write=False) as tx:
                held = tx.execute(
                    "SELECT COUNT(*) FROM board_tasks t JOIN board_documents d"
                    " ON d.id = t.document_id WHERE t.state = 'in_progress' AND d.repository = ?",
                    (got.task.repository,),
                ).fetchone()[0]
            if held > cap:
                over.append(held)
            time.sleep(0.002)  # hold the claim a moment, so that an excess would be seen
        board.settle(got, Execution("passed"))
    print(json.dumps({"claimed": claimed, "over_cap": over}), flush=True)


def hold(board: Board, worker: str, lease: float) -> None:
    got, why = board.claim(worker, lease)
    if got is None:
        print(json.dumps({"task": None, "why": why}), flush=True)
        return
    print(json.dumps({"task": got.task.id}), flush=True)
    sys.stdin.readline()
    try:
        board.settle(got, Execution("passed"))
        print("settled", flush=True)
    except ClaimLostError:
        print("lost", flush=True)


def main() -> None:
    mode, url, worker, number = sys.argv[1:5]
    with Board.open(parse_url(url)) as board:
        if mode == "drain":
            drain(board, worker, int(number))
        else:
            hold(board, worker, float(number))


if __name__ == "__main__":
    main()
