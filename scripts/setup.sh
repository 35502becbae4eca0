#!/usr/bin/env bash
# Installs the Debian packages the project needs. Idempotent: packages already present are skipped,
# and apt is only touched when something is missing. Needs root (or sudo) when it has to install.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  tao-pegtl-dev libboost-dev liblmdb-dev lmdb-utils nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev graphviz
  libsqlite3-dev sqlite3
  libssl-dev
  curl jq wrk slowhttptest
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
