#!/usr/bin/env bash
# The README's training-loop example compiles against the library and learns its weights.
set -euo pipefail
readme=$1 include=$2 lib=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/{on=1; next} /^```$/{if(on) exit} on' "$readme" > "$tmp/example.c"
cc -std=c11 -Wall -Wextra -Werror -I"$include" "$tmp/example.c" "$lib" \
   -lblis -lxxhash -lpng -lz -lm -fopenmp -o "$tmp/example"
out=$("$tmp/example")
echo "$out"
[ "$out" = "w = 2.000 -1.000 0.500" ]
