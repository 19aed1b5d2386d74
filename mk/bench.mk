# Benchmarks (bench/, BENCHMARKS.md).  `make bench` measures; nothing here
# is part of `make test` (no timing is ever asserted).
#
#   bench-machine  what it ran on          -> bench/results/machine.txt
#   bench-icount   driver instructions per request (callgrind, lock-step)
#                                          -> bench/results/icount.csv
#   bench-size     .text/.rodata/.data/.bss for RISC-V, per API set
#                                          -> bench/results/size.csv,
#                                             size_functions_<target>.txt
#   bench-ring     two-thread ring throughput sweep (ringbench)
#                                          -> bench/results/ring*.csv, .dat
#   bench-chart    ns/request against batch size -> ring_batch.png
#   bench-report   rewrites the generated blocks of BENCHMARKS.md
#
# Knobs: BENCH_REPS (runs per ring configuration, default 3), BENCH_MS
# (measured milliseconds per run, default 300).  The whole `make bench`
# takes about 2 minutes on the 2-core machine.  Later areas that add QEMU
# figures append their own targets to BENCH_TARGETS.

DEPS_PKGS += valgrind gnuplot-nox gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
             picolibc-riscv64-unknown-elf

BENCH_BUILD := $(BUILD)/bench
BENCH_RESULTS := bench/results
BENCH_CC := gcc
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.
BENCH_REPS ?= 3
BENCH_MS ?= 300

$(BENCH_BUILD) $(BENCH_RESULTS):
	@mkdir -p $@

# The library in its own translation unit, called through its extern API.
$(BENCH_BUILD)/virtq_impl.o: bench/virtq_impl.c virtq.h | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_BUILD)/ringbench: bench/ringbench.c $(BENCH_BUILD)/virtq_impl.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -pthread -o $@ $< $(BENCH_BUILD)/virtq_impl.o

$(BENCH_BUILD)/icount: bench/icount.c $(BENCH_BUILD)/virtq_impl.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_BUILD)/virtq_impl.o

.PHONY: bench-machine bench-icount bench-size bench-ring bench-chart bench-report \
        bench-build
bench-build: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount

bench-machine: | $(BENCH_RESULTS)
	bench/machine.sh > $(BENCH_RESULTS)/machine.txt
	@cat $(BENCH_RESULTS)/machine.txt

bench-icount: $(BENCH_BUILD)/icount | $(BENCH_RESULTS)
	$(PYTHON) bench/icount.py --bin $< --build $(BENCH_BUILD) --results $(BENCH_RESULTS)

bench-size: | $(BENCH_RESULTS)
	$(PYTHON) bench/size.py --build $(BENCH_BUILD)/size --results $(BENCH_RESULTS)

bench-ring: $(BENCH_BUILD)/ringbench | $(BENCH_RESULTS)
	$(PYTHON) bench/ring_sweep.py --bin $< --results $(BENCH_RESULTS) \
	  --reps $(BENCH_REPS) --ms $(BENCH_MS)

bench-chart: | $(BENCH_RESULTS)
	gnuplot -e "dat='$(BENCH_RESULTS)/ring_batch.dat'; out='$(BENCH_RESULTS)/ring_batch.png'" \
	  bench/ring_chart.gp

bench-report:
	$(PYTHON) bench/report.py --results $(BENCH_RESULTS) --doc BENCHMARKS.md

BENCH_TARGETS += bench-machine bench-icount bench-size bench-ring bench-chart bench-report

# A smoke test for `make test`: the benchmark programs still build against
# the current virtq.h and run correctly (every cookie back exactly once,
# descriptors all free, device and driver agree), in about a second.  It
# asserts no timing.
.PHONY: test-bench-smoke
test-bench-smoke: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount
	@set -e; for s in 1 3; do for e in 0 1; do \
	  $(BENCH_BUILD)/icount -s $$s -e $$e -n 1000 >/dev/null; done; done
	@set -e; for m in "-m poll" "-m sleep -w eventfd" "-m sleep -w futex -c 3 -b 8"; do \
	  $(BENCH_BUILD)/ringbench $$m -r 64 -W 5 -T 30 >/dev/null; done
	@echo "test-bench-smoke: benchmark programs build and run correctly"

TEST_TARGETS += test-bench-smoke
