#!/usr/bin/env bash
# The library's layers run one way: no file of a lower layer includes a higher layer's header or
# calls a function defined in a higher layer. Checked by includes (source tree) and by symbols
# (the object files of a build: every nb_/nbi_ symbol an object of layer L uses must be defined
# in layer L or below).
#   tests/arch/layering.sh SRC_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
layers=(autograd ops io data nn report optim unsup dist) # lowest first; include/ below them all
optional=" dist " # built only when its dependency (Open MPI) is found
fail=0

# 1. includes: "dir/..." includes of a higher layer's folder; nn/ and optim/ see include/ only
for ((i = 0; i < ${#layers[@]}; i++)); do
  lower=${layers[$i]}
  for ((j = i + 1; j < ${#layers[@]}; j++)); do
    higher=${layers[$j]}
    if grep -nE "^#include \"$higher/" "$src/$lower"/*.[ch] 2>/dev/null; then
      echo "layering: $lower/ includes $higher/ (above it)"; fail=1
    fi
  done
done
for upper in io nn data report optim unsup dist; do
  if grep -nE '^#include "(autograd|ops)/' "$src/$upper"/*.[ch] 2>/dev/null; then
    echo "layering: $upper/ includes an internal header (it may use include/ only)"; fail=1
  fi
done

# 2. symbols: what each layer defines and uses. Objects are those of sources that still exist
# (a build tree keeps the object of a file since moved or deleted).
objects() { # layer -> its object files
  local dir="$build/CMakeFiles/nabla_$1.dir" o rel
  find "$dir" -name '*.c.o' | sort | while read -r o; do
    rel=${o#"$dir"/}
    [ -f "$src/${rel%.o}" ] && echo "$o"
  done
}
declare -A defined_in
for ((i = 0; i < ${#layers[@]}; i++)); do
  objdir="$build/CMakeFiles/nabla_${layers[$i]}.dir"
  if [ ! -d "$objdir" ]; then
    [[ "$optional" == *" ${layers[$i]} "* ]] && continue
    echo "layering: no objects for ${layers[$i]} in $objdir"; exit 1
  fi
  while read -r sym; do defined_in[$sym]=$i; done < <(objects "${layers[$i]}" |
    xargs nm --defined-only | awk '$2 ~ /^[TDBR]$/ && $3 ~ /^nbi?_/ {print $3}' | sort -u)
done
for ((i = 0; i < ${#layers[@]}; i++)); do
  objdir="$build/CMakeFiles/nabla_${layers[$i]}.dir"
  [ -d "$objdir" ] || continue
  while read -r obj; do
    while read -r sym; do
      j=${defined_in[$sym]:-}
      if [ -n "$j" ] && [ "$j" -gt "$i" ]; then
        echo "layering: ${obj#"$objdir"/} (${layers[$i]}) calls $sym, defined in ${layers[$j]}/"
        fail=1
      fi
    done < <(nm -u "$obj" | awk '$2 ~ /^nbi?_/ {print $2}')
  done < <(objects "${layers[$i]}")
done
[ "$fail" -eq 0 ] && echo "layering: ${layers[*]} run one way"
exit "$fail"
