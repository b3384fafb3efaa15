#!/usr/bin/env bash
# The README's "Using the installed library" lines work as written: install, then compile a
# program with pkg-config and run it with no LD_LIBRARY_PATH. The install prefix /usr/local is
# replaced by a temporary one (and PKG_CONFIG_PATH pointed there, as /usr/local's is searched by
# default); the configure-and-build part is the build tree the test suite already has.
set -euo pipefail
readme=$1 build=$2 src=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
block=$(awk '/^## Using the installed library/{s=1} s && /^```sh$/{on=1; next} on && /^```$/{exit} on' "$readme")
install_line=$(printf '%s\n' "$block" | grep -o 'cmake --install build --prefix /usr/local')
cc_line=$(printf '%s\n' "$block" | grep '^cc my_model.c')
[ -n "$install_line" ] && [ -n "$cc_line" ] || { echo "README lines not found"; exit 1; }
cd "$prefix"
cp "$src" my_model.c
eval "${install_line/--install build --prefix \/usr\/local/--install \"$build\" --prefix \"$prefix\"}" >/dev/null
export PKG_CONFIG_PATH=$(ls -d "$prefix"/lib*/pkgconfig | head -1)
eval "$cc_line"
env -u LD_LIBRARY_PATH ./my_model
