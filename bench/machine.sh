#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the figures were measured on: "key: value" lines for BENCHMARKS.md.
set -u
first() { "$@" 2>&1 | head -n 1; }
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src virtq.h bench ':!bench/results' 2>/dev/null || echo ' (+ uncommitted changes in src/, virtq.h or bench/ sources)')"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "hypervisor: $(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n 1)"
echo "kernel: $(uname -sr)"
echo "gcc: $(first gcc --version)"
echo "riscv gcc: $(first riscv64-unknown-elf-gcc --version)"
echo "binutils: $(first riscv64-unknown-elf-ld --version)"
echo "valgrind: $(first valgrind --version)"
echo "gnuplot: $(first gnuplot --version)"
echo "qemu: $(first qemu-system-riscv64 --version)"
echo "u-boot: u-boot-qemu $(dpkg-query -W -f '${Version}' u-boot-qemu 2>/dev/null || echo 'not installed')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
