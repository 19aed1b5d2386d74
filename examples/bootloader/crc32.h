/* SPDX-License-Identifier: MIT */
/* crc32.h — the CRC-32 GPT uses (ISO-HDLC: reflected 0x04C11DB7, init and
   final xor 0xFFFFFFFF; UEFI 2.10 5.3.2 "GPT Header" names it). */
#ifndef BL_CRC32_H_INCLUDED
#define BL_CRC32_H_INCLUDED
#include <stddef.h>
#include <stdint.h>

/* crc = bl_crc32(0, p, n) for one buffer; pass the previous result to
   continue over the next piece. */
uint32_t bl_crc32(uint32_t crc, const void *data, size_t n);

#endif
