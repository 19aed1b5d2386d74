#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run one libFuzzer target for a bounded time: tests/fuzz/run_fuzz.sh BIN NAME SECONDS OUTDIR
#
#   OUTDIR/corpus/NAME/     the working corpus (grows across runs; the
#                           committed seeds in tests/fuzz/corpus/NAME are
#                           read, never written)
#   OUTDIR/crashes/NAME/    crash, leak, timeout and oom inputs: any file
#                           here fails the run and is kept
#   OUTDIR/NAME.log         the full libFuzzer log
#
# Inputs left in crashes/ by an earlier run are replayed first: one that
# still fails fails the run at once; one that passes now (the bug was
# fixed) moves to crashes/NAME/fixed/ so it does not fail every later run.
# Copy it to tests/fuzz/corpus/NAME/regress-* to keep it as a regression.
set -uo pipefail
bin=$1 name=$2 secs=$3 out=$4
seeds=tests/fuzz/corpus/$name
corpus=$out/corpus/$name
crashes=$out/crashes/$name
log=$out/$name.log
mkdir -p "$corpus" "$crashes"

old=$(find "$crashes" -maxdepth 1 -type f | sort)
if [ -n "$old" ]; then
  for f in $old; do
    if "$bin" -runs=1 "$f" > "$log.replay" 2>&1; then
      mkdir -p "$crashes/fixed" && mv "$f" "$crashes/fixed/"
      echo "fuzz: $name: $f passes now, moved to $crashes/fixed/"
    else
      tail -n 40 "$log.replay"
      echo "fuzz: $name FAILED: $f from an earlier run still fails" >&2
      exit 1
    fi
  done
fi

echo "fuzz: $name for $secs s (log $log, crashes kept in $crashes/)"
# -timeout: one input taking 10 s is a hang.  The outer timeout is a
# backstop should libFuzzer itself wedge.
rc=0
timeout --kill-after=30 $((secs + 120)) "$bin" \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=1536 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "$corpus" "$seeds" > "$log" 2>&1 || rc=$?
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" | sed "s/^/fuzz: $name: /"
found=$(find "$crashes" -maxdepth 1 -type f | sort)
if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
  grep -E 'oracle failed|ERROR: |SUMMARY: |runtime error' "$log" | head -n 20
  echo "fuzz: $name FAILED (exit $rc); inputs kept: ${found:-none}" >&2
  echo "fuzz: reproduce with: $bin <input>   (FUZZ_RING_TRACE=1 traces fuzz_ring's steps)" >&2
  exit 1
fi
echo "fuzz: $name passed"
