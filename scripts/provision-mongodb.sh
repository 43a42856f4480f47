#!/usr/bin/env bash
# A real MongoDB-protocol server for the tests, without Docker: FerretDB v1 on its SQLite
# backend, built once from the Go module proxy.
#   bash scripts/provision-mongodb.sh run <command...>  -> start FerretDB on a free port in a temp
#        dir, run the command with MONGODB_URI exported, stop FerretDB, exit with the command's code
#        (when MONGODB_URI is already set, just runs the command against it)
#   bash scripts/provision-mongodb.sh build             -> build the binary if missing, print its path
#
# Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@vX`: the proxy refuses the module's
# version list (go install reads it for deprecation notices), and a binary built that way panics at
# start because the module zip lacks build/version/version.txt. So: download the module zip, write
# version.txt, `go build`. Needs Go >= 1.24 (FerretDB's go.mod) on PATH.
set -euo pipefail

FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}
CACHE_DIR=${MEMBUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/membus}
BINARY="$CACHE_DIR/bin/ferretdb-$FERRETDB_VERSION"

build_ferretdb() {
  [ -x "$BINARY" ] && return
  if ! command -v go >/dev/null 2>&1; then
    echo "provision-mongodb: Go >= 1.24 is needed to build FerretDB $FERRETDB_VERSION (https://go.dev/dl)," >&2
    echo "  or set MONGODB_URI to a running MongoDB-protocol server" >&2
    exit 1
  fi
  echo "provision-mongodb: building FerretDB $FERRETDB_VERSION (once; ~1.5 min on 2 cores)" >&2
  local module work
  module=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const m=JSON.parse(s);if(m.Error){console.error(m.Error);process.exit(1)}console.log(m.Dir)})')
  work=$(mktemp -d)
  cp -r "$module/." "$work/"
  chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  mkdir -p "$(dirname "$BINARY")"
  (cd "$work" && GOFLAGS=-buildvcs=false go build -trimpath -o "$BINARY.tmp" ./cmd/ferretdb)
  mv "$BINARY.tmp" "$BINARY"
  rm -rf "$work"
}

free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts FerretDB and sets FERRETDB_PID, FERRETDB_DIR, MONGODB_URI.
start_ferretdb() {
  FERRETDB_DIR=$(mktemp -d -t membus-ferretdb-XXXXXX)
  mkdir -p "$FERRETDB_DIR/data"
  local port
  port=$(free_port)
  "$BINARY" --handler=sqlite --sqlite-url="file:$FERRETDB_DIR/data/" \
    --listen-addr="127.0.0.1:$port" --state-dir="$FERRETDB_DIR" --debug-addr=- \
    --telemetry=disable --log-level=error >"$FERRETDB_DIR/ferretdb.log" 2>&1 &
  FERRETDB_PID=$!
  local deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$FERRETDB_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "provision-mongodb: FerretDB did not start; its log:" >&2
      cat "$FERRETDB_DIR/ferretdb.log" >&2
      stop_ferretdb
      exit 1
    fi
    sleep 0.1
  done
  export MONGODB_URI="mongodb://127.0.0.1:$port/"
  echo "provision-mongodb: FerretDB $FERRETDB_VERSION (SQLite backend) at $MONGODB_URI" >&2
}

stop_ferretdb() {
  if [ -n "${FERRETDB_PID:-}" ]; then
    kill "$FERRETDB_PID" 2>/dev/null || true
    wait "$FERRETDB_PID" 2>/dev/null || true
    FERRETDB_PID=
  fi
  [ -n "${FERRETDB_DIR:-}" ] && rm -rf "$FERRETDB_DIR"
  FERRETDB_DIR=
}

command=${1:-}
shift || true
case "$command" in
  build)
    build_ferretdb
    echo "$BINARY"
    ;;
  run)
    [ "$#" -gt 0 ] || { echo "usage: provision-mongodb.sh run <command...>" >&2; exit 2; }
    if [ -n "${MONGODB_URI:-}" ]; then
      echo "provision-mongodb: using MONGODB_URI from the environment" >&2
      exec "$@"
    fi
    build_ferretdb
    trap stop_ferretdb EXIT
    trap 'exit 130' INT TERM
    start_ferretdb
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: bash scripts/provision-mongodb.sh run <command...> | build" >&2
    exit 2
    ;;
esac
