#!/bin/sh
# Installs the Debian 12 packages Concierge needs to build, test, fuzz and
# benchmark. Idempotent: packages already present are not touched, and when
# everything is there no package manager runs at all. Works as root or via sudo.
set -eu

PACKAGES="
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev clang-format
  libssl-dev openssl
  nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtss2-dev tpm2-tools swtpm swtpm-tools hyperfine python3
  python3-jwcrypto
  libsqlite3-dev libpq-dev postgresql libcpp-httplib-dev libre2-dev zlib1g-dev
"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: need root or sudo to install:$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
