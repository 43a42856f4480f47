#!/usr/bin/env bash
# One entry point for a fresh machine: installs what is missing, then runs the stack or the tests.
#   bash scripts/dev.sh start   -> the local stack on embedded defaults, compiled first when the
#                                  sources changed since the last build (Ctrl-C stops it)
#   bash scripts/dev.sh test    -> lint, type check and every test (what CI runs)
#   bash scripts/dev.sh bench   -> the benchmark suite
#   bash scripts/dev.sh build   -> compile every package to dist/ (what the CLI and the image run)
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_nats_server() {
  command -v nats-server >/dev/null 2>&1 && return
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing nats-server from the Debian packages" >&2
    need_root apt-get update -qq
    need_root apt-get install -y -qq nats-server >/dev/null
  else
    echo "nats-server is missing: install it (https://docs.nats.io) or set NATS_URL" >&2
    exit 1
  fi
}

ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then return; fi
  echo "installing pnpm@$PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || need_root npm install -g "pnpm@$PNPM_VERSION" >/dev/null
}

# The install compiles native addons (better-sqlite3, the embedded index's graph addon) with
# node-gyp: a C++ compiler, make and Python.
ensure_compiler() {
  command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 && return
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing g++ and make from the Debian packages (the install compiles native addons)" >&2
    need_root apt-get update -qq
    need_root apt-get install -y -qq g++ make python3 >/dev/null
  else
    echo "a C++ compiler (g++) and make are missing: the install compiles native addons" >&2
    exit 1
  fi
}

ensure_deps() {
  ensure_compiler
  CI=true pnpm install --frozen-lockfile --prefer-offline
}

# `pnpm build` when dist/ is missing or older than the sources (tsc -b then compiles only what
# changed). A failed build leaves `membus start` on the sources through tsx, and it says so.
ensure_build() {
  node --input-type=module -e "import { buildState } from './packages/cli/bin/workspace.mjs';
    process.exit(buildState(process.cwd()).built ? 0 : 1)" && return
  echo "compiling the packages (pnpm build)" >&2
  pnpm build || echo "pnpm build failed: the stack runs from its TypeScript sources" >&2
}

command=${1:-}
shift || true
case "$command" in
  start) ensure_nats_server; ensure_pnpm; ensure_deps; ensure_build; exec pnpm start "$@" ;;
  # MongoDB-backed tests need MONGODB_URI: provision-mongodb.sh starts FerretDB for the run.
  test) ensure_nats_server; ensure_pnpm; ensure_deps; exec bash scripts/provision-mongodb.sh run pnpm test "$@" ;;
  bench) ensure_nats_server; ensure_pnpm; ensure_deps; exec pnpm bench "$@" ;;
  build) ensure_pnpm; ensure_deps; exec pnpm build "$@" ;;
  *) echo "usage: bash scripts/dev.sh start|test|bench|build" >&2; exit 2 ;;
esac
