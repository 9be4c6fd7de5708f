/*
 * dsn_log - append, read and parse the bounce/, defer/ and trace/ logs
 * (see dsn_log.h for the format and the rules).
 *
 * Appending. The entry is encoded into one frame and written with one
 * write() on an O_APPEND descriptor, then fsync()ed; a new file also
 * gets its directory fsync()ed, so the entry survives a crash once the
 * call returns. Under an exclusive flock (appenders only; readers need
 * no lock) the writer first walks the frame headers of what is there
 * and cuts off a torn tail that an earlier crash left behind, so that
 * the new entry does not end up behind bytes the reader stops at.
 *
 * Reading. Frames are decoded in order. The first frame that does not
 * decode ends the log (a torn tail); a frame that decodes but is not a
 * valid entry (missing rcpt, unknown action, malformed dsn, bad
 * numbers) is skipped. Either way log->truncated is set, as it is when
 * the file holds more than DSN_LOG_MAX_BYTES or DSN_LOG_MAX_ENTRIES.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn_log.h"
#include "ipc_frame.h"
#include "log.h"
#include "mem.h"
#include "queue_id.h"
#include "safe_file.h"

/* The RFC 3464 actions an entry may carry. */
static const char *const dsn_actions[] = {
    "failed", "delayed", "delivered", "relayed", "expanded", NULL,
};

/* Is s one of the known actions? Returns the static spelling or NULL. */
static const char *known_action(const char *s)
{
    size_t i;

    for (i = 0; dsn_actions[i]; i++)
        if (strcmp(s, dsn_actions[i]) == 0)
            return dsn_actions[i];
    return NULL;
}

/* Is s an RFC 3463 status code: class.subject.detail, 2|4|5.1-3digits.1-3digits? */
static int dsn_code_ok(const char *s)
{
    size_t n;

    if (s[0] != '2' && s[0] != '4' && s[0] != '5')
        return 0;
    if (s[1] != '.')
        return 0;
    s += 2;
    for (n = 0; *s >= '0' && *s <= '9'; s++)
        n++;
    if (n < 1 || n > 3 || *s != '.')
        return 0;
    s++;
    for (n = 0; *s >= '0' && *s <= '9'; s++)
        n++;
    return n >= 1 && n <= 3 && *s == 0;
}

/* Build the full path KIND/QUEUE_ID, refusing names that could escape. */
static int log_path(const char *kind, const char *queue_id, char *path, size_t size)
{
    int n;

    if (strcmp(kind, DSN_LOG_BOUNCE) != 0 && strcmp(kind, DSN_LOG_DEFER) != 0
        && strcmp(kind, DSN_LOG_TRACE) != 0)
        return -1;
    if (!queue_id_valid(queue_id))
        return -1;
    n = snprintf(path, size, "%s/%s", kind, queue_id);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Encode an entry as one frame; -1 when a value is too big or missing.
 * A malformed status code (say, from a confused delivery agent) is
 * replaced by the generic one of its action (5.0.0, 4.0.0, 2.0.0), so
 * that a result is never lost for want of a well-formed code.
 */
static int encode_entry(const struct dsn_entry *e, struct buf *out)
{
    struct ipc_record rec;
    const char *dsn = e->dsn;
    int ret = -1;

    ipc_record_init(&rec);
    if (e->rcpt == NULL || e->action == NULL || known_action(e->action) == NULL)
        goto done;
    if (memchr(e->dsn, 0, sizeof(e->dsn)) == NULL || !dsn_code_ok(e->dsn))
        dsn = strcmp(e->action, "failed") == 0 ? "5.0.0"
              : strcmp(e->action, "delayed") == 0 ? "4.0.0" : "2.0.0";
    if (ipc_add_str(&rec, "rcpt", e->rcpt) < 0
        || ipc_add_str(&rec, "orcpt", e->orcpt ? e->orcpt : "") < 0
        || ipc_add_long(&rec, "notify", (long)e->notify) < 0
        || ipc_add_long(&rec, "offset", (long)e->offset) < 0
        || ipc_add_str(&rec, "action", e->action) < 0
        || ipc_add_str(&rec, "dsn", dsn) < 0
        || ipc_add_str(&rec, "text", e->text ? e->text : "") < 0
        || (e->diag && ipc_add_str(&rec, "diag", e->diag) < 0)
        || (e->mta && ipc_add_str(&rec, "mta", e->mta) < 0)
        || ipc_add_long(&rec, "time", (long)e->time) < 0)
        goto done;
    ret = ipc_encode(&rec, out);
done:
    ipc_record_free(&rec);
    return ret;
}

/*
 * Walk the frame headers of an open log and return the length of its
 * well-framed prefix (equal to size when nothing is torn); -1 on error.
 */
static off_t framed_length(int fd, off_t size)
{
    unsigned char h[IPC_HEADER_SIZE];
    off_t pos = 0;

    while (pos < size) {
        uint32_t len;
        ssize_t got;

        if (size - pos < IPC_HEADER_SIZE)
            return pos;
        got = pread(fd, h, sizeof(h), pos);
        if (got < 0)
            return -1;
        if (got != IPC_HEADER_SIZE)
            return pos;
        len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
        if (h[0] != IPC_VERSION || h[1] != 0
            || len > IPC_MAX_FRAME - IPC_HEADER_SIZE
            || (off_t)(IPC_HEADER_SIZE + len) > size - pos)
            return pos;
        pos += IPC_HEADER_SIZE + (off_t)len;
    }
    return pos;
}

/* Open KIND/ID for appending, creating it; *created says whether we did. */
static int open_append(const char *path, int *created)
{
    int fd;
    int tries;

    for (tries = 0; tries < 3; tries++) {
        fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            *created = 0;
            return fd;
        }
        if (errno != ENOENT)
            return -1;
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd >= 0) {
            *created = 1;
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/* Append one entry durably (see the file comment). */
/*
 * The file this process appended to last and its size right after: when
 * it is still that file at that size, its end is known to be a frame
 * boundary and the walk over the whole log (to cut off a torn tail) is
 * skipped, so a run of appends to one log stays linear, not quadratic.
 */
static struct {
    dev_t dev;
    ino_t ino;
    off_t size;
} last_append;

int dsn_log_append(const char *kind, const char *queue_id,
                   const struct dsn_entry *e, struct buf *why)
{
    char path[64];
    struct buf frame;
    struct stat st;
    off_t good;
    int fd, created = 0, ret = -1;

    if (log_path(kind, queue_id, path, sizeof(path)) < 0) {
        buf_printf(why, "bad log name %s/%s", kind, queue_id);
        return -1;
    }
    buf_init(&frame, IPC_MAX_FRAME);
    if (encode_entry(e, &frame) < 0) {
        buf_printf(why, "%s: %s log entry for <%s> is malformed or too large",
                   queue_id, kind, e->rcpt ? e->rcpt : "");
        buf_free(&frame);
        return -1;
    }
    if ((fd = open_append(path, &created)) < 0) {
        buf_printf(why, "open %s: %s", path, strerror(errno));
        buf_free(&frame);
        return -1;
    }
    if (flock(fd, LOCK_EX) < 0) {
        buf_printf(why, "lock %s: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) < 0) {
        buf_printf(why, "fstat %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        buf_printf(why, "%s: not a regular file with one link", path);
        goto done;
    }
    if (st.st_dev == last_append.dev && st.st_ino == last_append.ino
        && st.st_size == last_append.size && st.st_size > 0) {
        good = st.st_size;      /* our own last append ended here */
    } else if ((good = framed_length(fd, st.st_size)) < 0) {
        buf_printf(why, "read %s: %s", path, strerror(errno));
        goto done;
    }
    if (good < st.st_size) {
        msg_warn("%s: %s log: cutting off %lld torn bytes at offset %lld",
                 queue_id, kind, (long long)(st.st_size - good), (long long)good);
        if (ftruncate(fd, good) < 0) {
            buf_printf(why, "truncate %s: %s", path, strerror(errno));
            goto done;
        }
    }
    if (write_all(fd, frame.data, frame.len) < 0) {
        buf_printf(why, "write %s: %s", path, strerror(errno));
        /* Do not leave our own torn entry behind if we can help it. */
        if (ftruncate(fd, framed_length(fd, lseek(fd, 0, SEEK_END))) < 0)
            msg_warn("truncate %s: %s", path, strerror(errno));
        goto done;
    }
    if (fsync(fd) < 0) {
        buf_printf(why, "fsync %s: %s", path, strerror(errno));
        goto done;
    }
    if (created && fsync_parent_dir(path) < 0) {
        buf_printf(why, "fsync directory of %s: %s", path, strerror(errno));
        goto done;
    }
    last_append.dev = st.st_dev;
    last_append.ino = st.st_ino;
    last_append.size = good + (off_t)frame.len;
    ret = 0;
done:
    if (ret < 0)
        memset(&last_append, 0, sizeof(last_append));
    close(fd);                  /* releases the lock */
    buf_free(&frame);
    return ret;
}

/* Copy a string attribute; NULL if absent or not a C string. */
static char *dup_attr(const struct ipc_record *rec, const char *name)
{
    const char *s = ipc_get_str(rec, name);

    return s ? xstrdup(s) : NULL;
}

/* Release what one entry owns. */
static void entry_free(struct dsn_entry *e)
{
    free(e->rcpt);
    free(e->orcpt);
    free(e->action);
    free(e->text);
    free(e->diag);
    free(e->mta);
    memset(e, 0, sizeof(*e));
}

/* Fill e from a decoded frame; -1 (e untouched) when it is no valid entry. */
static int entry_from_record(const struct ipc_record *rec, struct dsn_entry *e)
{
    const char *rcpt = ipc_get_str(rec, "rcpt");
    const char *action = ipc_get_str(rec, "action");
    const char *dsn = ipc_get_str(rec, "dsn");
    const char *orcpt = ipc_get_str(rec, "orcpt");
    const char *text = ipc_get_str(rec, "text");
    long notify = 0, offset, when = 0;

    if (rcpt == NULL || action == NULL || dsn == NULL)
        return -1;
    if (known_action(action) == NULL || strlen(dsn) >= sizeof(e->dsn)
        || !dsn_code_ok(dsn))
        return -1;
    if (ipc_get_long(rec, "offset", &offset) < 0 || offset < 0)
        return -1;
    if (ipc_get(rec, "notify") != NULL
        && (ipc_get_long(rec, "notify", &notify) < 0 || notify < 0 || notify > 0xff))
        return -1;
    if (ipc_get(rec, "time") != NULL && ipc_get_long(rec, "time", &when) < 0)
        return -1;
    /* Optional strings must be C strings when present. */
    if ((ipc_get(rec, "orcpt") != NULL && orcpt == NULL)
        || (ipc_get(rec, "text") != NULL && text == NULL)
        || (ipc_get(rec, "diag") != NULL && ipc_get_str(rec, "diag") == NULL)
        || (ipc_get(rec, "mta") != NULL && ipc_get_str(rec, "mta") == NULL))
        return -1;
    memset(e, 0, sizeof(*e));
    e->rcpt = xstrdup(rcpt);
    e->orcpt = xstrdup(orcpt ? orcpt : "");
    e->notify = (unsigned)notify;
    e->offset = (uint64_t)offset;
    e->action = xstrdup(action);
    memcpy(e->dsn, dsn, strlen(dsn) + 1);
    e->text = xstrdup(text ? text : "");
    e->diag = dup_attr(rec, "diag");
    e->mta = dup_attr(rec, "mta");
    e->time = (time_t)when;
    return 0;
}

/* Parse a log image (see the file comment for the tolerance rules). */
void dsn_log_parse(const void *data, size_t len, struct dsn_log *log)
{
    const unsigned char *p = data;
    struct ipc_record rec;
    size_t pos = 0, cap = 0;

    memset(log, 0, sizeof(*log));
    if (len > DSN_LOG_MAX_BYTES) {
        len = DSN_LOG_MAX_BYTES;
        log->truncated = 1;
    }
    ipc_record_init(&rec);
    while (pos < len) {
        size_t used = 0;
        const char *why = NULL;
        struct dsn_entry e;

        if (log->n >= DSN_LOG_MAX_ENTRIES) {
            log->truncated = 1;
            break;
        }
        if (ipc_decode(p + pos, len - pos, &rec, &used, &why) != IPC_OK) {
            log->truncated = 1;
            break;
        }
        pos += used;
        if (entry_from_record(&rec, &e) < 0) {
            log->truncated = 1;
            continue;
        }
        if (log->n == cap) {
            cap = cap ? cap * 2 : 8;
            log->v = xreallocarray(log->v, cap, sizeof(*log->v));
        }
        log->v[log->n++] = e;
    }
    ipc_record_free(&rec);
}

/* Read and parse KIND/QUEUE_ID. */
int dsn_log_read(const char *kind, const char *queue_id, struct dsn_log *log,
                 struct buf *why)
{
    char path[64];
    struct stat st;
    unsigned char *data;
    size_t want;
    ssize_t got;
    int fd, over = 0;

    memset(log, 0, sizeof(*log));
    if (log_path(kind, queue_id, path, sizeof(path)) < 0) {
        buf_printf(why, "bad log name %s/%s", kind, queue_id);
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return 1;
        buf_printf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        buf_printf(why, "%s: %s", path, errno ? strerror(errno) : "not a regular file");
        close(fd);
        return -1;
    }
    want = (size_t)st.st_size;
    if (st.st_size > DSN_LOG_MAX_BYTES) {
        want = DSN_LOG_MAX_BYTES;
        over = 1;
    }
    data = xmalloc(want + 1);
    got = read_all(fd, data, want);
    close(fd);
    if (got < 0) {
        buf_printf(why, "read %s: %s", path, strerror(errno));
        free(data);
        return -1;
    }
    dsn_log_parse(data, (size_t)got, log);
    if (over)
        log->truncated = 1;
    free(data);
    return 0;
}

/* Sort key for dsn_log_latest: an entry's offset and position. */
struct latest_key {
    uint64_t offset;
    size_t pos;
    size_t first;
};

/* Order by offset, then by position. */
static int cmp_offset_pos(const void *a, const void *b)
{
    const struct latest_key *x = a, *y = b;

    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Order by first-seen position. */
static int cmp_first(const void *a, const void *b)
{
    const struct latest_key *x = a, *y = b;

    return x->first < y->first ? -1 : x->first > y->first;
}

/* Keep only the last entry per offset, in first-seen order. */
void dsn_log_latest(struct dsn_log *log)
{
    struct latest_key *k;
    struct dsn_entry *out;
    size_t i, j, groups = 0;

    if (log->n < 2)
        return;
    k = xreallocarray(NULL, log->n, sizeof(*k));
    for (i = 0; i < log->n; i++) {
        k[i].offset = log->v[i].offset;
        k[i].pos = i;
    }
    qsort(k, log->n, sizeof(*k), cmp_offset_pos);
    /* Collapse each run of one offset into (first, last) kept as (first, pos). */
    for (i = 0; i < log->n; i = j) {
        size_t first = k[i].pos;

        for (j = i + 1; j < log->n && k[j].offset == k[i].offset; j++)
            entry_free(&log->v[k[j - 1].pos]);
        k[groups].offset = k[i].offset;
        k[groups].first = first;
        k[groups].pos = k[j - 1].pos;
        groups++;
    }
    qsort(k, groups, sizeof(*k), cmp_first);
    out = xreallocarray(NULL, groups, sizeof(*out));
    for (i = 0; i < groups; i++)
        out[i] = log->v[k[i].pos];
    free(log->v);
    free(k);
    log->v = out;
    log->n = groups;
}

/* Release a log's entries. */
void dsn_log_free(struct dsn_log *log)
{
    size_t i;

    for (i = 0; i < log->n; i++)
        entry_free(&log->v[i]);
    free(log->v);
    log->v = NULL;
    log->n = 0;
    log->truncated = 0;
}

/* Remove KIND/QUEUE_ID (durably: the directory is fsync()ed). */
int dsn_log_remove(const char *kind, const char *queue_id)
{
    char path[64];

    if (log_path(kind, queue_id, path, sizeof(path)) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (unlink(path) < 0)
        return errno == ENOENT ? 0 : -1;
    return fsync_parent_dir(path) < 0 ? -1 : 0;
}
