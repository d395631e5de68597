#!/usr/bin/env bash
# The tree matches .clang-format: every C++ source and header of ours (generated code
# and build folders aside) is as clang-format would write it. On failure it lists the
# files and how to fix them.
# Usage: clang_format_check.sh SOURCE_ROOT
set -uo pipefail
root="$1"
command -v clang-format > /dev/null || { echo "FAIL: clang-format is not installed (tests/deps.sh installs it)"; exit 1; }
cd "$root" || exit 1
mapfile -t files < <(find base consensus crypto node tools tests \
  -path '*/build*' -prune -o \( -name '*.cc' -o -name '*.h' \) -print | sort)
[ "${#files[@]}" -gt 100 ] || { echo "FAIL: found only ${#files[@]} sources under $root"; exit 1; }
bad=()
for f in "${files[@]}"; do
  clang-format --style=file --dry-run -Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "FAIL: ${#bad[@]} of ${#files[@]} files differ from .clang-format:"
  printf '  %s\n' "${bad[@]}"
  echo "fix: clang-format -i ${bad[*]}"
  exit 1
fi
echo "clang-format: ${#files[@]} files match .clang-format"
