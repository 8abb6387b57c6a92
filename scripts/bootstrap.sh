#!/usr/bin/env bash
# Creates the project's virtual environment with Python 3.11+ and installs the project
# with its development extras. Safe to run again: pip only adds what is missing.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

pick_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.11 or newer is required (apt-get install python3 python3-venv)" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  "$(pick_python)" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[dev]'
