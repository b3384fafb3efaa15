#!/usr/bin/env bash
# Install the Debian packages nabla needs, if any is missing (needs root or sudo).
set -euo pipefail
pkgs=(cmake make gcc pkg-config libblis-dev libxxhash-dev libcmocka-dev zlib1g-dev libpng-dev libopenmpi-dev openmpi-bin
      dataset-fashion-mnist clang-format)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
