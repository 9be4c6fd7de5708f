/*
 * dict_texthash - "texthash:/path/file": the source file of an lmdb: table
 * (see table_source.h), read once at open into an in-memory hash, so that
 * a table can be used without postmap. Keys are folded at load time when
 * the table is opened with DICT_FLAG_FOLD. A duplicate key keeps the
 * first value, with a warning naming file and line (as Postfix does). A
 * syntax error anywhere fails the open, naming every bad line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "mem.h"
#include "table_source.h"

#define TEXTHASH_MAX_FILE   (1024UL * 1024UL * 1024UL)

struct dict_texthash {
    struct dict dict;
    struct buf store;           /* "key\0value\0" ... */
    size_t *entries;            /* offsets of keys in store, file order */
    size_t count, cap;
    uint32_t *slots;            /* index + 1, 0 empty */
    size_t nslots;
    const char *path;           /* during the load */
    int failed;                 /* out of room during the load */
};

extern const struct dict_ops dict_texthash_ops;

static uint64_t th_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static const char *th_key(const struct dict_texthash *d, size_t i)
{
    return d->store.data + d->entries[i];
}

/* The slot that holds key, or the empty one where it would go. */
static uint32_t *th_slot(struct dict_texthash *d, const char *key)
{
    size_t mask = d->nslots - 1, i = (size_t)th_hash(key) & mask;

    while (d->slots[i] != 0 && strcmp(th_key(d, d->slots[i] - 1), key) != 0)
        i = (i + 1) & mask;
    return &d->slots[i];
}

static void th_grow(struct dict_texthash *d)
{
    if (d->count == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 256;
        d->entries = xreallocarray(d->entries, d->cap, sizeof(*d->entries));
    }
    if (2 * (d->count + 1) > d->nslots) {
        free(d->slots);
        d->nslots = d->nslots ? 2 * d->nslots : 512;
        d->slots = xcalloc(d->nslots, sizeof(*d->slots));
        for (size_t i = 0; i < d->count; i++)
            *th_slot(d, th_key(d, i)) = (uint32_t)(i + 1);
    }
}

/* table_source callback: one entry. */
static int th_add(const char *key, const char *value, int line, void *arg)
{
    struct dict_texthash *d = arg;
    size_t off = d->store.len, klen = strlen(key);
    uint32_t *slot;

    if (d->count >= UINT32_MAX - 1) {
        d->failed = 1;
        return 1;
    }
    th_grow(d);
    if (buf_append(&d->store, key, klen + 1) < 0) {
        d->failed = 1;
        return 1;
    }
    if (d->dict.flags & DICT_FLAG_FOLD)
        dict_fold(d->store.data + off);
    slot = th_slot(d, d->store.data + off);
    if (*slot != 0) {
        if (!(d->dict.flags & DICT_FLAG_DUP_IGNORE))
            msg_warn("%s, line %d: duplicate entry: \"%s\"", d->path, line,
                     d->store.data + off);
        buf_truncate(&d->store, off);
        return 0;
    }
    if (buf_append(&d->store, value, strlen(value) + 1) < 0) {
        d->failed = 1;
        return 1;
    }
    d->entries[d->count++] = off;
    *slot = (uint32_t)d->count;
    return 0;
}

static void th_close(struct dict *dict)
{
    struct dict_texthash *d = (struct dict_texthash *)dict;

    buf_free(&d->store);
    free(d->entries);
    free(d->slots);
    dict_free_common(dict);
}

static struct dict *th_open(const char *name, int flags, const struct config *cfg,
                            struct buf *err)
{
    struct buf spec = BUF_INIT;
    struct dict_texthash *d;

    buf_printf(&spec, "texthash:%s", name);
    d = (struct dict_texthash *)dict_alloc(sizeof(*d), &dict_texthash_ops, buf_str(&spec),
                                           flags);
    buf_free(&spec);
    buf_init(&d->store, 2 * TEXTHASH_MAX_FILE);
    d->path = name;
    th_grow(d);
    if (table_source_read(name, TEXTHASH_MAX_FILE, th_add, d, err) > 0 || d->failed) {
        if (d->failed)
            buf_printf(err, "%s: table too large", name);
        if (err->len > 0 && err->data[err->len - 1] == '\n')
            buf_truncate(err, err->len - 1);
        th_close(&d->dict);
        return NULL;
    }
    d->path = NULL;
    return &d->dict;
}

static int th_lookup(struct dict *dict, const char *key, struct buf *value, struct buf *why)
{
    struct dict_texthash *d = (struct dict_texthash *)dict;
    uint32_t *slot = th_slot(d, key);
    const char *k;

    if (*slot == 0)
        return DICT_NOTFOUND;
    k = th_key(d, *slot - 1);
    (void)buf_puts(value, k + strlen(k) + 1);
    return DICT_FOUND;
}

static int th_iterate(struct dict *dict, dict_walk_fn fn, void *arg, struct buf *why)
{
    struct dict_texthash *d = (struct dict_texthash *)dict;
    const char *k;

    for (size_t i = 0; i < d->count; i++) {
        k = th_key(d, i);
        if (fn(k, k + strlen(k) + 1, arg) != 0)
            break;
    }
    return 0;
}

const struct dict_ops dict_texthash_ops = {
    .type = "texthash",
    .caps = DICT_CAP_ITERATE,
    .open = th_open,
    .lookup = th_lookup,
    .iterate = th_iterate,
    .close = th_close,
};
