#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A dry run changes nothing: `make -n TARGET` for each target given (default:
# the aggregate targets and every entry of BENCH_TARGETS) must leave every
# file of the tree outside build/ exactly as it was (names, sizes,
# modification times, contents of tracked files).  build/ is left out so
# the check holds while other targets build in parallel (make -j).  make runs recipe lines
# that name $(MAKE) even under -n; a line like that which also writes files
# is what this catches.
#   tests/dryrun/check.sh [TARGET...]
set -u
cd "$(dirname "$0")/../.."
snap() {
  find . \( -path ./.git -o -path ./build \) -prune -o -printf '%p %s %T@\n' | LC_ALL=C sort
  git ls-files -z | xargs -0 sha1sum 2>/dev/null
}
if [ $# -eq 0 ]; then
  set -- bench test demo fuzz $(make --no-print-directory -s print-bench-targets)
fi
before=$(snap)
fail=0
for t in "$@"; do
  if ! out=$(timeout 300 make -n "$t" 2>&1); then
    echo "dry-run: make -n $t failed:"; printf '%s\n' "$out" | tail -n 5
    fail=1
  fi
  after=$(snap)
  if [ "$after" != "$before" ]; then
    echo "dry-run: FAIL: make -n $t changed files:"
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20
    fail=1
    before=$after
  fi
done
[ $fail -eq 0 ] && echo "dry-run: make -n of $# targets changed nothing"
exit $fail
