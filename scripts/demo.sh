#!/usr/bin/env bash
# Set up (if needed) and run the main job on the sample documents in docs/tasks/:
# convert each to its validated JSON step graph and preview what would run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
claude=.venv/bin/claude-task
echo "== convert_task docs/tasks/ -o build/graphs/"
"$claude" convert_task docs/tasks/ -o build/graphs/
echo
echo "== convert_task docs/tasks/ --preview"
"$claude" convert_task docs/tasks/ --preview --quiet
