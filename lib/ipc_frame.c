/*
 * ipc_frame - encoder, decoder and blocking socket helpers for the
 * internal request/response format (see ipc_frame.h for the wire format).
 *
 * A record keeps its values in one buffer (rec->store), each value
 * followed by a NUL byte so that ipc_get_str() can hand out the stored
 * bytes as a C string. Values are stored in attribute order, so after the
 * store moves (realloc) every value pointer is recomputed from the
 * running sum of lengths.
 *
 * The decoder checks the header and then each attribute as soon as its
 * bytes are available, so a bad frame is rejected as early as possible and
 * a strict prefix of a good frame is always "need more".
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc_frame.h"
#include "mem.h"
#include "numparse.h"

/* Smallest attribute: namelen, one name byte, valuelen. */
#define IPC_MIN_ATTR    (1 + 1 + 4)
/* Values plus one NUL each never exceed this. */
#define IPC_STORE_LIMIT (IPC_MAX_FRAME + IPC_MAX_ATTRS + 1)

/* Initialise an empty record. */
void ipc_record_init(struct ipc_record *rec)
{
    rec->attrs = NULL;
    rec->count = 0;
    rec->cap = 0;
    buf_init(&rec->store, IPC_STORE_LIMIT);
}

/* Release everything a record owns; it may be initialised again. */
void ipc_record_free(struct ipc_record *rec)
{
    free(rec->attrs);
    rec->attrs = NULL;
    rec->count = rec->cap = 0;
    buf_free(&rec->store);
}

/* Forget all attributes but keep the memory for reuse. */
void ipc_record_reset(struct ipc_record *rec)
{
    rec->count = 0;
    buf_reset(&rec->store);
}

/* Are all len bytes of name in [a-z0-9_]? */
static int name_chars_ok(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Is name 1..IPC_MAX_NAME bytes of [a-z0-9_]? */
static int name_ok(const char *name, size_t len)
{
    return len > 0 && len <= IPC_MAX_NAME && name_chars_ok(name, len);
}

/* Point every attribute's value into the (possibly moved) store. */
static void rebase_values(struct ipc_record *rec)
{
    const unsigned char *base = (const unsigned char *)rec->store.data;
    size_t off = 0, i;

    for (i = 0; i < rec->count; i++) {
        rec->attrs[i].value = base + off;
        off += rec->attrs[i].len + 1;
    }
}

/* Encoded size of the record, header included. */
static size_t encoded_size(const struct ipc_record *rec)
{
    size_t total = IPC_HEADER_SIZE, i;

    for (i = 0; i < rec->count; i++)
        total += 1 + strlen(rec->attrs[i].name) + 4 + rec->attrs[i].len;
    return total;
}

/* Make room for one more attribute slot. */
static void grow_attrs(struct ipc_record *rec)
{
    size_t cap;

    if (rec->count < rec->cap)
        return;
    cap = rec->cap ? rec->cap * 2 : 8;
    if (cap > IPC_MAX_ATTRS)
        cap = IPC_MAX_ATTRS;
    rec->attrs = xreallocarray(rec->attrs, cap, sizeof(*rec->attrs));
    rec->cap = cap;
}

/* Append an attribute without checking frame-level limits. */
static int append_attr(struct ipc_record *rec, const char *name, size_t namelen,
                       const void *value, size_t len)
{
    struct ipc_attr *a;
    size_t old_len = rec->store.len;

    grow_attrs(rec);
    if (buf_append(&rec->store, value, len) < 0
        || buf_putc(&rec->store, 0) < 0) {
        buf_truncate(&rec->store, old_len);
        return -1;
    }
    a = rec->attrs + rec->count++;
    memcpy(a->name, name, namelen);
    a->name[namelen] = 0;
    a->len = len;
    rebase_values(rec);
    return 0;
}

/* Add a copy of name=value; -1 for a bad name or a broken limit. */
int ipc_add(struct ipc_record *rec, const char *name, const void *value, size_t len)
{
    size_t namelen;

    if (name == NULL || (value == NULL && len > 0))
        return -1;
    namelen = strlen(name);
    if (!name_ok(name, namelen) || len > IPC_MAX_VALUE
        || rec->count >= IPC_MAX_ATTRS)
        return -1;
    if (encoded_size(rec) + 1 + namelen + 4 + len > IPC_MAX_FRAME)
        return -1;
    return append_attr(rec, name, namelen, value ? value : "", len);
}

/* Add a text attribute. */
int ipc_add_str(struct ipc_record *rec, const char *name, const char *value)
{
    if (value == NULL)
        return -1;
    return ipc_add(rec, name, value, strlen(value));
}

/* Add a decimal integer attribute. */
int ipc_add_long(struct ipc_record *rec, const char *name, long value)
{
    char num[32];

    snprintf(num, sizeof(num), "%ld", value);
    return ipc_add_str(rec, name, num);
}

/* First attribute called name, or NULL. */
const struct ipc_attr *ipc_get(const struct ipc_record *rec, const char *name)
{
    size_t i;

    for (i = 0; i < rec->count; i++)
        if (strcmp(rec->attrs[i].name, name) == 0)
            return rec->attrs + i;
    return NULL;
}

/* Value as a C string; NULL if absent or if it holds a NUL byte. */
const char *ipc_get_str(const struct ipc_record *rec, const char *name)
{
    const struct ipc_attr *a = ipc_get(rec, name);

    if (a == NULL || memchr(a->value, 0, a->len) != NULL)
        return NULL;
    return (const char *)a->value;      /* the store keeps a NUL after it */
}

/* Value as a strict decimal long. */
int ipc_get_long(const struct ipc_record *rec, const char *name, long *out)
{
    const char *s = ipc_get_str(rec, name);

    if (s == NULL)
        return -1;
    return parse_long(s, LONG_MIN, LONG_MAX, out);
}

/* Store v big-endian in 2 bytes. */
static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* Store v big-endian in 4 bytes. */
static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Big-endian 2-byte integer at p. */
static uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Big-endian 4-byte integer at p. */
static uint32_t get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16)
        | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Append one attribute's encoding to out. */
static int encode_attr(const struct ipc_attr *a, struct buf *out)
{
    unsigned char hdr[4];
    size_t namelen = strlen(a->name);

    hdr[0] = (unsigned char)namelen;
    if (buf_append(out, hdr, 1) < 0 || buf_append(out, a->name, namelen) < 0)
        return -1;
    put_u32(hdr, (uint32_t)a->len);
    if (buf_append(out, hdr, 4) < 0 || buf_append(out, a->value, a->len) < 0)
        return -1;
    return 0;
}

/* Append the record's frame to out; out is unchanged on failure. */
int ipc_encode(const struct ipc_record *rec, struct buf *out)
{
    unsigned char hdr[IPC_HEADER_SIZE];
    size_t total = encoded_size(rec), old_len = out->len, i;

    if (rec->count > IPC_MAX_ATTRS || total > IPC_MAX_FRAME)
        return -1;
    for (i = 0; i < rec->count; i++)
        if (!name_ok(rec->attrs[i].name, strlen(rec->attrs[i].name)))
            return -1;
    hdr[0] = IPC_VERSION;
    hdr[1] = 0;
    put_u16(hdr + 2, (uint16_t)rec->count);
    put_u32(hdr + 4, (uint32_t)(total - IPC_HEADER_SIZE));
    if (buf_append(out, hdr, sizeof(hdr)) < 0)
        goto fail;
    for (i = 0; i < rec->count; i++)
        if (encode_attr(rec->attrs + i, out) < 0)
            goto fail;
    return 0;

fail:
    buf_truncate(out, old_len);
    return -1;
}

/* Result of checking as much of the header as is present. */
static enum ipc_decode_result check_header(const unsigned char *p, size_t len,
                                           size_t *count, size_t *length,
                                           const char **why)
{
    if (len >= 1 && p[0] != IPC_VERSION)
        return (*why = "unsupported frame version", IPC_ERROR);
    if (len >= 2 && p[1] != 0)
        return (*why = "unknown frame flags", IPC_ERROR);
    if (len >= 4 && get_u16(p + 2) > IPC_MAX_ATTRS)
        return (*why = "too many attributes", IPC_ERROR);
    if (len < IPC_HEADER_SIZE)
        return IPC_NEED_MORE;
    *count = get_u16(p + 2);
    *length = get_u32(p + 4);
    if (*length > IPC_MAX_FRAME - IPC_HEADER_SIZE)
        return (*why = "frame too large", IPC_ERROR);
    if (*length < *count * IPC_MIN_ATTR)
        return (*why = "frame length too small for attribute count", IPC_ERROR);
    return IPC_OK;
}

/*
 * Walk the attributes of a frame whose header said count and length,
 * checking each as far as the avail bytes reach. With rec != NULL (only
 * after a successful check) also store them.
 */
static enum ipc_decode_result walk_attrs(const unsigned char *p, size_t avail,
                                         size_t count, size_t length,
                                         struct ipc_record *rec,
                                         const char **why)
{
    size_t end = IPC_HEADER_SIZE + length, pos = IPC_HEADER_SIZE, i, nl, have;
    uint32_t vl;

    for (i = 0; i < count; i++) {
        if (pos >= end)
            return (*why = "fewer attributes than the count says", IPC_ERROR);
        if (pos >= avail)
            return IPC_NEED_MORE;
        nl = p[pos];
        if (nl == 0 || nl > IPC_MAX_NAME)
            return (*why = "bad attribute name length", IPC_ERROR);
        if (nl + 5 > end - pos)
            return (*why = "attribute overruns frame", IPC_ERROR);
        have = avail - pos - 1 < nl ? avail - pos - 1 : nl;
        if (!name_chars_ok((const char *)p + pos + 1, have))
            return (*why = "bad attribute name", IPC_ERROR);
        if (avail - pos < 1 + nl + 4)
            return IPC_NEED_MORE;
        vl = get_u32(p + pos + 1 + nl);
        if (vl > IPC_MAX_VALUE || vl > end - pos - 1 - nl - 4)
            return (*why = "attribute value overruns frame", IPC_ERROR);
        if (avail - pos - 1 - nl - 4 < vl)
            return IPC_NEED_MORE;
        if (rec && append_attr(rec, (const char *)p + pos + 1, nl,
                               p + pos + 1 + nl + 4, vl) < 0)
            return (*why = "attribute storage limit", IPC_ERROR);
        pos += 1 + nl + 4 + vl;
    }
    if (pos != end)
        return (*why = "trailing bytes after the last attribute", IPC_ERROR);
    return IPC_OK;
}

/* Decode one frame from the start of data (see ipc_frame.h). */
enum ipc_decode_result ipc_decode(const void *data, size_t len,
                                  struct ipc_record *rec, size_t *consumed,
                                  const char **why)
{
    const unsigned char *p = data;
    const char *dummy;
    size_t count = 0, length = 0, avail;
    enum ipc_decode_result r;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    ipc_record_reset(rec);
    if ((r = check_header(p, len, &count, &length, why)) != IPC_OK)
        return r;
    avail = len < IPC_HEADER_SIZE + length ? len : IPC_HEADER_SIZE + length;
    if ((r = walk_attrs(p, avail, count, length, NULL, why)) != IPC_OK)
        return r;
    if ((r = walk_attrs(p, avail, count, length, rec, why)) != IPC_OK) {
        ipc_record_reset(rec);
        return r;
    }
    if (consumed)
        *consumed = IPC_HEADER_SIZE + length;
    return IPC_OK;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC); -1 means no deadline. */
static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    if (deadline == NULL)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000
        + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    if (ms < 0)
        return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Set *deadline to timeout seconds from now; NULL when timeout <= 0. */
static struct timespec *set_deadline(struct timespec *deadline, int timeout)
{
    if (timeout <= 0)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += timeout;
    return deadline;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
    struct pollfd pfd;
    int n;

    for (;;) {
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* Write len bytes before the deadline; no SIGPIPE for sockets. */
static int write_deadline(int fd, const char *p, size_t len,
                          const struct timespec *deadline)
{
    ssize_t n;

    while (len > 0) {
        if (wait_fd(fd, POLLOUT, deadline) < 0)
            return -1;
        n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes before the deadline; EOF is ECONNRESET. */
static int read_deadline(int fd, unsigned char *p, size_t len,
                         const struct timespec *deadline)
{
    ssize_t n;

    while (len > 0) {
        if (wait_fd(fd, POLLIN, deadline) < 0)
            return -1;
        n = recv(fd, p, len, MSG_DONTWAIT);
        if (n < 0 && errno == ENOTSOCK)
            n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Encode rec and write the whole frame within timeout seconds. */
int ipc_write_frame(int fd, const struct ipc_record *rec, int timeout)
{
    struct buf out;
    struct timespec when;
    int ret;

    buf_init(&out, IPC_MAX_FRAME);
    if (ipc_encode(rec, &out) < 0) {
        buf_free(&out);
        errno = EMSGSIZE;
        return -1;
    }
    ret = write_deadline(fd, out.data, out.len, set_deadline(&when, timeout));
    buf_free(&out);
    return ret;
}

/*
 * Read exactly one frame (never a byte of the next one) within timeout
 * seconds. End of file, before or inside the frame, fails with ECONNRESET.
 */
int ipc_read_frame(int fd, struct ipc_record *rec, int timeout)
{
    unsigned char hdr[IPC_HEADER_SIZE];
    unsigned char *frame;
    struct timespec when, *deadline = set_deadline(&when, timeout);
    size_t count, length, used;
    const char *why;
    int ret = -1;

    ipc_record_reset(rec);
    if (read_deadline(fd, hdr, sizeof(hdr), deadline) < 0)
        return -1;
    if (check_header(hdr, sizeof(hdr), &count, &length, &why) != IPC_OK) {
        errno = EPROTO;
        return -1;
    }
    frame = xmalloc(IPC_HEADER_SIZE + length);
    memcpy(frame, hdr, IPC_HEADER_SIZE);
    if (read_deadline(fd, frame + IPC_HEADER_SIZE, length, deadline) == 0) {
        if (ipc_decode(frame, IPC_HEADER_SIZE + length, rec, &used, &why) == IPC_OK)
            ret = 0;
        else
            errno = EPROTO;
    }
    free(frame);
    return ret;
}
