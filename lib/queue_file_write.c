/*
 * queue_file_write - creating and committing queue files: records are
 * buffered and written in large pieces, content is streamed in chunks,
 * and commit is end record + fsync + rename + directory fsync (the rules
 * are in queue_file.h).
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

#define OUT_FLUSH (128 * 1024)      /* write the output buffer past this */

struct queue_file_writer {
    int fd;
    char *tmp_path;
    char id[QUEUE_ID_SIZE];
    struct timeval arrival;
    uint64_t unique;            /* inode number */
    struct buf out;             /* records not yet written */
    uint64_t flushed;           /* bytes written to fd */
    unsigned char *chunk;       /* content not yet in a B record */
    size_t chunk_len;
    uint64_t content_size;
    uint64_t time_off, id_off, size_off, warn_off;
    int have_sender, have_envid, have_ret, have_client;
    size_t nrcpt, nattrs;
    int in_content;
    int failed;
    struct buf err;
};

/* Make the writer fail with a reason (the first one sticks); -1. */
static int wfail(struct queue_file_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int wfail(struct queue_file_writer *w, const char *fmt, ...)
{
    va_list ap;

    if (!w->failed) {
        w->failed = 1;
        buf_reset(&w->err);
        va_start(ap, fmt);
        buf_vprintf(&w->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Write out the buffered records. */
static int wflush(struct queue_file_writer *w)
{
    if (w->out.len == 0)
        return 0;
    if (write_all(w->fd, w->out.data, w->out.len) < 0)
        return wfail(w, "write %s: %s", w->tmp_path, strerror(errno));
    w->flushed += w->out.len;
    buf_reset(&w->out);
    return 0;
}

/* File offset of the next record. */
static uint64_t woffset(const struct queue_file_writer *w)
{
    return w->flushed + w->out.len;
}

/* Append one record whose payload is the concatenation of n parts. */
static int wrecord(struct queue_file_writer *w, int type, size_t n,
                   const void *const *parts, const size_t *lens)
{
    unsigned char hdr[QF_HEADER_SIZE];
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += lens[i];
    hdr[0] = (unsigned char)type;
    qf_put_u32(hdr + 1, (uint32_t)total);
    if (buf_append(&w->out, hdr, sizeof(hdr)) < 0)
        return wfail(w, "out of buffer space");
    for (size_t i = 0; i < n; i++)
        if (lens[i] > 0 && buf_append(&w->out, parts[i], lens[i]) < 0)
            return wfail(w, "out of buffer space");
    return w->out.len >= OUT_FLUSH ? wflush(w) : 0;
}

/* A record with a single payload part. */
static int wrecord1(struct queue_file_writer *w, int type, const void *data, size_t len)
{
    const void *parts[1] = { data };
    size_t lens[1] = { len };

    return wrecord(w, type, 1, parts, lens);
}

/* Refuse envelope records once content has started, and after an error. */
static int wenvelope_ok(struct queue_file_writer *w, const char *what)
{
    if (w->failed)
        return -1;
    if (w->in_content)
        return wfail(w, "%s after the start of the content", what);
    return 0;
}

/* Create the temporary file "tmp.PID.N" in dir. */
static int create_temp(const char *dir, struct buf *path)
{
    static unsigned counter;
    int fd;

    for (int tries = 0; tries < 1000; tries++) {
        buf_reset(path);
        buf_printf(path, "%s/tmp.%ld.%u", dir, (long)getpid(), counter++);
        if ((fd = safe_create(buf_str(path), O_RDWR, 0600)) >= 0)
            return fd;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* The arrival time record payload. */
static void time_payload(unsigned char p[12], const struct timeval *tv)
{
    qf_put_u64(p, (uint64_t)tv->tv_sec);
    qf_put_u32(p + 8, (uint32_t)tv->tv_usec);
}

/* Create a queue file under a temporary name and give it its ID. */
struct queue_file_writer *queue_file_create(const char *tmp_dir, struct buf *err)
{
    struct queue_file_writer *w;
    struct buf path = BUF_INIT;
    struct stat st;
    unsigned char version = QF_VERSION, tbuf[12], wbuf[8] = { 0 };
    int fd;

    if ((fd = create_temp(tmp_dir, &path)) < 0) {
        buf_printf(err, "create queue file in %s: %s", tmp_dir, strerror(errno));
        buf_free(&path);
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        buf_printf(err, "fstat %s: %s", buf_str(&path), strerror(errno));
        unlink(buf_str(&path));
        close(fd);
        buf_free(&path);
        return NULL;
    }
    w = xcalloc(1, sizeof(*w));
    w->fd = fd;
    w->tmp_path = buf_steal(&path);
    w->unique = (uint64_t)st.st_ino;
    buf_init(&w->out, 2 * OUT_FLUSH + QF_MAX_CHUNK);
    buf_init(&w->err, 0);
    w->chunk = xmalloc(QF_MAX_CHUNK);
    if (queue_id_new(w->id, w->unique, &w->arrival) < 0) {
        buf_printf(err, "system clock out of range");
        queue_file_abort(w);
        return NULL;
    }
    time_payload(tbuf, &w->arrival);
    wrecord1(w, QF_REC_VERSION, &version, 1);
    w->time_off = woffset(w);
    wrecord1(w, QF_REC_TIME, tbuf, sizeof(tbuf));
    w->id_off = woffset(w);
    wrecord1(w, QF_REC_QUEUE_ID, w->id, strlen(w->id));
    w->warn_off = woffset(w);
    wrecord1(w, QF_REC_WARN, wbuf, sizeof(wbuf));
    return w;
}

/* Set the W record's payload, still buffered or already written. */
int queue_file_put_warn_time(struct queue_file_writer *w, time_t when)
{
    unsigned char p[8];
    uint64_t at = w->warn_off + QF_HEADER_SIZE;

    if (w->failed)
        return -1;
    if (when < 0)
        return wfail(w, "bad delay warning time");
    qf_put_u64(p, (uint64_t)when);
    if (at >= w->flushed) {
        memcpy(w->out.data + (at - w->flushed), p, sizeof(p));
        return 0;
    }
    if (qf_pwrite_all(w->fd, p, sizeof(p), at) < 0)
        return wfail(w, "write %s: %s", w->tmp_path, strerror(errno));
    return 0;
}

const char *queue_file_writer_id(const struct queue_file_writer *w)
{
    return w->id;
}

struct timeval queue_file_writer_arrival(const struct queue_file_writer *w)
{
    return w->arrival;
}

int queue_file_put_sender(struct queue_file_writer *w, const char *sender)
{
    size_t len = strlen(sender);

    if (wenvelope_ok(w, "sender") < 0)
        return -1;
    if (w->have_sender)
        return wfail(w, "second sender");
    if (len > QF_MAX_ADDR || !qf_text_ok(sender, len))
        return wfail(w, "bad sender address (length %zu)", len);
    w->have_sender = 1;
    return wrecord1(w, QF_REC_SENDER, sender, len);
}

int queue_file_put_envid(struct queue_file_writer *w, const char *envid)
{
    size_t len = strlen(envid);

    if (wenvelope_ok(w, "ENVID") < 0)
        return -1;
    if (w->have_envid)
        return wfail(w, "second ENVID");
    if (!qf_envid_ok(envid, len))
        return wfail(w, "bad ENVID");
    w->have_envid = 1;
    return wrecord1(w, QF_REC_ENVID, envid, len);
}

int queue_file_put_ret(struct queue_file_writer *w, enum qf_ret ret)
{
    unsigned char c = (unsigned char)ret;

    if (wenvelope_ok(w, "RET") < 0)
        return -1;
    if (w->have_ret)
        return wfail(w, "second RET");
    if (ret != QF_RET_FULL && ret != QF_RET_HDRS)
        return wfail(w, "bad RET value %d", (int)ret);
    w->have_ret = 1;
    return wrecord1(w, QF_REC_RET, &c, 1);
}

int queue_file_put_client(struct queue_file_writer *w, const char *name,
                          const char *addr, const char *helo, const char *proto)
{
    const char *fields[CLIENT_FIELDS] = { name, addr, helo, proto };
    unsigned char lenbuf[CLIENT_FIELDS][2];
    const void *parts[2 * CLIENT_FIELDS];
    size_t lens[2 * CLIENT_FIELDS];

    if (wenvelope_ok(w, "client") < 0)
        return -1;
    if (w->have_client)
        return wfail(w, "second client record");
    for (int i = 0; i < CLIENT_FIELDS; i++) {
        const char *f = fields[i] ? fields[i] : "";
        size_t len = strlen(f);

        if (len > QF_MAX_CLIENT_FIELD || !qf_text_ok(f, len))
            return wfail(w, "bad client field %d (length %zu)", i, len);
        qf_put_u16(lenbuf[i], (uint32_t)len);
        parts[2 * i] = lenbuf[i];
        lens[2 * i] = 2;
        parts[2 * i + 1] = f;
        lens[2 * i + 1] = len;
    }
    w->have_client = 1;
    return wrecord(w, QF_REC_CLIENT, 2 * CLIENT_FIELDS, parts, lens);
}

int queue_file_put_attr(struct queue_file_writer *w, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value);
    const void *parts[3] = { name, "=", value };
    size_t lens[3] = { nlen, 1, vlen };

    if (wenvelope_ok(w, "attribute") < 0)
        return -1;
    if (w->nattrs >= QF_MAX_ATTRS)
        return wfail(w, "more than %d attributes", QF_MAX_ATTRS);
    if (!qf_attr_name_ok(name, nlen) || vlen > QF_MAX_ATTR_VALUE || !qf_text_ok(value, vlen))
        return wfail(w, "bad attribute name or value");
    w->nattrs++;
    return wrecord(w, QF_REC_ATTR, 3, parts, lens);
}

int queue_file_put_rcpt(struct queue_file_writer *w, const char *address,
                        const char *orcpt, unsigned notify)
{
    size_t alen = strlen(address), olen;
    unsigned char head[4];
    const void *parts[3];
    size_t lens[3];

    if (orcpt == NULL)
        orcpt = "";
    olen = strlen(orcpt);
    if (wenvelope_ok(w, "recipient") < 0)
        return -1;
    if (w->nrcpt >= QF_MAX_RCPT)
        return wfail(w, "more than %d recipients", QF_MAX_RCPT);
    if (alen < 1 || alen > QF_MAX_ADDR || !qf_text_ok(address, alen))
        return wfail(w, "bad recipient address (length %zu)", alen);
    if (olen > QF_MAX_ADDR || !qf_text_ok(orcpt, olen))
        return wfail(w, "bad ORCPT (length %zu)", olen);
    if (!qf_notify_ok(notify))
        return wfail(w, "bad NOTIFY set 0x%x", notify);
    head[0] = QF_RCPT_PENDING;
    head[1] = (unsigned char)notify;
    qf_put_u16(head + 2, (uint32_t)alen);
    parts[0] = head;
    lens[0] = 4;
    parts[1] = address;
    lens[1] = alen;
    parts[2] = orcpt;
    lens[2] = olen;
    w->nrcpt++;
    return wrecord(w, QF_REC_RCPT, 3, parts, lens);
}

/* Close the envelope: check it is whole, write the size placeholder. */
static int start_content(struct queue_file_writer *w)
{
    unsigned char zero[8] = { 0 };

    if (w->failed)
        return -1;
    if (w->in_content)
        return 0;
    if (!w->have_sender)
        return wfail(w, "no sender");
    if (w->nrcpt == 0)
        return wfail(w, "no recipients");
    w->in_content = 1;
    w->size_off = woffset(w);
    return wrecord1(w, QF_REC_SIZE, zero, sizeof(zero));
}

/* Write the buffered content chunk as one B record. */
static int flush_chunk(struct queue_file_writer *w)
{
    int ret;

    if (w->chunk_len == 0)
        return 0;
    ret = wrecord1(w, QF_REC_CONTENT, w->chunk, w->chunk_len);
    w->chunk_len = 0;
    return ret;
}

int queue_file_put_content(struct queue_file_writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t n;

    if (start_content(w) < 0)
        return -1;
    /* Keep the whole file, record headers and end record too, in bounds. */
    if (len > QF_MAX_FILE
        || woffset(w) + w->chunk_len + len
           + ((w->content_size + len) / QF_MAX_CHUNK + 2) * QF_HEADER_SIZE > QF_MAX_FILE)
        return wfail(w, "queue file larger than %llu bytes", (unsigned long long)QF_MAX_FILE);
    while (len > 0) {
        n = QF_MAX_CHUNK - w->chunk_len;
        if (n > len)
            n = len;
        memcpy(w->chunk + w->chunk_len, p, n);
        w->chunk_len += n;
        w->content_size += n;
        p += n;
        len -= n;
        if (w->chunk_len == QF_MAX_CHUNK && flush_chunk(w) < 0)
            return -1;
    }
    return 0;
}

uint64_t queue_file_content_size(const struct queue_file_writer *w)
{
    return w->content_size;
}


/* Free the writer's memory and close its file (not unlinking anything). */
static void writer_free(struct queue_file_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->tmp_path);
    free(w->chunk);
    buf_free(&w->out);
    buf_free(&w->err);
    free(w);
}

void queue_file_abort(struct queue_file_writer *w)
{
    if (w == NULL)
        return;
    unlink(w->tmp_path);
    writer_free(w);
}

/* Make the hash subdirectories of final_dir for the writer's ID. */
static int make_hash_dirs(const char *final_dir, const char *id, int depth)
{
    struct buf dir = BUF_INIT;
    int ret = 0;

    for (int i = 1; i <= depth && ret == 0; i++) {
        buf_reset(&dir);
        buf_printf(&dir, "%s/", final_dir);
        queue_id_hash_dir(&dir, id, i);
        buf_truncate(&dir, dir.len - 1);            /* the trailing '/' */
        if (mkdir(buf_str(&dir), 0700) == 0)
            ret = fsync_parent_dir(buf_str(&dir));
        else if (errno != EEXIST)
            ret = -1;
    }
    buf_free(&dir);
    return ret;
}


/* Give the file a new ID (same inode, later time) in place. */
static int renumber(struct queue_file_writer *w)
{
    char id[QUEUE_ID_SIZE];
    struct timeval tv;
    unsigned char tbuf[12];

    if (queue_id_new(id, w->unique, &tv) < 0 || strlen(id) != strlen(w->id))
        return -1;
    time_payload(tbuf, &tv);
    if (qf_pwrite_all(w->fd, tbuf, sizeof(tbuf), w->time_off + QF_HEADER_SIZE) < 0
        || qf_pwrite_all(w->fd, id, strlen(id), w->id_off + QF_HEADER_SIZE) < 0
        || fsync(w->fd) < 0)
        return -1;
    memcpy(w->id, id, sizeof(id));
    w->arrival = tv;
    return 0;
}

/* Rename the finished temporary file to its final name; 0 or -1 (errno). */
static int move_into_place(struct queue_file_writer *w, const char *final_dir,
                           int depth, struct buf *final)
{
    for (int tries = 0; tries < 10; tries++) {
        buf_reset(final);
        if (queue_id_path(final, final_dir, w->id, depth) < 0) {
            errno = EINVAL;
            return -1;
        }
        if (qf_rename_noreplace(w->tmp_path, buf_str(final)) == 0)
            return 0;
        if (errno == ENOENT && depth > 0) {
            if (make_hash_dirs(final_dir, w->id, depth) < 0)
                return -1;
        } else if (errno == EEXIST) {
            if (renumber(w) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int queue_file_commit(struct queue_file_writer *w, const char *final_dir,
                      int hash_depth, struct buf *err)
{
    unsigned char size[8];
    struct buf final = BUF_INIT;

    if (hash_depth < 0 || hash_depth > QUEUE_ID_MAX_DEPTH)
        wfail(w, "bad hash depth %d", hash_depth);
    if (start_content(w) == 0 && flush_chunk(w) == 0
        && wrecord1(w, QF_REC_END, NULL, 0) == 0) {
        /* The size goes into the Z record, still buffered for small mail. */
        qf_put_u64(size, w->content_size);
        if (w->size_off >= w->flushed) {
            memcpy(w->out.data + (w->size_off - w->flushed) + QF_HEADER_SIZE, size,
                   sizeof(size));
            if (wflush(w) == 0 && fsync(w->fd) < 0)
                wfail(w, "fsync %s: %s", w->tmp_path, strerror(errno));
        } else if (wflush(w) == 0
                   && (qf_pwrite_all(w->fd, size, sizeof(size), w->size_off + QF_HEADER_SIZE) < 0
                       || fsync(w->fd) < 0)) {
            wfail(w, "write %s: %s", w->tmp_path, strerror(errno));
        }
    }
    if (w->failed) {
        buf_printf(err, "%s: %s", w->id, buf_str(&w->err));
        queue_file_abort(w);
        return -1;
    }
    if (move_into_place(w, final_dir, hash_depth, &final) < 0) {
        buf_printf(err, "%s: rename %s into %s: %s", w->id, w->tmp_path, final_dir,
                   strerror(errno));
        buf_free(&final);
        queue_file_abort(w);
        return -1;
    }
    if (fsync_parent_dir(buf_str(&final)) < 0) {
        buf_printf(err, "%s: fsync directory of %s: %s", w->id, buf_str(&final),
                   strerror(errno));
        unlink(buf_str(&final));        /* not durable: no 250, so no file */
        buf_free(&final);
        writer_free(w);
        return -1;
    }
    buf_free(&final);
    if (close(w->fd) < 0) {
        w->fd = -1;
        /* The data was fsync()ed: a late close error loses nothing. */
    }
    w->fd = -1;
    writer_free(w);
    return 0;
}
