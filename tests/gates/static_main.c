/* SPDX-License-Identifier: MIT */
/* Links two VIRTQ_STATIC copies of virtq (static_api.c built twice) into
 * one program and runs both. */
#include <stdio.h>

int gate_static_a(void);
int gate_static_b(void);

int main(void)
{
    int a = gate_static_a(), b = gate_static_b();
    if (a != 0 || b != 0) {
        fprintf(stderr, "static gate: copy a failed step %d, copy b failed step %d\n", a, b);
        return 1;
    }
    printf("static gate: two private copies linked and ran\n");
    return 0;
}
