#!/usr/bin/env bash
# The showcase, end to end, through real MCP servers that install from PyPI or npm and run
# offline: the built-in command server, mcp-server-time, mcp-server-git (on a scratch repository
# the run creates) and, where Node.js is present, @modelcontextprotocol/server-filesystem.
#
#   docs/tasks/101_showcase_release.md      parallel waves, a dependency diamond, results feeding
#                                           later arguments, a flaky step retried, a step for a
#                                           person (the run pauses; recorded with --done; resumed)
#                                           and a final verification
#   docs/tasks/102_showcase_fix_and_rerun.md  an expect that fails, then passes after a fix
#   docs/tasks/103_showcase_files.md        the filesystem server (skipped without Node.js)
#
# Everything it writes goes under build/demo/ (ignored by Git): the state database, the converted
# graphs, the scratch repository and files, and the reports (build/demo/reports/). It never
# changes a tracked file, and checks that it did not. The sample reports committed in
# docs/reports/ are refreshed by scripts/refresh-sample-reports.sh, not by this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
claude=.venv/bin/claude-task
demo=build/demo
reports=$demo/reports
step() { printf '\n== %s\n' "$*"; }
expect_exit() {  # expect_exit CODE WHY -- COMMAND...: run it, fail the demo on another exit code
  local want=$1 why=$2 got=0
  shift 3
  "$@" || got=$?
  if [ "$got" -ne "$want" ]; then
    echo "demo: expected exit $want ($why), got $got: $*" >&2
    exit 1
  fi
}

tracked_before=$(git status --porcelain 2>/dev/null || true)
rm -rf "$demo"
mkdir -p "$demo/files"
export CLAUDE_TASK_STATE="$PWD/$demo/state.db"  # this demo's runs only, not the project's
documents=(docs/tasks/101_showcase_release.md docs/tasks/102_showcase_fix_and_rerun.md)
if command -v node >/dev/null 2>&1 \
  && [ -f node_modules/@modelcontextprotocol/server-filesystem/dist/index.js ]; then
  documents+=(docs/tasks/103_showcase_files.md)
else
  echo "demo: Node.js or the npm reference servers are missing: 103 (the filesystem server) is skipped"
fi

step "convert_task ${documents[*]} --check --servers   (every server, tool and argument checked)"
"$claude" convert_task "${documents[@]}" --check --servers
echo "no mistakes found"

step "convert_task ... -o $demo/graphs   (the JSON step graphs)"
"$claude" convert_task "${documents[@]}" -o "$demo/graphs" --quiet

step "convert_task docs/tasks/101_showcase_release.md --preview   (the waves: 1, then 2 3 5 at once)"
"$claude" convert_task docs/tasks/101_showcase_release.md --preview

step "execute_task 101   (pauses at 6.1, a step for a person: exit 3)"
expect_exit 3 "paused for the person's step" -- "$claude" execute_task 101

step "record_step 101 6.1 --done --note ...   (the person approved the release)"
"$claude" record_step 101 6.1 --done --note "read the commit; approved"

step "execute_task 101   (resumes: the final verification runs, the run completes)"
expect_exit 0 "completed" -- "$claude" execute_task 101

step "execute_task 102   (the version file still says 0.9.0: the check fails, exit 1)"
echo 0.9.0 >"$demo/VERSION"
expect_exit 1 "a failed check" -- "$claude" execute_task 102

step "the fix: the version is bumped to 1.0.0; execute_task 102 resumes and completes"
echo 1.0.0 >"$demo/VERSION"
expect_exit 0 "completed" -- "$claude" execute_task 102

if [ "${#documents[@]}" -eq 3 ]; then
  step "execute_task 103   (notes through the filesystem server)"
  expect_exit 0 "completed" -- "$claude" execute_task 103
fi

step "task_status 101   (the completion matrix: the final verification)"
"$claude" task_status 101

step "generate_report ... --out $reports   (every report, from the evidence just recorded)"
for document in "${documents[@]}"; do
  id=$(basename "$document" | cut -d_ -f1)
  "$claude" generate_report "$id" --out "$reports" --junit "$reports/$id.junit.xml"
done

if [ "$(git status --porcelain 2>/dev/null || true)" != "$tracked_before" ]; then
  echo "demo: the working tree changed (git status); it should not have" >&2
  exit 1
fi
step "done"
echo "Reports: $reports/ — start with $reports/101_final_summary.md"
echo "(the state of these runs: $demo/state.db; the scratch repository: $demo/repo)"
