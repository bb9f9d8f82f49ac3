#!/usr/bin/env bash
# Cluster-mode tests run their own throwaway Redis and PostgreSQL servers, and the local cluster puts
# nginx in front: this installs Debian's packages when a binary is missing. The packaged services are
# not started (tests and scripts never use them, and they would hold ports 6379, 5432 and 80).
set -euo pipefail
need=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} with apt-get…"
SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "need root for: apt-get install ${need[*]} (no sudo here)" >&2
    exit 1
  }
  SUDO='sudo'
fi
# policy-rc.d answering 101 tells the packages' scripts not to start their services (Debian's own switch).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
# env: sudo drops the caller's environment.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
