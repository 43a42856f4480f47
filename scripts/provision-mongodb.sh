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
# version.txt, `go build`. That needs Go >= 1.24 (FerretDB's go.mod): the `go` on PATH when it
# is recent enough, else a Go toolchain fetched once from the Go module proxy (module
# golang.org/toolchain, as `go` itself does with GOTOOLCHAIN) into the cache directory below.
# Needs curl or wget, and unzip or python3; nothing else.
set -euo pipefail

FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}
CACHE_DIR=${MEMBUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/membus}
BINARY="$CACHE_DIR/bin/ferretdb-$FERRETDB_VERSION"
GO_MIN_MINOR=24
GO_TOOLCHAIN_VERSION=${GO_TOOLCHAIN_VERSION:-1.24.5}

# True when `go` on PATH is Go 1.x with x >= GO_MIN_MINOR.
go_recent_enough() {
  command -v go >/dev/null 2>&1 || return 1
  local version minor
  version=$(go env GOVERSION 2>/dev/null) || return 1 # e.g. go1.19.8
  minor=$(echo "$version" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [ -n "$minor" ] && [ "$minor" -ge "$GO_MIN_MINOR" ]
}

# The first proxy of GOPROXY (what `go env GOPROXY` would use), default proxy.golang.org.
go_proxy() {
  local proxy
  for proxy in $(echo "${GOPROXY:-https://proxy.golang.org}" | tr ',|' '  '); do
    case "$proxy" in direct | off) ;; *) echo "${proxy%/}"; return ;; esac
  done
  echo "https://proxy.golang.org"
}

# Puts a Go >= 1.GO_MIN_MINOR first on PATH: the installed one, or the module proxy's toolchain
# zip (golang.org/toolchain@v0.0.1-goX.Y.Z.OS-ARCH) unpacked under CACHE_DIR/go.
ensure_go() {
  go_recent_enough && return
  local os arch module root zip url
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "provision-mongodb: no Go toolchain for $(uname -m); install Go >= 1.$GO_MIN_MINOR or set MONGODB_URI" >&2; exit 1 ;;
  esac
  module="v0.0.1-go$GO_TOOLCHAIN_VERSION.$os-$arch"
  root="$CACHE_DIR/go/golang.org/toolchain@$module"
  if [ ! -x "$root/bin/go" ]; then
    url="$(go_proxy)/golang.org/toolchain/@v/$module.zip"
    echo "provision-mongodb: Go >= 1.$GO_MIN_MINOR not on PATH ($(command -v go >/dev/null && go env GOVERSION || echo 'no go')); fetching go$GO_TOOLCHAIN_VERSION from $url (once)" >&2
    mkdir -p "$CACHE_DIR/go"
    zip="$CACHE_DIR/go/$module.zip.tmp"
    if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$zip" "$url"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$zip" "$url"
    else echo "provision-mongodb: needs curl or wget to fetch Go" >&2; exit 1; fi
    rm -rf "$root"
    if command -v unzip >/dev/null 2>&1; then unzip -q "$zip" -d "$CACHE_DIR/go"
    elif command -v python3 >/dev/null 2>&1; then
      python3 -m zipfile -e "$zip" "$CACHE_DIR/go"
      # zipfile drops the executable bits.
      chmod +x "$root/bin/"* "$root/pkg/tool/"*/*
    else echo "provision-mongodb: needs unzip or python3 to unpack Go" >&2; exit 1; fi
    rm -f "$zip"
  fi
  export PATH="$root/bin:$PATH" GOTOOLCHAIN=local
  echo "provision-mongodb: using $("$root/bin/go" env GOVERSION) from $root" >&2
}

build_ferretdb() {
  [ -x "$BINARY" ] && return
  ensure_go
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
