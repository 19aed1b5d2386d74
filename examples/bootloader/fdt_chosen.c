/* SPDX-License-Identifier: MIT */
/* fdt_chosen.c — see fdt_chosen.h. */
#include "fdt_chosen.h"

/* Header fields (spec 5.2), all big-endian u32. */
#define F_MAGIC 0u
#define F_TOTALSIZE 4u
#define F_OFF_STRUCT 8u
#define F_OFF_STRINGS 12u
#define F_OFF_RSVMAP 16u
#define F_VERSION 20u
#define F_LAST_COMP 24u
#define F_BOOT_CPU 28u
#define F_SIZE_STRINGS 32u
#define F_SIZE_STRUCT 36u
#define F_HDR_BYTES 40u
/* Structure block tokens (5.4.1). */
#define T_BEGIN_NODE 1u
#define T_END_NODE 2u
#define T_PROP 3u
#define T_NOP 4u
#define T_END 9u
#define MAX_DEPTH 64u

#define P_BOOTARGS "bootargs"
#define P_INITRD_START "linux,initrd-start"
#define P_INITRD_END "linux,initrd-end"

struct fdt_in {
    const uint8_t *base;
    uint32_t off_struct, size_struct, off_strings, size_strings, off_rsv, totalsize;
};

struct fdt_out {
    uint8_t *base;
    size_t max, pos;
    bool overflow;
};

int bl_fdt_check_header(const void *in, size_t in_max, uint32_t *totalsize)
{
    const uint8_t *h = (const uint8_t *)in;
    uint32_t ts, os, ss, ostr, sstr, orsv, ver, lc;

    if (!in || in_max < F_HDR_BYTES || bl_be32(h + F_MAGIC) != BL_FDT_MAGIC)
        return BL_EFDT_HDR;
    ts = bl_be32(h + F_TOTALSIZE);
    os = bl_be32(h + F_OFF_STRUCT);
    ostr = bl_be32(h + F_OFF_STRINGS);
    orsv = bl_be32(h + F_OFF_RSVMAP);
    ver = bl_be32(h + F_VERSION);
    lc = bl_be32(h + F_LAST_COMP);
    sstr = bl_be32(h + F_SIZE_STRINGS);
    ss = bl_be32(h + F_SIZE_STRUCT);
    /* Version 17 with compatibility back to 16 is what we write and read
       (size_dt_struct appeared in 17; we need it to bound the walk). */
    if (ts < F_HDR_BYTES || ts > in_max || ver < 17u || lc > 17u)
        return BL_EFDT_HDR;
    if (os < F_HDR_BYTES || os > ts || ss > ts - os || (os & 3u) || (ss & 3u))
        return BL_EFDT_HDR;
    if (ostr < F_HDR_BYTES || ostr > ts || sstr > ts - ostr)
        return BL_EFDT_HDR;
    if (orsv < F_HDR_BYTES || orsv >= ts || (orsv & 7u))
        return BL_EFDT_HDR;
    if (totalsize)
        *totalsize = ts;
    return BL_OK;
}

static void put(struct fdt_out *o, const void *p, size_t n)
{
    if (o->overflow || n > o->max - o->pos) {
        o->overflow = true;
        return;
    }
    bl_memcpy(o->base + o->pos, p, n);
    o->pos += n;
}

static void put32(struct fdt_out *o, uint32_t v)
{
    uint8_t b[4];
    bl_put_be32(b, v);
    put(o, b, 4);
}

static void pad4(struct fdt_out *o)
{
    static const uint8_t z[4] = {0, 0, 0, 0};
    put(o, z, (4u - (o->pos & 3u)) & 3u);
}

/* The string at off in the input's strings block, or NULL when it is out
   of the block or not NUL-terminated inside it. */
static const char *in_string(const struct fdt_in *f, uint32_t off)
{
    const char *s = (const char *)f->base + f->off_strings;
    if (off >= f->size_strings)
        return 0;
    for (uint32_t i = off; i < f->size_strings; i++)
        if (s[i] == '\0')
            return s + off;
    return 0;
}

static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* Offset of name in the output strings block (which starts as a copy of
   the input's, then gets `extra` appended). */
struct strtab {
    const struct fdt_in *f;
    char extra[64];
    uint32_t extra_len;
};

static uint32_t str_off(struct strtab *t, const char *name)
{
    const char *s = (const char *)t->f->base + t->f->off_strings;
    uint32_t n = (uint32_t)bl_strlen(name) + 1u, i;
    /* An existing copy, starting anywhere (suffix sharing is legal). */
    for (i = 0; i + n <= t->f->size_strings; i++)
        if (bl_memcmp(s + i, name, n) == 0)
            return i;
    for (i = 0; i + n <= t->extra_len; i++)
        if (bl_memcmp(t->extra + i, name, n) == 0)
            return t->f->size_strings + i;
    i = t->extra_len;
    bl_memcpy(t->extra + i, name, n); /* three fixed names: 64 bytes fit */
    t->extra_len += n;
    return t->f->size_strings + i;
}

static void put_prop(struct fdt_out *o, struct strtab *t, const char *name, const void *v,
                     uint32_t len)
{
    put32(o, T_PROP);
    put32(o, len);
    put32(o, str_off(t, name));
    put(o, v, len);
    pad4(o);
}

static void put_chosen_props(struct fdt_out *o, struct strtab *t, const struct bl_chosen *c)
{
    uint8_t v[8];
    if (c->bootargs)
        put_prop(o, t, P_BOOTARGS, c->bootargs, (uint32_t)bl_strlen(c->bootargs) + 1u);
    if (c->initrd_end > c->initrd_start) {
        bl_put_be64(v, c->initrd_start);
        put_prop(o, t, P_INITRD_START, v, 8);
        bl_put_be64(v, c->initrd_end);
        put_prop(o, t, P_INITRD_END, v, 8);
    }
}

/* Is this /chosen property one we replace? */
static bool replaced(const struct bl_chosen *c, const char *name)
{
    if (c->bootargs && streq(name, P_BOOTARGS))
        return true;
    return c->initrd_end > c->initrd_start &&
           (streq(name, P_INITRD_START) || streq(name, P_INITRD_END));
}

/* Walk the input structure block, copying tokens to o.  Returns BL_OK or
   BL_EFDT_STRUCT. */
static int copy_struct(const struct fdt_in *f, struct fdt_out *o, struct strtab *t,
                       const struct bl_chosen *c)
{
    const uint8_t *p = f->base + f->off_struct;
    uint32_t pos = 0, end = f->size_struct, depth = 0;
    bool in_chosen = false, seen_chosen = false, done = false;

    while (!done) {
        uint32_t tok;
        if (end - pos < 4u)
            return BL_EFDT_STRUCT;
        tok = bl_be32(p + pos);
        pos += 4u;
        switch (tok) {
        case T_BEGIN_NODE: {
            uint32_t n = 0;
            while (pos + n < end && p[pos + n] != 0u)
                n++;
            if (pos + n >= end || depth == MAX_DEPTH || (depth == 0u && seen_chosen))
                return BL_EFDT_STRUCT;
            if (depth == 0u && n != 0u)
                return BL_EFDT_STRUCT; /* the root's name is empty */
            depth++;
            /* The node libfdt's fdt_path_offset("/chosen") finds, which is
               what Linux's early boot reads: the first child of the root
               named "chosen" or "chosen@<unit>". */
            if (depth == 2u && !seen_chosen && n >= 6u && bl_memcmp(p + pos, "chosen", 6) == 0 &&
                (n == 6u || p[pos + 6u] == '@')) {
                in_chosen = true;
                seen_chosen = true;
            }
            put32(o, T_BEGIN_NODE);
            put(o, p + pos, n + 1u);
            pad4(o);
            /* Properties come before subnodes (spec 5.4.2): ours go first,
               the old ones of the same names are dropped below. */
            if (in_chosen && depth == 2u)
                put_chosen_props(o, t, c);
            pos += (n + 1u + 3u) & ~3u;
            if (pos > end)
                return BL_EFDT_STRUCT;
            if (depth == 1u)
                seen_chosen = false;
            break;
        }
        case T_END_NODE:
            if (depth == 0u)
                return BL_EFDT_STRUCT;
            if (depth == 2u && in_chosen)
                in_chosen = false;
            if (depth == 1u && !seen_chosen) {
                static const uint8_t name[8] = "chosen";
                put32(o, T_BEGIN_NODE);
                put(o, name, 8);
                put_chosen_props(o, t, c);
                put32(o, T_END_NODE);
                seen_chosen = true;
            }
            put32(o, T_END_NODE);
            depth--;
            break;
        case T_PROP: {
            uint32_t len, nameoff;
            const char *name;
            if (depth == 0u || end - pos < 8u)
                return BL_EFDT_STRUCT;
            len = bl_be32(p + pos);
            nameoff = bl_be32(p + pos + 4u);
            pos += 8u;
            name = in_string(f, nameoff);
            if (!name || len > end - pos)
                return BL_EFDT_STRUCT;
            if (!(in_chosen && depth == 2u && replaced(c, name)))
                put_prop(o, t, name, p + pos, len);
            pos += (len + 3u) & ~3u;
            if (pos > end)
                return BL_EFDT_STRUCT;
            break;
        }
        case T_NOP:
            break;
        case T_END:
            if (depth != 0u || !seen_chosen)
                return BL_EFDT_STRUCT;
            put32(o, T_END);
            done = true;
            break;
        default:
            return BL_EFDT_STRUCT;
        }
    }
    return BL_OK;
}

int bl_fdt_set_chosen(const void *in, size_t in_max, void *out, size_t out_max,
                      const struct bl_chosen *c, size_t *out_size)
{
    struct fdt_in f;
    struct fdt_out o;
    struct strtab t;
    const uint8_t *h = (const uint8_t *)in;
    uint32_t ts, pos, off_struct, size_struct, off_strings;
    int err;

    if (!out || !c || !out_size)
        return BL_EARG;
    if (c->bootargs && bl_strlen(c->bootargs) >= BL_CMDLINE_MAX)
        return BL_EFDT_CMDLINE;
    err = bl_fdt_check_header(in, in_max, &ts);
    if (err != BL_OK)
        return err;
    f.base = h;
    f.totalsize = ts;
    f.off_struct = bl_be32(h + F_OFF_STRUCT);
    f.size_struct = bl_be32(h + F_SIZE_STRUCT);
    f.off_strings = bl_be32(h + F_OFF_STRINGS);
    f.size_strings = bl_be32(h + F_SIZE_STRINGS);
    f.off_rsv = bl_be32(h + F_OFF_RSVMAP);
    o.base = (uint8_t *)out;
    o.max = out_max;
    o.pos = 0;
    o.overflow = false;
    t.f = &f;
    t.extra_len = 0;

    /* 1. Header placeholder; filled in at the end. */
    for (pos = 0; pos < F_HDR_BYTES; pos += 4u)
        put32(&o, 0);
    /* 2. Memory reservation block: {u64 address, u64 size} pairs up to a
          zero pair, copied whole. */
    for (pos = f.off_rsv;; pos += 16u) {
        if (ts - pos < 16u)
            return BL_EFDT_HDR;
        put(&o, h + pos, 16);
        if (bl_be32(h + pos) == 0u && bl_be32(h + pos + 4u) == 0u && bl_be32(h + pos + 8u) == 0u &&
            bl_be32(h + pos + 12u) == 0u)
            break;
    }
    /* 3. Structure block, with /chosen edited. */
    off_struct = (uint32_t)o.pos;
    err = copy_struct(&f, &o, &t, c);
    if (err != BL_OK)
        return err;
    size_struct = (uint32_t)o.pos - off_struct;
    /* 4. Strings block: the input's, then the names we added. */
    off_strings = (uint32_t)o.pos;
    put(&o, h + f.off_strings, f.size_strings);
    put(&o, t.extra, t.extra_len);
    if (o.overflow)
        return BL_EFDT_SPACE;
    /* 5. The header: version 17, compatible back to 16. */
    bl_put_be32(o.base + F_MAGIC, BL_FDT_MAGIC);
    bl_put_be32(o.base + F_TOTALSIZE, (uint32_t)o.pos);
    bl_put_be32(o.base + F_OFF_STRUCT, off_struct);
    bl_put_be32(o.base + F_OFF_STRINGS, off_strings);
    bl_put_be32(o.base + F_OFF_RSVMAP, F_HDR_BYTES);
    bl_put_be32(o.base + F_VERSION, 17u);
    bl_put_be32(o.base + F_LAST_COMP, 16u);
    bl_put_be32(o.base + F_BOOT_CPU, bl_be32(h + F_BOOT_CPU));
    bl_put_be32(o.base + F_SIZE_STRINGS, f.size_strings + t.extra_len);
    bl_put_be32(o.base + F_SIZE_STRUCT, size_struct);
    *out_size = o.pos;
    return BL_OK;
}

/* ---- the first /memory range --------------------------------------------- */

static uint64_t cells(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v = (v << 32) | bl_be32(p + 4u * i);
    return v;
}

int bl_fdt_memory(const void *fdt, size_t max, uint64_t *base, uint64_t *size)
{
    const uint8_t *h = (const uint8_t *)fdt;
    struct fdt_in f;
    const uint8_t *p;
    uint32_t pos = 0, depth = 0, ac = 2, sc = 1; /* spec 2.3.5 defaults */
    bool in_mem = false;
    int err = bl_fdt_check_header(fdt, max, &f.totalsize);

    if (err != BL_OK)
        return err;
    f.base = h;
    f.off_struct = bl_be32(h + F_OFF_STRUCT);
    f.size_struct = bl_be32(h + F_SIZE_STRUCT);
    f.off_strings = bl_be32(h + F_OFF_STRINGS);
    f.size_strings = bl_be32(h + F_SIZE_STRINGS);
    p = h + f.off_struct;
    while (f.size_struct - pos >= 4u) {
        uint32_t tok = bl_be32(p + pos), n = 0, len;
        const char *name;
        pos += 4u;
        switch (tok) {
        case T_BEGIN_NODE:
            while (pos + n < f.size_struct && p[pos + n] != 0u)
                n++;
            if (pos + n >= f.size_struct || depth == MAX_DEPTH)
                return BL_EFDT_STRUCT;
            depth++;
            in_mem = depth == 2u && n >= 6u && bl_memcmp(p + pos, "memory", 6) == 0 &&
                     (n == 6u || p[pos + 6] == '@');
            pos += (n + 1u + 3u) & ~3u;
            break;
        case T_END_NODE:
            if (depth == 0u)
                return BL_EFDT_STRUCT;
            depth--;
            in_mem = false;
            break;
        case T_PROP:
            if (f.size_struct - pos < 8u)
                return BL_EFDT_STRUCT;
            len = bl_be32(p + pos);
            name = in_string(&f, bl_be32(p + pos + 4u));
            pos += 8u;
            if (!name || len > f.size_struct - pos)
                return BL_EFDT_STRUCT;
            if (depth == 1u && len == 4u && streq(name, "#address-cells"))
                ac = bl_be32(p + pos);
            else if (depth == 1u && len == 4u && streq(name, "#size-cells"))
                sc = bl_be32(p + pos);
            else if (in_mem && streq(name, "reg")) {
                if (ac < 1u || ac > 2u || sc < 1u || sc > 2u || len < 4u * (ac + sc))
                    return BL_EFDT_STRUCT;
                *base = cells(p + pos, ac);
                *size = cells(p + pos + 4u * ac, sc);
                return BL_OK;
            }
            pos += (len + 3u) & ~3u;
            break;
        case T_NOP:
            break;
        default:
            return BL_EFDT_STRUCT; /* FDT_END or junk: no memory node */
        }
    }
    return BL_EFDT_STRUCT;
}
