#!/usr/bin/env bash
# The Python client's tests (clients/python): a virtualenv in ~/.cache/membus/python-venv (made
# once, reused), the client installed editable with its test extras, then pytest against a real
# stack that the tests start with `membus start`. Part of `pnpm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${MEMBUS_PYTHON_VENV:-$HOME/.cache/membus/python-venv}
PYTHON=${PYTHON:-python3}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "python3 is missing: install Python 3.11+ (Debian/Ubuntu: sudo apt-get install python3 python3-venv)" >&2
  exit 1
fi
need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
make_venv() { "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 || { rm -rf "$VENV"; return 1; }; }
if [ ! -x "$VENV/bin/python" ] && ! make_venv; then
  # A fresh Debian/Ubuntu has python3 without its venv module: installed as dev.sh installs
  # nats-server.
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing python3-venv from the Debian packages" >&2
    need_root apt-get update -qq
    need_root apt-get install -y -qq python3-venv >/dev/null
  fi
  make_venv || {
    echo "python3 -m venv does not work: install it (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2
    exit 1
  }
fi
# Reinstalled when the package's requirements change, or the checkout: the install is editable,
# so the virtualenv imports the client from the checkout that installed it (a CI clone removed
# since would leave it importing nothing).
STAMP="$VENV/.membus-$( (pwd; cat clients/python/pyproject.toml) | sha256sum | cut -c1-16)"
if [ ! -e "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e 'clients/python[test]'
  rm -f "$VENV"/.membus-* && touch "$STAMP"
fi
(
  cd clients/python
  "$VENV/bin/ruff" check --quiet .
  "$VENV/bin/ruff" format --check --quiet .
  "$VENV/bin/mypy" --no-error-summary
)
exec "$VENV/bin/python" -m pytest clients/python -q "$@"
