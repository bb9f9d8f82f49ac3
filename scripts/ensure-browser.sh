#!/usr/bin/env bash
# Browser tests use Debian's Chromium (nothing can download a browser here) and Noto CJK so Chinese renders.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} with apt-get…"
SUDO=''
[ "$(id -u)" -eq 0 ] || SUDO='sudo'
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
