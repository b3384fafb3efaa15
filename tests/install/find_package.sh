#!/usr/bin/env bash
# Install nabla from a build tree into a temporary prefix, then configure, build and run a CMake
# project that finds it with find_package(nabla) and links nabla::nabla and nabla::nabla_static.
set -euo pipefail
build=$1 src=$2 project=$3
shift 3 # the rest: arguments for the program
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$project" -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCONSUMER_SOURCE="$src" >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
"$prefix/consumer-build/consumer" "$@"
"$prefix/consumer-build/consumer_static" "$@"
