/*
 * queue_file_read - opening, checking, reading and updating queue files,
 * and moving corrupt ones to corrupt/ (the rules are in queue_file.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "queue_file.h"
#include "safe_file.h"
#include "queue_file_rec.h"

#define WINDOW 65536
/* The largest payload other than content: an attribute. */
#define REC_MAX (QF_MAX_ATTR_NAME + 1 + QF_MAX_ATTR_VALUE)

struct qf_attr {
    char *name;
    char *value;
};

struct queue_file {
    int fd;                     /* -1 for a memory image */
    unsigned char *mem;         /* the memory image (owned) */
    uint64_t file_size;
    int writable;
    struct qf_envelope env;
    char *sender, *envid, *client[CLIENT_FIELDS];
    struct qf_attr *attrs;
    size_t nattrs;
    uint64_t env_start;         /* first record after V */
    uint64_t size_off;          /* the Z record */
    uint64_t warn_off;          /* the W record */
    uint64_t content_start;     /* first record after Z */
    uint64_t rcpt_cursor;
    size_t rcpt_index;
    uint64_t content_cursor;
    uint32_t chunk_left;
    int content_done;
    unsigned char rec[REC_MAX + 2];     /* payload of the record looked at */
    size_t rec_len;
    unsigned char *win;         /* read window over the file */
    uint64_t win_off;
    size_t win_len;
};

/* Read len bytes at off into dst; -1 on I/O error or short file. */
static int fetch(struct queue_file *qf, uint64_t off, void *dst, size_t len)
{
    ssize_t n;

    if (off > qf->file_size || len > qf->file_size - off) {
        errno = EIO;
        return -1;
    }
    if (qf->mem != NULL) {
        memcpy(dst, qf->mem + off, len);
        return 0;
    }
    if (off >= qf->win_off && off + len <= qf->win_off + qf->win_len) {
        memcpy(dst, qf->win + (off - qf->win_off), len);
        return 0;
    }
    if (len >= WINDOW) {
        n = pread(qf->fd, dst, len, (off_t)off);
        if (n < 0 || (size_t)n != len) {
            if (n >= 0)
                errno = EIO;
            return -1;
        }
        return 0;
    }
    do {
        n = pread(qf->fd, qf->win, WINDOW, (off_t)off);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        qf->win_len = 0;
        return -1;
    }
    qf->win_off = off;
    qf->win_len = (size_t)n;
    if ((size_t)n < len) {
        errno = EIO;
        return -1;
    }
    memcpy(dst, qf->win, len);
    return 0;
}

/*
 * Read the record header at off: type and payload length. A header
 * outside the window is read on its own, so that walking over content
 * records does not read the content.
 */
static int read_header(struct queue_file *qf, uint64_t off, int *type, uint32_t *len)
{
    unsigned char hdr[QF_HEADER_SIZE];
    ssize_t n;

    if (qf->mem != NULL || (off >= qf->win_off
                            && off + QF_HEADER_SIZE <= qf->win_off + qf->win_len)) {
        if (fetch(qf, off, hdr, sizeof(hdr)) < 0)
            return -1;
    } else {
        do {
            n = pread(qf->fd, hdr, sizeof(hdr), (off_t)off);
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(hdr)) {
            if (n >= 0)
                errno = EIO;
            return -1;
        }
    }
    *type = hdr[0];
    *len = qf_get_u32(hdr + 1);
    return 0;
}

/* Read a payload of len bytes at off into qf->rec (NUL-terminated). */
static int read_payload(struct queue_file *qf, uint64_t off, uint32_t len)
{
    if (len > REC_MAX) {
        errno = EIO;
        return -1;
    }
    if (fetch(qf, off, qf->rec, len) < 0)
        return -1;
    qf->rec_len = len;
    qf->rec[len] = 0;
    return 0;
}

/* Parse a recipient payload into r (strings point into qf->rec). */
static const char *parse_rcpt(struct queue_file *qf, struct qf_rcpt *r)
{
    unsigned char *p = qf->rec;
    size_t len = qf->rec_len, alen, olen;

    if (len < 5)
        return "recipient record too short";
    if (p[0] != QF_RCPT_PENDING && p[0] != QF_RCPT_DONE)
        return "bad recipient status";
    if (!qf_notify_ok(p[1]))
        return "bad NOTIFY flags";
    alen = qf_get_u16(p + 2);
    if (alen < 1 || alen > QF_MAX_ADDR || alen > len - 4)
        return "bad recipient address length";
    olen = len - 4 - alen;
    if (olen > QF_MAX_ADDR)
        return "ORCPT too long";
    if (!qf_text_ok(p + 4, alen + olen))
        return "bad byte in recipient";
    /* Split address and ORCPT: move ORCPT up one byte (rec has room). */
    memmove(p + 4 + alen + 1, p + 4 + alen, olen);
    p[4 + alen] = 0;
    p[4 + alen + 1 + olen] = 0;
    r->address = (const char *)p + 4;
    r->orcpt = (const char *)p + 4 + alen + 1;
    r->notify = p[1];
    r->done = p[0] == QF_RCPT_DONE;
    return NULL;
}

/* Split a client payload into its four fields (copied). */
static const char *parse_client(struct queue_file *qf)
{
    const unsigned char *p = qf->rec;
    size_t len = qf->rec_len, pos = 0, flen;

    for (int i = 0; i < CLIENT_FIELDS; i++) {
        if (len - pos < 2)
            return "client record too short";
        flen = qf_get_u16(p + pos);
        pos += 2;
        if (flen > QF_MAX_CLIENT_FIELD || flen > len - pos)
            return "bad client field length";
        if (!qf_text_ok(p + pos, flen))
            return "bad byte in client field";
        qf->client[i] = xstrndup((const char *)p + pos, flen);
        pos += flen;
    }
    if (pos != len)
        return "junk after client fields";
    return NULL;
}

/* Check an attribute payload and keep it. */
static const char *parse_attr(struct queue_file *qf)
{
    const char *p = (const char *)qf->rec, *eq;
    size_t len = qf->rec_len;

    if (qf->nattrs >= QF_MAX_ATTRS)
        return "too many attributes";
    if ((eq = memchr(p, '=', len)) == NULL)
        return "attribute without '='";
    if (!qf_attr_name_ok(p, (size_t)(eq - p)))
        return "bad attribute name";
    if (len - (size_t)(eq - p) - 1 > QF_MAX_ATTR_VALUE || !qf_text_ok(eq + 1, len - (size_t)(eq - p) - 1))
        return "bad attribute value";
    qf->attrs = xreallocarray(qf->attrs, qf->nattrs + 1, sizeof(*qf->attrs));
    qf->attrs[qf->nattrs].name = xstrndup(p, (size_t)(eq - p));
    qf->attrs[qf->nattrs].value = xstrndup(eq + 1, len - (size_t)(eq - p) - 1);
    qf->nattrs++;
    return NULL;
}

/* What the scan has seen so far. */
struct scan_state {
    int section;                /* 0: before V, 1: envelope, 2: content, 3: after E */
    int seen[256];
    uint64_t content_bytes;
};

/* Check one envelope record's payload (already in qf->rec) and keep it. */
static const char *scan_envelope(struct queue_file *qf, struct scan_state *s,
                                 int type, uint64_t off)
{
    const unsigned char *p = qf->rec;
    size_t len = qf->rec_len;
    struct qf_rcpt r;
    const char *why;

    switch (type) {
    case QF_REC_TIME:
        if (qf_get_u32(p + 8) >= 1000000 || qf_get_u64(p) > (uint64_t)INT64_MAX / 2)
            return "bad arrival time";
        qf->env.arrival.tv_sec = (time_t)qf_get_u64(p);
        qf->env.arrival.tv_usec = (suseconds_t)qf_get_u32(p + 8);
        return NULL;
    case QF_REC_QUEUE_ID:
        if (!qf_text_ok(p, len) || !queue_id_valid((const char *)p))
            return "bad queue ID";
        memcpy(qf->env.queue_id, p, len + 1);
        return NULL;
    case QF_REC_SENDER:
        if (!qf_text_ok(p, len))
            return "bad byte in sender";
        qf->sender = xstrndup((const char *)p, len);
        return NULL;
    case QF_REC_WARN:
        if (qf_get_u64(p) > (uint64_t)INT64_MAX / 2)
            return "bad warning time";
        qf->env.warn_time = (time_t)qf_get_u64(p);
        qf->warn_off = off;
        return NULL;
    case QF_REC_ENVID:
        if (!qf_envid_ok(p, len))
            return "bad ENVID";
        qf->envid = xstrndup((const char *)p, len);
        return NULL;
    case QF_REC_RET:
        if (p[0] != QF_RET_FULL && p[0] != QF_RET_HDRS)
            return "bad RET value";
        qf->env.ret = (enum qf_ret)p[0];
        return NULL;
    case QF_REC_CLIENT:
        return parse_client(qf);
    case QF_REC_ATTR:
        return parse_attr(qf);
    case QF_REC_RCPT:
        if (qf->env.nrcpt >= QF_MAX_RCPT)
            return "too many recipients";
        if ((why = parse_rcpt(qf, &r)) != NULL)
            return why;
        qf->env.nrcpt++;
        qf->env.ndone += (size_t)r.done;
        return NULL;
    case QF_REC_SIZE:
        if (qf_get_u64(p) > QF_MAX_FILE)
            return "bad message size";
        qf->env.size = qf_get_u64(p);
        qf->size_off = off;
        if (!s->seen[QF_REC_TIME] || !s->seen[QF_REC_QUEUE_ID]
            || !s->seen[QF_REC_SENDER] || !s->seen[QF_REC_WARN])
            return "envelope lacks time, queue ID, sender or warning time";
        if (qf->env.nrcpt == 0)
            return "no recipients";
        return NULL;
    default:
        return "record type not allowed in the envelope";
    }
}

/* Is type a record that may occur only once? */
static int single_record(int type)
{
    return type != QF_REC_ATTR && type != QF_REC_RCPT && type != QF_REC_CONTENT;
}

/* Walk and check the whole file; NULL or the reason it is corrupt. */
static const char *scan(struct queue_file *qf, struct buf *why)
{
    struct scan_state s;
    const struct rec_limit *lim;
    uint64_t off = 0;
    uint32_t len;
    int type;
    const char *bad;

    memset(&s, 0, sizeof(s));
    if (qf->file_size > QF_MAX_FILE)
        return "file too large";
    while (off < qf->file_size) {
        if (qf->file_size - off < QF_HEADER_SIZE) {
            buf_printf(why, "offset %llu: ", (unsigned long long)off);
            return "truncated record header";
        }
        if (read_header(qf, off, &type, &len) < 0)
            return NULL;                            /* I/O error: errno */
        buf_printf(why, "offset %llu: ", (unsigned long long)off);
        if (s.section == 3)
            return "data after the end record";
        if ((lim = qf_rec_limit(type)) == NULL)
            return "unknown record type";
        if (len > qf->file_size - off - QF_HEADER_SIZE)
            return "truncated record";
        if (len < lim->min || len > lim->max)
            return "bad record length";
        if (single_record(type) && s.seen[type])
            return "duplicate record";
        s.seen[type] = 1;
        switch (s.section) {
        case 0:
            if (type != QF_REC_VERSION)
                return "no version record";
            if (read_payload(qf, off + QF_HEADER_SIZE, len) < 0)
                return NULL;
            if (qf->rec[0] != QF_VERSION)
                return "unsupported version";
            qf->env.version = QF_VERSION;
            qf->env_start = off + QF_HEADER_SIZE + len;
            s.section = 1;
            break;
        case 1:
            if (read_payload(qf, off + QF_HEADER_SIZE, len) < 0)
                return NULL;
            if ((bad = scan_envelope(qf, &s, type, off)) != NULL)
                return bad;
            if (type == QF_REC_SIZE) {
                qf->content_start = off + QF_HEADER_SIZE + len;
                s.section = 2;
            }
            break;
        case 2:
            if (type == QF_REC_CONTENT) {
                s.content_bytes += len;
            } else if (type == QF_REC_END) {
                if (s.content_bytes != qf->env.size)
                    return "content length differs from size record";
                s.section = 3;
            } else {
                return "record type not allowed in the content";
            }
            break;
        }
        off += QF_HEADER_SIZE + (uint64_t)len;
        buf_reset(why);
    }
    if (s.section != 3) {
        buf_printf(why, "offset %llu: ", (unsigned long long)off);
        return "truncated: no end record";
    }
    return "";
}

/* A new, empty reader handle. */
static struct queue_file *reader_new(void)
{
    struct queue_file *qf = xcalloc(1, sizeof(*qf));

    qf->fd = -1;
    return qf;
}

/* Scan a handle whose source is set up; 0, or -1 with why (and *corrupt). */
static int reader_check(struct queue_file *qf, const char *name, int *corrupt,
                        struct buf *why)
{
    struct buf where = BUF_INIT;
    const char *bad;

    errno = 0;
    bad = scan(qf, &where);
    if (bad == NULL) {
        *corrupt = 0;
        buf_printf(why, "read error: %s", strerror(errno ? errno : EIO));
        buf_free(&where);
        return -1;
    }
    if (*bad == 0 && name != NULL && queue_id_valid(name)
        && strcmp(name, qf->env.queue_id) != 0)
        bad = "queue ID differs from the file name";
    if (*bad != 0) {
        *corrupt = 1;
        buf_printf(why, "%s%s", buf_str(&where), bad);
        buf_free(&where);
        return -1;
    }
    buf_free(&where);
    qf->env.sender = qf->sender;
    qf->env.envid = qf->envid;
    qf->env.client_name = qf->client[0];
    qf->env.client_addr = qf->client[1];
    qf->env.client_helo = qf->client[2];
    qf->env.client_proto = qf->client[3];
    queue_file_rcpt_rewind(qf);
    queue_file_content_rewind(qf);
    return 0;
}

int queue_file_open(const char *path, int mode, struct queue_file **out,
                    int *corrupt, struct buf *why)
{
    struct queue_file *qf;
    struct stat st;
    const char *base = strrchr(path, '/');
    int fd, dummy;

    if (corrupt == NULL)
        corrupt = &dummy;
    *corrupt = 0;
    *out = NULL;
    fd = safe_open_existing(path, mode == QF_OPEN_RDWR ? O_RDWR : O_RDONLY);
    if (fd < 0) {
        buf_printf(why, "open %s: %s", path, strerror(errno));
        /* A symlink, a FIFO or a hard-linked file is not ours either. */
        *corrupt = errno == ELOOP || errno == EINVAL || errno == EMLINK;
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        buf_printf(why, "fstat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    qf = reader_new();
    qf->fd = fd;
    qf->writable = mode == QF_OPEN_RDWR;
    qf->file_size = (uint64_t)st.st_size;
    qf->win = xmalloc(WINDOW);
    if (reader_check(qf, base ? base + 1 : path, corrupt, why) < 0) {
        queue_file_close(qf);
        return -1;
    }
    *out = qf;
    return 0;
}

int queue_file_open_mem(const void *data, size_t len, struct queue_file **out,
                        struct buf *why)
{
    struct queue_file *qf = reader_new();
    int corrupt;

    *out = NULL;
    qf->mem = xmalloc(len ? len : 1);
    if (len > 0)
        memcpy(qf->mem, data, len);
    qf->file_size = len;
    if (reader_check(qf, NULL, &corrupt, why) < 0) {
        queue_file_close(qf);
        return -1;
    }
    *out = qf;
    return 0;
}

void queue_file_close(struct queue_file *qf)
{
    if (qf == NULL)
        return;
    if (qf->fd >= 0)
        close(qf->fd);
    free(qf->mem);
    free(qf->win);
    free(qf->sender);
    free(qf->envid);
    for (int i = 0; i < CLIENT_FIELDS; i++)
        free(qf->client[i]);
    for (size_t i = 0; i < qf->nattrs; i++) {
        free(qf->attrs[i].name);
        free(qf->attrs[i].value);
    }
    free(qf->attrs);
    free(qf);
}

const struct qf_envelope *queue_file_envelope(const struct queue_file *qf)
{
    return &qf->env;
}

int queue_file_attr_at(const struct queue_file *qf, size_t i,
                       const char **name, const char **value)
{
    if (i >= qf->nattrs)
        return 0;
    *name = qf->attrs[i].name;
    *value = qf->attrs[i].value;
    return 1;
}

const char *queue_file_attr(const struct queue_file *qf, const char *name)
{
    for (size_t i = 0; i < qf->nattrs; i++)
        if (strcmp(qf->attrs[i].name, name) == 0)
            return qf->attrs[i].value;
    return NULL;
}

void queue_file_rcpt_rewind(struct queue_file *qf)
{
    qf->rcpt_cursor = qf->env_start;
    qf->rcpt_index = 0;
}

int queue_file_rcpt_next(struct queue_file *qf, struct qf_rcpt *r, struct buf *why)
{
    const char *bad;
    uint32_t len;
    int type;

    while (qf->rcpt_cursor < qf->size_off) {
        uint64_t off = qf->rcpt_cursor;

        if (read_header(qf, off, &type, &len) < 0) {
            buf_printf(why, "read error: %s", strerror(errno));
            return -1;
        }
        if (len > qf->size_off - off) {
            buf_printf(why, "offset %llu: queue file changed", (unsigned long long)off);
            return -1;
        }
        qf->rcpt_cursor = off + QF_HEADER_SIZE + len;
        if (type != QF_REC_RCPT)
            continue;
        if (read_payload(qf, off + QF_HEADER_SIZE, len) < 0) {
            buf_printf(why, "read error: %s", strerror(errno));
            return -1;
        }
        if ((bad = parse_rcpt(qf, r)) != NULL) {
            buf_printf(why, "offset %llu: %s", (unsigned long long)off, bad);
            return -1;
        }
        r->index = qf->rcpt_index++;
        r->offset = off;
        return 1;
    }
    return 0;
}

void queue_file_content_rewind(struct queue_file *qf)
{
    qf->content_cursor = qf->content_start;
    qf->chunk_left = 0;
    qf->content_done = 0;
}

ssize_t queue_file_content_read(struct queue_file *qf, void *data, size_t len,
                                struct buf *why)
{
    uint32_t rlen;
    size_t n;
    int type;

    while (qf->chunk_left == 0) {
        if (qf->content_done)
            return 0;
        if (read_header(qf, qf->content_cursor, &type, &rlen) < 0) {
            buf_printf(why, "read error: %s", strerror(errno));
            return -1;
        }
        if (type == QF_REC_END) {
            qf->content_done = 1;
            return 0;
        }
        if (type != QF_REC_CONTENT || rlen < 1 || rlen > QF_MAX_CHUNK) {
            buf_printf(why, "offset %llu: queue file changed",
                       (unsigned long long)qf->content_cursor);
            return -1;
        }
        qf->content_cursor += QF_HEADER_SIZE;
        qf->chunk_left = rlen;
    }
    n = len < qf->chunk_left ? len : qf->chunk_left;
    if (n > 0 && fetch(qf, qf->content_cursor, data, n) < 0) {
        buf_printf(why, "read error: %s", strerror(errno));
        return -1;
    }
    qf->content_cursor += n;
    qf->chunk_left -= (uint32_t)n;
    return (ssize_t)n;
}

int queue_file_content_foreach(struct queue_file *qf,
                               int (*fn)(const void *data, size_t len, void *ctx),
                               void *ctx, struct buf *why)
{
    unsigned char *chunk = xmalloc(QF_MAX_CHUNK);
    ssize_t n;
    int ret = 0;

    queue_file_content_rewind(qf);
    while ((n = queue_file_content_read(qf, chunk, QF_MAX_CHUNK, why)) > 0)
        if ((ret = fn(chunk, (size_t)n, ctx)) != 0)
            break;
    if (n < 0)
        ret = -1;
    free(chunk);
    return ret;
}

/* Check that off is a recipient record of this file; NULL or why not. */
static const char *check_rcpt_at(struct queue_file *qf, uint64_t off, int *was_done)
{
    unsigned char head[QF_HEADER_SIZE + 1];
    ssize_t n;

    if (off < qf->env_start || off >= qf->size_off)
        return "recipient offset outside the envelope";
    n = pread(qf->fd, head, sizeof(head), (off_t)off);
    if (n != (ssize_t)sizeof(head))
        return "cannot read recipient record";
    if (head[0] != QF_REC_RCPT
        || (head[QF_HEADER_SIZE] != QF_RCPT_PENDING && head[QF_HEADER_SIZE] != QF_RCPT_DONE))
        return "no recipient record at that offset";
    *was_done = head[QF_HEADER_SIZE] == QF_RCPT_DONE;
    return NULL;
}

int queue_file_mark_done_many(struct queue_file *qf, const struct qf_rcpt *const *r,
                              size_t n, struct buf *why)
{
    static const unsigned char done = QF_RCPT_DONE;
    const char *bad;
    int was_done;

    if (qf->fd < 0 || !qf->writable) {
        buf_printf(why, "%s: queue file not open for update", qf->env.queue_id);
        return -1;
    }
    qf->win_len = 0;                /* the window may hold old status bytes */
    for (size_t i = 0; i < n; i++) {
        if ((bad = check_rcpt_at(qf, r[i]->offset, &was_done)) != NULL) {
            buf_printf(why, "%s: offset %llu: %s", qf->env.queue_id,
                       (unsigned long long)r[i]->offset, bad);
            return -1;
        }
        if (was_done)
            continue;
        if (qf_pwrite_all(qf->fd, &done, 1, r[i]->offset + QF_HEADER_SIZE) < 0) {
            buf_printf(why, "%s: update: %s", qf->env.queue_id, strerror(errno));
            return -1;
        }
        qf->env.ndone++;
    }
    if (fsync(qf->fd) < 0) {
        buf_printf(why, "%s: fsync: %s", qf->env.queue_id, strerror(errno));
        return -1;
    }
    return 0;
}

int queue_file_mark_done(struct queue_file *qf, const struct qf_rcpt *r, struct buf *why)
{
    return queue_file_mark_done_many(qf, &r, 1, why);
}

int queue_file_set_warn_time(struct queue_file *qf, time_t when, struct buf *why)
{
    unsigned char p[8];

    if (qf->fd < 0 || !qf->writable) {
        buf_printf(why, "%s: queue file not open for update", qf->env.queue_id);
        return -1;
    }
    if (when < 0) {
        buf_printf(why, "%s: bad warning time", qf->env.queue_id);
        return -1;
    }
    qf->win_len = 0;
    qf_put_u64(p, (uint64_t)when);
    if (qf_pwrite_all(qf->fd, p, sizeof(p), qf->warn_off + QF_HEADER_SIZE) < 0
        || fsync(qf->fd) < 0) {
        buf_printf(why, "%s: update: %s", qf->env.queue_id, strerror(errno));
        return -1;
    }
    qf->env.warn_time = when;
    return 0;
}

/* ---------------------------------------------------------------- corrupt */

int queue_file_quarantine(const char *path, const char *corrupt_dir, const char *why)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    struct buf to = BUF_INIT;
    int ret = -1;

    msg_warn("%s: corrupt queue file: %s", base, why);
    for (int i = 0; i < 10; i++) {
        buf_reset(&to);
        buf_printf(&to, "%s/%s", corrupt_dir, base);
        if (i > 0)
            buf_printf(&to, ".%d", i);
        if ((ret = qf_rename_noreplace(path, buf_str(&to))) == 0 || errno != EEXIST)
            break;
    }
    if (ret < 0)
        msg_warn("%s: cannot move %s to %s: %s", base, path, corrupt_dir, strerror(errno));
    else if (fsync_parent_dir(buf_str(&to)) < 0)
        msg_warn("%s: fsync %s: %s", base, corrupt_dir, strerror(errno));
    buf_free(&to);
    return ret;
}
