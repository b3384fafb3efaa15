#!/usr/bin/env bash
# Install the Debian packages nabla needs, if any is missing (needs root or sudo): the build
# and test dependencies (libjansson-dev: the profiler test parses its JSON trace), clang-format
# for the format check, and clang with libFuzzer's runtime (libclang-rt-dev, compiler-rt of
# Debian's default clang) for scripts/fuzz.sh.
set -euo pipefail
pkgs=(cmake make gcc pkg-config libblis-dev libxxhash-dev libcmocka-dev zlib1g-dev libpng-dev
      libopenmpi-dev openmpi-bin dataset-fashion-mnist clang-format clang libclang-rt-dev
      libjansson-dev)
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
