#!/usr/bin/env bash
# Refresh the sample reports committed in docs/reports/ from a real run of the showcase, so that a
# reader on GitHub sees the reports of a real run: runs scripts/demo.sh (which writes only under
# build/demo/), then renders the reports of those runs into docs/reports/, replacing the earlier
# ones. Needs Node.js (document 103 runs on the npm filesystem server). Review the diff, commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  echo "refresh-sample-reports: needs Node.js (document 103 runs on the npm filesystem server)" >&2
  exit 1
fi
bash scripts/demo.sh
export CLAUDE_TASK_STATE="$PWD/build/demo/state.db"
# the reports of documents the showcase no longer runs go too; README.md stays
find docs/reports -maxdepth 1 -name '*.md' ! -name README.md -delete
for id in 101 102 103; do
  .venv/bin/claude-task generate_report "$id" --out docs/reports
done
printf '\nrefreshed docs/reports/ from the runs in build/demo/state.db; review: git diff --stat docs/reports\n'
