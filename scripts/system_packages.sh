#!/usr/bin/env bash
# Installs the system packages `make test` needs (Debian's Chromium for the browser tests, Node.js and npm
# for the official JavaScript SDK's tests), or stops at once with the exact command to run.
# Called by `make test` before anything else, so a fresh machine never fails halfway through the suite.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"   # the browser tests drive this path (tests/browser/conftest.py)
need=()
test -x "$CHROMIUM" || need+=(chromium fonts-wqy-microhei)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${need[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages for the tests: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
echo "make test needs these system packages: ${need[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "Install them first, as root:  sudo sh -c '$cmd'" >&2
else
  echo "Install Chromium (as /usr/bin/chromium), Node.js and npm with your system's package manager." >&2
fi
exit 2
