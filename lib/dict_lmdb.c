/*
 * dict_lmdb - the compiled table type, "lmdb:/path/file" (also called
 * hash: and btree:), stored in /path/file.lmdb.
 *
 * Files are single LMDB data files (MDB_NOSUBDIR), keys and values stored
 * without a terminating NUL.
 *
 * Build (DICT_FLAG_CREATE). Updates go to memory (an arena plus a hash
 * table that detects duplicates at once, so that dict_update() can answer
 * "duplicate" while postmap still knows the source line). dict_commit()
 * sorts the entries and appends them (MDB_APPEND: sequential, pages filled
 * completely) to FILE.lmdb.tmp.PID in transactions of LMDB_BATCH puts,
 * doubling the map size and redoing the batch on MDB_MAP_FULL; then
 * mdb_env_sync(), rename() over FILE.lmdb, and fsync() of the directory.
 * A build that is closed without a commit removes its temporary file, so
 * a half-built table is never visible under the table's name.
 *
 * Readers open FILE.lmdb read-only with MDB_NOLOCK: there is no lock
 * file, so a daemon needs no write access to the table's directory. That
 * is safe because
 *   - rebuilds never touch the file a reader has open: they make a new
 *     file and rename it over the old name, and the reader keeps its
 *     mapping of the old inode until it notices the change;
 *   - in-place updates (postmap -i / -d, DICT_FLAG_WRITE) take an
 *     exclusive flock() on the file for the whole session and readers take
 *     a shared flock() around each lookup or walk, which keeps them out
 *     of the file while a commit rewrites pages (as Postfix's own locking
 *     around LMDB does). Writers are serialised by the same lock.
 * A reader stat()s FILE.lmdb at most once a second during lookups and
 * reopens it when device, inode, size or modification time changed, so a
 * running daemon sees a rebuilt table without a restart.
 *
 * Keys are limited by LMDB (511 bytes in Debian's build); a longer key is
 * refused on update and simply not found on lookup. An LMDB error during
 * a lookup is DICT_TEMPFAIL with the reason, never "not found".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "dict.h"
#include "log.h"
#include "mem.h"
#include "safe_file.h"

#define LMDB_SUFFIX         ".lmdb"
#define LMDB_BATCH          100000          /* puts per build transaction */
#define LMDB_MIN_MAP        (1024UL * 1024UL)
#define LMDB_MAX_MAP        ((size_t)1 << 40)   /* give up growing here */
#define LMDB_ARENA_CHUNK    (4UL * 1024UL * 1024UL)
#define LMDB_FILE_MODE      0644

/* A build entry in the arena: header, then key and value bytes. */
struct rec {
    uint32_t klen;
    uint32_t vlen;
    char data[];                /* key, then value; no NULs */
};

/* Arena chunks, freed together. */
struct chunk {
    struct chunk *next;
    size_t used, size;
    char mem[];
};

/* Operations of the current WRITE-mode transaction, for a replay on MAP_FULL. */
enum { OP_PUT = 1, OP_DEL = 2 };

struct dict_lmdb {
    struct dict dict;
    char *path;                 /* FILE.lmdb */
    char *tmp;                  /* build: FILE.lmdb.tmp.PID until committed */
    int mode;                   /* MODE_READ, MODE_WRITE, MODE_CREATE */
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *rtxn;              /* reader: reset between lookups */
    MDB_txn *wtxn;              /* WRITE mode: the open transaction */
    int fd;                     /* the data file, for flock() */
    size_t mapsize;
    size_t maxkey;
    /* Reader: what the open file looked like, and when we last checked. */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    time_t checked;
    /* Build. */
    struct chunk *arena;
    struct rec **recs;          /* vlen REC_REMOVED: removed */
    size_t nrecs, caprecs;
    uint32_t *slots;            /* hash: index + 1, 0 empty */
    size_t nslots;
    size_t bytes;               /* key and value bytes */
    /* WRITE mode replay log. */
    struct buf oplog;
};

#define REC_REMOVED UINT32_MAX

#define MODE_READ   0
#define MODE_WRITE  1
#define MODE_CREATE 2

extern const struct dict_ops dict_lmdb_ops;

/* ------------------------------------------------------------ helpers */

/* flock() retrying EINTR; 0 or -1. */
static int lock_fd(int fd, int op)
{
    int rc;

    while ((rc = flock(fd, op)) < 0 && errno == EINTR)
        /* retry */ ;
    return rc;
}

/* FNV-1a of a key. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Does r hold this key? */
static int rec_is(const struct rec *r, const char *key, size_t klen)
{
    return r->klen == klen && memcmp(r->data, key, klen) == 0;
}

/* A new arena record for key and value. */
static struct rec *arena_rec(struct dict_lmdb *d, const char *key, size_t klen,
                             const char *value, size_t vlen)
{
    size_t need = (sizeof(struct rec) + klen + vlen + 7) & ~(size_t)7;
    struct chunk *c = d->arena;
    struct rec *r;

    if (c == NULL || c->size - c->used < need) {
        size_t size = need > LMDB_ARENA_CHUNK ? need : LMDB_ARENA_CHUNK;

        c = xmalloc(sizeof(*c) + size);
        c->next = d->arena;
        c->used = 0;
        c->size = size;
        d->arena = c;
    }
    r = (struct rec *)(void *)(c->mem + c->used);
    c->used += need;
    r->klen = (uint32_t)klen;
    r->vlen = (uint32_t)vlen;
    memcpy(r->data, key, klen);
    memcpy(r->data + klen, value, vlen);
    return r;
}

/* The hash slot for key: holding it, or the empty slot where it goes. */
static uint32_t *hash_slot(struct dict_lmdb *d, const char *key, size_t klen)
{
    size_t mask = d->nslots - 1, i = (size_t)hash_key(key, klen) & mask;
    struct rec *r;

    for (;; i = (i + 1) & mask) {
        if (d->slots[i] == 0)
            return &d->slots[i];
        r = d->recs[d->slots[i] - 1];
        if (rec_is(r, key, klen))
            return &d->slots[i];
    }
}

static void free_arena(struct dict_lmdb *d)
{
    struct chunk *c, *next;

    for (c = d->arena; c; c = next) {
        next = c->next;
        free(c);
    }
    d->arena = NULL;
    free(d->recs);
    free(d->slots);
    d->recs = NULL;
    d->slots = NULL;
    d->nrecs = d->caprecs = d->nslots = 0;
}

/* Make room for one more entry in recs and the hash (load factor <= 1/2). */
static void build_grow(struct dict_lmdb *d)
{
    if (d->nrecs == d->caprecs) {
        d->caprecs = d->caprecs ? d->caprecs * 2 : 1024;
        d->recs = xreallocarray(d->recs, d->caprecs, sizeof(*d->recs));
    }
    if (2 * (d->nrecs + 1) > d->nslots) {
        size_t n = d->nslots ? d->nslots * 2 : 2048;

        free(d->slots);
        d->slots = xcalloc(n, sizeof(*d->slots));
        d->nslots = n;
        for (size_t i = 0; i < d->nrecs; i++)
            *hash_slot(d, d->recs[i]->data, d->recs[i]->klen) = (uint32_t)(i + 1);
    }
}

static int build_update(struct dict_lmdb *d, const char *key, size_t klen,
                        const char *value, struct buf *why)
{
    size_t vlen = strlen(value);
    uint32_t *slot;
    struct rec *old;

    if (d->nrecs >= UINT32_MAX - 1) {
        buf_printf(why, "%s: too many entries", d->path);
        return -1;
    }
    build_grow(d);
    slot = hash_slot(d, key, klen);
    if (*slot != 0) {
        old = d->recs[*slot - 1];
        if (old->vlen != REC_REMOVED && !(d->dict.flags & DICT_FLAG_DUP_REPLACE))
            return 1;
        d->bytes -= old->klen + (old->vlen == REC_REMOVED ? 0 : old->vlen);
        d->recs[*slot - 1] = arena_rec(d, key, klen, value, vlen);
    } else {
        d->recs[d->nrecs++] = arena_rec(d, key, klen, value, vlen);
        *slot = (uint32_t)d->nrecs;
    }
    d->bytes += klen + vlen;
    return 0;
}

/* The live build entry for key, or NULL. */
static struct rec *build_find(struct dict_lmdb *d, const char *key, size_t klen)
{
    uint32_t *slot;
    struct rec *r;

    if (d->nslots == 0)
        return NULL;
    slot = hash_slot(d, key, klen);
    if (*slot == 0 || (r = d->recs[*slot - 1])->vlen == REC_REMOVED)
        return NULL;
    return r;
}

/* LMDB's key order: bytes, then the shorter first. */
static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = *(struct rec *const *)a, *y = *(struct rec *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->data, y->data, n);

    if (c != 0)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* "what PATH: lmdb error" into why; returns -1. */
static int lmdb_fail(struct buf *why, const char *what, const char *path, int rc)
{
    buf_printf(why, "%s %s: %s", what, path, rc > 0 ? strerror(rc) : mdb_strerror(rc));
    return -1;
}

/* Double the map size (no transaction may be open). */
static int grow_map(struct dict_lmdb *d, const char *path, struct buf *why)
{
    int rc;

    if (d->mapsize >= LMDB_MAX_MAP) {
        buf_printf(why, "%s: table larger than %zu bytes", path, (size_t)LMDB_MAX_MAP);
        return -1;
    }
    d->mapsize *= 2;
    if ((rc = mdb_env_set_mapsize(d->env, d->mapsize)) != 0)
        return lmdb_fail(why, "grow map of", path, rc);
    return 0;
}

/* Write the sorted entries into the temporary file, batch by batch. */
static int build_write(struct dict_lmdb *d, struct rec **v, size_t n, struct buf *why)
{
    MDB_txn *txn;
    MDB_val k, val;
    size_t start = 0, i, end;
    int rc;

    d->mapsize = 2 * (d->bytes + n * 32) + LMDB_MIN_MAP;
    if ((rc = mdb_env_set_mapsize(d->env, d->mapsize)) != 0
        || (rc = mdb_env_open(d->env, d->tmp, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC,
                              LMDB_FILE_MODE)) != 0)
        return lmdb_fail(why, "open", d->tmp, rc);
    do {
        end = n - start > LMDB_BATCH ? start + LMDB_BATCH : n;
        if ((rc = mdb_txn_begin(d->env, NULL, 0, &txn)) != 0)
            return lmdb_fail(why, "begin transaction on", d->tmp, rc);
        if (start == 0 && (rc = mdb_dbi_open(txn, NULL, 0, &d->dbi)) != 0) {
            mdb_txn_abort(txn);
            return lmdb_fail(why, "open database in", d->tmp, rc);
        }
        for (i = start, rc = 0; i < end && rc == 0; i++) {
            k.mv_data = v[i]->data;
            k.mv_size = v[i]->klen;
            val.mv_data = v[i]->data + v[i]->klen;
            val.mv_size = v[i]->vlen;
            rc = mdb_put(txn, d->dbi, &k, &val, MDB_APPEND);
        }
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
        } else {
            mdb_txn_abort(txn);
        }
        if (rc == MDB_MAP_FULL) {
            if (grow_map(d, d->tmp, why) < 0)
                return -1;
            continue;                   /* the same batch again */
        }
        if (rc != 0)
            return lmdb_fail(why, "write", d->tmp, rc);
        start = end;
    } while (start < n);
    return 0;
}

/* Sort, write, sync, rename over the table, fsync the directory. */
static int build_commit(struct dict_lmdb *d, struct buf *why)
{
    struct rec **v = xcalloc(d->nrecs ? d->nrecs : 1, sizeof(*v));
    size_t n = 0;
    int rc;

    if (d->tmp == NULL) {
        buf_printf(why, "%s: build already committed", d->path);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < d->nrecs; i++)
        if (d->recs[i]->vlen != REC_REMOVED)
            v[n++] = d->recs[i];
    free(d->slots);             /* not needed any more: less peak memory */
    d->slots = NULL;
    d->nslots = 0;
    qsort(v, n, sizeof(*v), cmp_rec);
    rc = build_write(d, v, n, why);
    free(v);
    free_arena(d);
    if (rc < 0)
        return -1;
    if ((rc = mdb_env_sync(d->env, 1)) != 0)
        return lmdb_fail(why, "sync", d->tmp, rc);
    mdb_env_close(d->env);
    d->env = NULL;
    if (rename(d->tmp, d->path) < 0) {
        buf_printf(why, "rename %s to %s: %s", d->tmp, d->path, strerror(errno));
        return -1;
    }
    free(d->tmp);
    d->tmp = NULL;
    if (fsync_parent_dir(d->path) < 0) {
        buf_printf(why, "fsync directory of %s: %s", d->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- readers */

/* Open path read-only; on success fills env, dbi, rtxn, fd and file identity. */
static int reader_open(struct dict_lmdb *d, struct buf *why)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    struct stat st;
    int rc, fd;

    if ((rc = mdb_env_create(&env)) != 0)
        return lmdb_fail(why, "open", d->path, rc);
    if ((rc = mdb_env_open(env, d->path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK,
                           LMDB_FILE_MODE)) != 0) {
        mdb_env_close(env);
        return lmdb_fail(why, "open", d->path, rc);
    }
    if ((rc = mdb_env_get_fd(env, &fd)) != 0 || (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
        mdb_env_close(env);
        return lmdb_fail(why, "open", d->path, rc);
    }
    if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
        mdb_txn_abort(txn);
        mdb_env_close(env);
        return lmdb_fail(why, "open database in", d->path, rc);
    }
    if (fstat(fd, &st) < 0) {
        buf_printf(why, "fstat %s: %s", d->path, strerror(errno));
        mdb_txn_abort(txn);
        mdb_env_close(env);
        return -1;
    }
    mdb_txn_reset(txn);
    if (d->rtxn)
        mdb_txn_abort(d->rtxn);
    if (d->env)
        mdb_env_close(d->env);
    d->env = env;
    d->dbi = dbi;
    d->rtxn = txn;
    d->fd = fd;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->size = st.st_size;
    d->mtime = st.st_mtim;
    return 0;
}

/* Reopen the table if FILE.lmdb was replaced or changed (checked once a second). */
static void reader_check(struct dict_lmdb *d)
{
    struct buf why = BUF_INIT;
    time_t now = time(NULL);
    struct stat st;

    if (now == d->checked)
        return;
    d->checked = now;
    if (stat(d->path, &st) < 0)
        return;                 /* keep what we have; a rebuild renames, never removes */
    if (st.st_dev == d->dev && st.st_ino == d->ino && st.st_size == d->size
        && st.st_mtim.tv_sec == d->mtime.tv_sec && st.st_mtim.tv_nsec == d->mtime.tv_nsec)
        return;
    if (reader_open(d, &why) < 0)
        msg_warn("%s: keeping the table open before: %s", d->path, buf_str(&why));
    else if (msg_verbose)
        msg_debug("%s: table changed; reopened", d->path);
    buf_free(&why);
}

/* Start the reader's transaction under a shared lock; 0 or -1 with why. */
static int reader_begin(struct dict_lmdb *d, struct buf *why)
{
    int rc;

    if (lock_fd(d->fd, LOCK_SH) < 0) {
        buf_printf(why, "lock %s: %s", d->path, strerror(errno));
        return -1;
    }
    rc = mdb_txn_renew(d->rtxn);
    if (rc == MDB_MAP_RESIZED) {
        /* An in-place update grew the file past our map. */
        if ((rc = mdb_env_set_mapsize(d->env, 0)) == 0)
            rc = mdb_txn_renew(d->rtxn);
    }
    if (rc != 0) {
        (void)lock_fd(d->fd, LOCK_UN);
        return lmdb_fail(why, "read", d->path, rc);
    }
    return 0;
}

static void reader_end(struct dict_lmdb *d)
{
    mdb_txn_reset(d->rtxn);
    (void)lock_fd(d->fd, LOCK_UN);
}

/* --------------------------------------------------------- WRITE mode */

/* Begin the WRITE-mode transaction if none is open. */
static int writer_txn(struct dict_lmdb *d, struct buf *why)
{
    int rc;

    if (d->wtxn)
        return 0;
    if ((rc = mdb_txn_begin(d->env, NULL, 0, &d->wtxn)) != 0) {
        d->wtxn = NULL;
        return lmdb_fail(why, "begin transaction on", d->path, rc);
    }
    return 0;
}

static void oplog_add(struct dict_lmdb *d, int op, const char *key, size_t klen,
                      const char *value, size_t vlen)
{
    uint32_t kl = (uint32_t)klen, vl = (uint32_t)vlen;

    (void)buf_putc(&d->oplog, op);
    (void)buf_append(&d->oplog, &kl, sizeof(kl));
    (void)buf_append(&d->oplog, &vl, sizeof(vl));
    (void)buf_append(&d->oplog, key, klen);
    (void)buf_append(&d->oplog, value, vlen);
}

/*
 * After MDB_MAP_FULL: abort, grow the map, and replay this session's
 * operations (their outcome was decided the first time) in a new
 * transaction. 0 or -1 with why.
 */
static int writer_recover(struct dict_lmdb *d, struct buf *why)
{
    const char *p, *end;
    uint32_t kl, vl;
    MDB_val k, v;
    int rc;

    for (;;) {
        if (d->wtxn)
            mdb_txn_abort(d->wtxn);
        d->wtxn = NULL;
        if (grow_map(d, d->path, why) < 0 || writer_txn(d, why) < 0)
            return -1;
        rc = 0;
        for (p = d->oplog.data, end = p + d->oplog.len; p && p < end && rc == 0;) {
            int op = *p++;

            memcpy(&kl, p, sizeof(kl));
            memcpy(&vl, p + sizeof(kl), sizeof(vl));
            p += sizeof(kl) + sizeof(vl);
            k.mv_data = (void *)p;
            k.mv_size = kl;
            v.mv_data = (void *)(p + kl);
            v.mv_size = vl;
            p += kl + vl;
            rc = op == OP_PUT ? mdb_put(d->wtxn, d->dbi, &k, &v, 0)
                : mdb_del(d->wtxn, d->dbi, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (rc == 0)
            return 0;
        if (rc != MDB_MAP_FULL)
            return lmdb_fail(why, "update", d->path, rc);
    }
}

/* Create an empty table at d->path (atomically), for -i on a new table. */
static int create_empty(struct dict_lmdb *d, struct buf *why)
{
    struct buf tmp = BUF_INIT;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc;

    buf_printf(&tmp, "%s.tmp.%ld", d->path, (long)getpid());
    (void)unlink(buf_str(&tmp));
    if ((rc = mdb_env_create(&env)) == 0) {
        if ((rc = mdb_env_open(env, buf_str(&tmp), MDB_NOSUBDIR | MDB_NOLOCK,
                               LMDB_FILE_MODE)) == 0
            && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
            if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
        }
        if (rc == 0)
            rc = mdb_env_sync(env, 1);
        mdb_env_close(env);
    }
    if (rc != 0) {
        lmdb_fail(why, "create", buf_str(&tmp), rc);
    } else if (rename(buf_str(&tmp), d->path) < 0 || fsync_parent_dir(d->path) < 0) {
        buf_printf(why, "rename %s to %s: %s", buf_str(&tmp), d->path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        (void)unlink(buf_str(&tmp));
    buf_free(&tmp);
    return rc ? -1 : 0;
}

/*
 * Open FILE.lmdb for in-place update under an exclusive lock. If the file
 * was replaced while we waited for the lock, start over on the new one.
 */
static int writer_open(struct dict_lmdb *d, struct buf *why)
{
    struct stat st, now;
    int rc, tries;

    for (tries = 0; tries < 10; tries++) {
        if (stat(d->path, &st) < 0) {
            if (errno != ENOENT) {
                buf_printf(why, "open %s: %s", d->path, strerror(errno));
                return -1;
            }
            if (create_empty(d, why) < 0 || stat(d->path, &st) < 0)
                return -1;
        }
        if ((rc = mdb_env_create(&d->env)) != 0)
            return lmdb_fail(why, "open", d->path, rc);
        d->mapsize = (size_t)st.st_size + ((size_t)st.st_size > 16 * LMDB_MIN_MAP
                                           ? (size_t)st.st_size : 16 * LMDB_MIN_MAP);
        if ((rc = mdb_env_set_mapsize(d->env, d->mapsize)) != 0
            || (rc = mdb_env_open(d->env, d->path, MDB_NOSUBDIR | MDB_NOLOCK,
                                  LMDB_FILE_MODE)) != 0
            || (rc = mdb_env_get_fd(d->env, &d->fd)) != 0) {
            mdb_env_close(d->env);
            d->env = NULL;
            return lmdb_fail(why, "open", d->path, rc);
        }
        if (lock_fd(d->fd, LOCK_EX) < 0) {
            buf_printf(why, "lock %s: %s", d->path, strerror(errno));
            return -1;
        }
        if (fstat(d->fd, &st) == 0 && stat(d->path, &now) == 0
            && st.st_dev == now.st_dev && st.st_ino == now.st_ino)
            break;
        mdb_env_close(d->env);          /* replaced meanwhile: try again */
        d->env = NULL;
    }
    if (d->env == NULL) {
        buf_printf(why, "open %s: the file keeps being replaced", d->path);
        return -1;
    }
    {
        MDB_envinfo info;

        if (mdb_env_info(d->env, &info) == 0 && info.me_mapsize > d->mapsize)
            d->mapsize = info.me_mapsize;
    }
    if (writer_txn(d, why) < 0)
        return -1;
    if ((rc = mdb_dbi_open(d->wtxn, NULL, 0, &d->dbi)) != 0)
        return lmdb_fail(why, "open database in", d->path, rc);
    return 0;
}

/* -------------------------------------------------------------- the ops */

static void lmdb_close(struct dict *dict)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;

    if (d->wtxn)
        mdb_txn_abort(d->wtxn);
    if (d->rtxn)
        mdb_txn_abort(d->rtxn);
    if (d->env)
        mdb_env_close(d->env);          /* also drops the flock() */
    if (d->tmp) {
        (void)unlink(d->tmp);
        free(d->tmp);
    }
    free_arena(d);
    buf_free(&d->oplog);
    free(d->path);
    dict_free_common(dict);
}

static struct dict *lmdb_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err)
{
    struct dict_lmdb *d;
    struct buf tmp = BUF_INIT;
    struct stat st;
    int rc, fd;

    buf_printf(&tmp, "lmdb:%s", name);
    d = (struct dict_lmdb *)dict_alloc(sizeof(*d), &dict_lmdb_ops, buf_str(&tmp), flags);
    buf_reset(&tmp);
    buf_printf(&tmp, "%s%s", name, LMDB_SUFFIX);
    d->path = buf_steal(&tmp);
    d->fd = -1;
    d->maxkey = 511;
    buf_init(&d->oplog, 0);
    d->mode = (flags & DICT_FLAG_CREATE) ? MODE_CREATE
        : (flags & DICT_FLAG_WRITE) ? MODE_WRITE : MODE_READ;

    switch (d->mode) {
    case MODE_CREATE:
        /* Claim the temporary name now, so that a bad directory fails early. */
        buf_printf(&tmp, "%s.tmp.%ld", d->path, (long)getpid());
        d->tmp = buf_steal(&tmp);
        if ((unlink(d->tmp) < 0 && errno != ENOENT)
            || (fd = safe_create(d->tmp, O_RDWR, LMDB_FILE_MODE)) < 0) {
            buf_printf(err, "create %s: %s", d->tmp, strerror(errno));
            free(d->tmp);
            d->tmp = NULL;
            goto fail;
        }
        close(fd);
        if ((rc = mdb_env_create(&d->env)) != 0) {
            lmdb_fail(err, "open", d->tmp, rc);
            goto fail;
        }
        d->maxkey = (size_t)mdb_env_get_maxkeysize(d->env);
        break;
    case MODE_WRITE:
        if (writer_open(d, err) < 0)
            goto fail;
        d->maxkey = (size_t)mdb_env_get_maxkeysize(d->env);
        break;
    default:
        if (stat(d->path, &st) < 0) {
            buf_printf(err, "open %s: %s", d->path, strerror(errno));
            goto fail;
        }
        if (reader_open(d, err) < 0)
            goto fail;
        d->checked = time(NULL);
        d->maxkey = (size_t)mdb_env_get_maxkeysize(d->env);
        break;
    }
    return &d->dict;

fail:
    buf_free(&tmp);
    lmdb_close(&d->dict);
    return NULL;
}

/* Check a key for LMDB; 0 or -1 with why. */
static int key_ok(struct dict_lmdb *d, size_t klen, struct buf *why)
{
    if (klen == 0) {
        buf_printf(why, "%s: empty key", d->dict.spec);
        return -1;
    }
    if (klen > d->maxkey) {
        buf_printf(why, "%s: key longer than %zu bytes (the lmdb limit)", d->dict.spec,
                   d->maxkey);
        return -1;
    }
    return 0;
}

static int lmdb_lookup(struct dict *dict, const char *key, struct buf *value, struct buf *why)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;
    size_t klen = strlen(key);
    MDB_val k, v;
    struct rec *r;
    int rc;

    if (klen == 0 || klen > d->maxkey)
        return DICT_NOTFOUND;           /* no such key can be stored */
    if (d->mode == MODE_CREATE) {
        if ((r = build_find(d, key, klen)) == NULL)
            return DICT_NOTFOUND;
        (void)buf_append(value, r->data + r->klen, r->vlen);
        return DICT_FOUND;
    }
    k.mv_data = (void *)key;
    k.mv_size = klen;
    if (d->mode == MODE_WRITE) {
        if (writer_txn(d, why) < 0)
            return DICT_TEMPFAIL;
        rc = mdb_get(d->wtxn, d->dbi, &k, &v);
    } else {
        reader_check(d);
        if (reader_begin(d, why) < 0)
            return DICT_TEMPFAIL;
        rc = mdb_get(d->rtxn, d->dbi, &k, &v);
        if (rc == 0 && buf_append(value, v.mv_data, v.mv_size) < 0)
            rc = ENOMEM;
        reader_end(d);
        if (rc == 0)
            return DICT_FOUND;
    }
    if (rc == MDB_NOTFOUND)
        return DICT_NOTFOUND;
    if (rc != 0) {
        lmdb_fail(why, "look up in", d->path, rc);
        return DICT_TEMPFAIL;
    }
    if (buf_append(value, v.mv_data, v.mv_size) < 0) {
        buf_printf(why, "%s: value too large", d->path);
        return DICT_TEMPFAIL;
    }
    return DICT_FOUND;
}

static int lmdb_update(struct dict *dict, const char *key, const char *value, struct buf *why)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;
    size_t klen = strlen(key), vlen = strlen(value);
    int replace = (dict->flags & DICT_FLAG_DUP_REPLACE) != 0;
    MDB_val k, v;
    int rc;

    if (key_ok(d, klen, why) < 0)
        return -1;
    if (d->mode == MODE_CREATE)
        return build_update(d, key, klen, value, why);
    if (d->mode != MODE_WRITE) {
        buf_printf(why, "%s: table not open for update", d->path);
        return -1;
    }
    if (writer_txn(d, why) < 0)
        return -1;
    for (;;) {
        k.mv_data = (void *)key;
        k.mv_size = klen;
        v.mv_data = (void *)value;
        v.mv_size = vlen;
        rc = mdb_put(d->wtxn, d->dbi, &k, &v, replace ? 0 : MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return 1;
        if (rc != MDB_MAP_FULL)
            break;
        if (writer_recover(d, why) < 0)
            return -1;
    }
    if (rc != 0)
        return lmdb_fail(why, "update", d->path, rc);
    oplog_add(d, OP_PUT, key, klen, value, vlen);
    return 0;
}

static int lmdb_remove(struct dict *dict, const char *key, struct buf *why)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;
    size_t klen = strlen(key);
    struct rec *r;
    MDB_val k;
    int rc;

    if (klen == 0 || klen > d->maxkey)
        return DICT_NOTFOUND;
    if (d->mode == MODE_CREATE) {
        if ((r = build_find(d, key, klen)) == NULL)
            return DICT_NOTFOUND;
        d->bytes -= r->klen + r->vlen;
        r->vlen = REC_REMOVED;
        return DICT_FOUND;
    }
    if (d->mode != MODE_WRITE) {
        buf_printf(why, "%s: table not open for update", d->path);
        return DICT_TEMPFAIL;
    }
    if (writer_txn(d, why) < 0)
        return DICT_TEMPFAIL;
    for (;;) {
        k.mv_data = (void *)key;
        k.mv_size = klen;
        rc = mdb_del(d->wtxn, d->dbi, &k, NULL);
        if (rc != MDB_MAP_FULL)
            break;
        if (writer_recover(d, why) < 0)
            return DICT_TEMPFAIL;
    }
    if (rc == MDB_NOTFOUND)
        return DICT_NOTFOUND;
    if (rc != 0) {
        lmdb_fail(why, "delete from", d->path, rc);
        return DICT_TEMPFAIL;
    }
    oplog_add(d, OP_DEL, key, klen, "", 0);
    return DICT_FOUND;
}

static int lmdb_iterate(struct dict *dict, dict_walk_fn fn, void *arg, struct buf *why)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;
    struct buf key = BUF_INIT, value = BUF_INIT;
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val k, v;
    int rc, stop = 0;

    if (d->mode == MODE_CREATE) {
        buf_printf(why, "%s: cannot list a table that is being built", d->path);
        return -1;
    }
    if (d->mode == MODE_WRITE) {
        if (writer_txn(d, why) < 0)
            return -1;
        txn = d->wtxn;
    } else {
        reader_check(d);
        if (reader_begin(d, why) < 0)
            return -1;
        txn = d->rtxn;
    }
    if ((rc = mdb_cursor_open(txn, d->dbi, &cur)) == 0) {
        while (!stop && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
            buf_reset(&key);
            buf_reset(&value);
            if (buf_append(&key, k.mv_data, k.mv_size) < 0
                || buf_append(&value, v.mv_data, v.mv_size) < 0) {
                rc = ENOMEM;
                break;
            }
            stop = fn(buf_str(&key), buf_str(&value), arg);
        }
        mdb_cursor_close(cur);
    }
    if (d->mode == MODE_READ)
        reader_end(d);
    buf_free(&key);
    buf_free(&value);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return lmdb_fail(why, "read", d->path, rc);
    return 0;
}

static int lmdb_commit(struct dict *dict, struct buf *why)
{
    struct dict_lmdb *d = (struct dict_lmdb *)dict;
    int rc;

    if (d->mode == MODE_CREATE)
        return build_commit(d, why);
    if (d->mode != MODE_WRITE || d->wtxn == NULL)
        return 0;
    while ((rc = mdb_txn_commit(d->wtxn)) == MDB_MAP_FULL) {
        d->wtxn = NULL;                 /* a failed commit frees the txn */
        if (writer_recover(d, why) < 0)
            return -1;
    }
    d->wtxn = NULL;
    buf_reset(&d->oplog);
    if (rc != 0)
        return lmdb_fail(why, "commit", d->path, rc);
    if ((rc = mdb_env_sync(d->env, 1)) != 0)
        return lmdb_fail(why, "sync", d->path, rc);
    return 0;
}

const struct dict_ops dict_lmdb_ops = {
    .type = "lmdb",
    .caps = DICT_CAP_UPDATE | DICT_CAP_ITERATE | DICT_CAP_COMPILED,
    .open = lmdb_open,
    .lookup = lmdb_lookup,
    .update = lmdb_update,
    .remove = lmdb_remove,
    .iterate = lmdb_iterate,
    .commit = lmdb_commit,
    .close = lmdb_close,
};
