#!/usr/bin/env bash
# The Python examples' test runs them with Debian's interpreter and its python3-websockets package.
set -euo pipefail
/usr/bin/python3 -c 'import websockets' 2>/dev/null && exit 0
echo "installing python3-websockets with apt-get…"
SUDO=''
[ "$(id -u)" -eq 0 ] || SUDO='sudo'
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3 python3-websockets >/dev/null
