#!/usr/bin/env bash
# Create .venv and install claude-task-cli with its development tools, and (when npm is on PATH)
# the pinned npm reference MCP servers the integration tests and the demo use (package-lock.json →
# node_modules/). Idempotent: quick and silent when nothing changed; otherwise it says what it is
# installing, roughly how long that takes, and how long it took. Used by demo.sh, test.sh, .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
say() { printf 'setup: %s\n' "$*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$python" --version 2>&1)"
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing claude-task-cli and its development tools into .venv (pip: about 1-2 minutes" \
      "the first time, less when pip's cache has them)"
  started=$SECONDS
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,postgres]'
  rm -f .venv/.installed-*
  touch "$stamp"
  say "installed in $((SECONDS - started)) s"
fi
if command -v npm >/dev/null 2>&1; then
  # npm ci starts from an empty node_modules/, so the stamp goes inside it
  npm_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$npm_stamp" ]; then
    say "installing the pinned npm reference MCP servers into node_modules/ (npm ci: about" \
        "30 s the first time)"
    started=$SECONDS
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch "$npm_stamp"
    say "installed in $((SECONDS - started)) s"
  fi
fi
