#!/usr/bin/env bash
# Create .venv and install claude-task-cli with its development tools, and (when npm is on PATH)
# the pinned npm reference MCP servers the integration tests use (package-lock.json →
# node_modules/). Idempotent, quick when nothing changed. Used by demo.sh, test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,postgres]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if command -v npm >/dev/null 2>&1; then
  # npm ci starts from an empty node_modules/, so the stamp goes inside it
  npm_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$npm_stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch "$npm_stamp"
  fi
fi
