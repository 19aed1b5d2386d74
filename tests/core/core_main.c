/* SPDX-License-Identifier: MIT */
/* core_main.c — runs every group; argv[1] is an optional cmocka test-name
   filter (e.g. '*wfi*'). */
#include "core.h"

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed += core_group_init();
    failed += core_group_io();
    failed += core_group_config();
    failed += core_group_faults();
    failed += core_group_waits();
    failed += core_group_ooo();
    failed += core_group_spec();
    failed += core_group_scan();
    failed += core_group_pci();
    return failed != 0;
}
