#!/usr/bin/env bash
# Set up (if needed) and run the main job on the sample documents in docs/tasks/:
# convert them, execute the executable sample through real MCP servers (mcp-server-time and the
# built-in command server, declared in .mcp.json), hand the one manual step to "the client",
# record it, and show the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
claude=.venv/bin/claude-task
step() { printf '\n== %s\n' "$*"; }

step "convert_task docs/tasks/ -o build/graphs/"
"$claude" convert_task docs/tasks/ -o build/graphs/ --quiet

step "convert_task docs/tasks/ --preview"
"$claude" convert_task docs/tasks/ --preview --quiet

step "execute_task 010 --dry-run"
"$claude" execute_task 010 --dry-run

step "execute_task 010 --no-resume   (exit 3: paused, one step needs a person)"
status=0
"$claude" execute_task 010 --no-resume || status=$?
[ "$status" -eq 3 ] || { echo "expected exit 3 (paused), got $status" >&2; exit 1; }

step "record_step 010 3.1 --result '{\"confirmed\": true}'"
"$claude" record_step 010 3.1 --result '{"confirmed": true}'

step "task_status 010"
"$claude" task_status 010

step "generate_report 010   (docs/reports/010_*.md, from the run just recorded)"
"$claude" generate_report 010
