#!/usr/bin/env bash
# Install nabla from a build tree into a temporary prefix, then build and run a program
# against it with pkg-config, as a user would.
set -euo pipefail
build=$1 src=$2
shift 2 # the rest: arguments for the program
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 "$src" $(pkg-config --cflags nabla) $(pkg-config --libs nabla) -lm -o "$prefix/consumer"
# no LD_LIBRARY_PATH: the .pc file's rpath finds libnabla wherever it was installed
env -u LD_LIBRARY_PATH "$prefix/consumer" "$@"
