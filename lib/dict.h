/*
 * dict - the one lookup-table API every postern program uses.
 *
 * A table is named as in Postfix, "type:name" (lmdb:/etc/postern/virtual,
 * regexp:/etc/postern/header_checks, inline:{a=b, c=d}, static:value,
 * ldap:/etc/postern/ldap-users.cf, proxy:ldap:/etc/...). A lookup has
 * exactly three outcomes, which never blur:
 *
 *   DICT_FOUND     the key has a value (in *value)
 *   DICT_NOTFOUND  the table answered: no such key
 *   DICT_TEMPFAIL  the table could not answer (LDAP server down, file
 *                  unreadable, lookupd unreachable): callers answer 4xx
 *                  and try again later; never treat it as "not found"
 *
 * Keys of indexed tables (lmdb, texthash, inline, ldap) are folded to
 * lower case before the lookup unless the table was opened without
 * DICT_FLAG_FOLD (postmap -f); pattern tables (regexp, pcre, cidr) match
 * the key as given, and their own flags decide about case.
 *
 * Each type is one backend: lib/dict_TYPE.c defines
 *
 *     const struct dict_ops dict_TYPE_ops = { ... };
 *
 * on a line of its own, and the build finds it there and registers it
 * (CMakeLists.txt generates the registry). A backend's open() returns a
 * struct whose first member is struct dict.
 */
#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H

#include "buf.h"
#include "maincf.h"

enum dict_status {
    DICT_FOUND = 0,
    DICT_NOTFOUND = 1,
    DICT_TEMPFAIL = -1,
};

/* dict_open() flags */
#define DICT_FLAG_FOLD      0x01    /* fold keys to lower case (lookups and updates) */
#define DICT_FLAG_WRITE     0x02    /* open an existing table for update (postmap -i/-d) */
#define DICT_FLAG_CREATE    0x04    /* build a new table; see dict_commit() */
#define DICT_FLAG_DUP_WARN  0x08    /* duplicate key on update: warn, keep the first */
#define DICT_FLAG_DUP_REPLACE 0x10  /* duplicate key on update: replace (postmap -r) */
#define DICT_FLAG_DUP_IGNORE 0x20   /* duplicate key on update: keep the first silently */

/* dict_ops.caps */
#define DICT_CAP_UPDATE     0x01    /* update/remove supported */
#define DICT_CAP_ITERATE    0x02    /* iterate supported (postmap -s) */
#define DICT_CAP_PATTERN    0x04    /* key is matched, not looked up: no folding */
#define DICT_CAP_COMPILED   0x08    /* built by postmap from a source file (lmdb) */

/* Hard limits on what a lookup may carry. */
#define DICT_MAX_KEY        4096
#define DICT_MAX_VALUE      (1024 * 1024)

struct dict;

typedef int (*dict_walk_fn)(const char *key, const char *value, void *arg);

struct dict_ops {
    const char *type;               /* "lmdb" */
    unsigned caps;
    /*
     * Open the table called name (the part after "type:"). cfg may be
     * NULL (a tool run without main.cf); backends that need it say so in
     * err. Returns NULL with err on failure.
     */
    struct dict *(*open)(const char *name, int flags, const struct config *cfg,
                         struct buf *err);
    /* DICT_FOUND (value set), DICT_NOTFOUND, or DICT_TEMPFAIL (why set). */
    int (*lookup)(struct dict *d, const char *key, struct buf *value, struct buf *why);
    /* Optional (DICT_CAP_UPDATE): 0, 1 (duplicate kept, per flags), -1 with why. */
    int (*update)(struct dict *d, const char *key, const char *value, struct buf *why);
    /* Optional: DICT_FOUND (removed), DICT_NOTFOUND, DICT_TEMPFAIL. */
    int (*remove)(struct dict *d, const char *key, struct buf *why);
    /* Optional: call fn for every entry until it returns non-zero; -1 on error. */
    int (*iterate)(struct dict *d, dict_walk_fn fn, void *arg, struct buf *why);
    /* Optional: make a DICT_FLAG_CREATE build visible (atomically); 0 or -1. */
    int (*commit)(struct dict *d, struct buf *why);
    /* Free everything; an uncommitted build is discarded. */
    void (*close)(struct dict *d);
};

struct dict {
    const struct dict_ops *ops;
    char *spec;                     /* "type:name" as opened, for messages */
    int flags;
};

/*
 * Open "type:name". A name without "type:" uses default_database_type
 * (lmdb). "hash:" and "btree:" are the lmdb type, so that a Postfix
 * configuration works unchanged.
 */
struct dict *dict_open(const char *spec, int flags, const struct config *cfg,
                       struct buf *err);
void dict_close(struct dict *d);

/* These fold the key when they should, check its length, and call the backend. */
int dict_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why);
int dict_update(struct dict *d, const char *key, const char *value, struct buf *why);
int dict_remove(struct dict *d, const char *key, struct buf *why);
int dict_iterate(struct dict *d, dict_walk_fn fn, void *arg, struct buf *why);
int dict_commit(struct dict *d, struct buf *why);

/* Lower-case a key the way Postfix folds it (ASCII only; UTF-8 bytes kept). */
void dict_fold(char *key);

/* The registry: backend for a type name (after hash/btree aliasing), or NULL. */
const struct dict_ops *dict_find_type(const char *type);

/*
 * For backends: allocate the common part (size >= sizeof(struct dict)).
 * dict_open() replaces spec with the name as the caller wrote it.
 */
struct dict *dict_alloc(size_t size, const struct dict_ops *ops, const char *spec,
                        int flags);
void dict_free_common(struct dict *d);

#endif
