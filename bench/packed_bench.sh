#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The packed ring beside the split ring, same machine, same run:
#   instructions per request (callgrind, lock-step: bench/icount.c for the
#   split ring, bench/icount_packed.c for the packed ring, each library
#   built with only its own ring so no dispatch is counted), two-thread
#   ns/request at batch 1 and 32 (ringbench, best of REPS), and the rv32
#   .text of each ring.  Writes RESULTS/packed.csv.
#   usage: bench/packed_bench.sh BUILD_DIR RESULTS_DIR [REPS] [MS]
set -euo pipefail
b=$1 res=$2 reps=${3:-3} ms=${4:-300}
out=$res/packed.csv
mkdir -p "$res"
echo "figure,ring,segs,event_idx,batch,value,unit" > "$out.tmp"
count() { # bin ring segs ev
  local f=$b/cg.$2.s$3.e$4
  valgrind --tool=callgrind --callgrind-out-file="$f" "$1" -s "$3" -e "$4" -n 20000 > /dev/null 2>&1
  callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | python3 -c '
import re, sys
inc = {}
for l in sys.stdin:
    m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*:(\w+)(?:\s|$)", l)
    if m:
        inc.setdefault(m.group(2), int(m.group(1).replace(",", "")))
print("%.1f" % (sum(inc.get(f, 0) for f in ("virtq_add", "virtq_publish", "virtq_get")) / 20000))'
}
for ev in 0 1; do
  for s in 1 3; do
    echo "instructions_per_req,split,$s,$ev,1,$(count "$b/icount" split $s $ev),instructions" >> "$out.tmp"
    echo "instructions_per_req,packed,$s,$ev,1,$(count "$b/icount_packed" packed $s $ev),instructions" >> "$out.tmp"
  done
done
best() { # bin batch -> best ns/req of $reps runs (poll mode, 1 segment, EVENT_IDX)
  local v best=
  for _ in $(seq "$reps"); do
    v=$("$1" -m poll -b "$2" -W 50 -T "$ms" --csv | cut -d, -f9)
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not ($v < $best))"; then best=$v; fi
  done
  echo "$best"
}
for batch in 1 32; do
  echo "ns_per_req,split,1,1,$batch,$(best "$b/ringbench" $batch),ns" >> "$out.tmp"
  echo "ns_per_req,packed,1,1,$batch,$(best "$b/ringbench_packed" $batch),ns" >> "$out.tmp"
done
for r in split packed; do
  echo "rv32_text,$r,-,-,-,$(cat "$b/rv32_$r.text"),bytes" >> "$out.tmp"
done
mv "$out.tmp" "$out"
cat "$out"
