/*
 * queue_file_rec - record limits, byte order and payload checks shared by
 * the queue file writer and reader (see queue_file_rec.h).
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


static const struct rec_limit rec_limits[] = {
    { QF_REC_VERSION, 1, 1, "version" },
    { QF_REC_TIME, 12, 12, "arrival time" },
    { QF_REC_QUEUE_ID, QUEUE_ID_MIN_LEN, QUEUE_ID_MAX_LEN, "queue ID" },
    { QF_REC_SENDER, 0, QF_MAX_ADDR, "sender" },
    { QF_REC_WARN, 8, 8, "warning time" },
    { QF_REC_ENVID, 1, QF_MAX_ENVID, "ENVID" },
    { QF_REC_RET, 1, 1, "RET" },
    { QF_REC_CLIENT, 2 * CLIENT_FIELDS, 2 * CLIENT_FIELDS + CLIENT_FIELDS * QF_MAX_CLIENT_FIELD,
      "client" },
    { QF_REC_ATTR, 2, QF_MAX_ATTR_NAME + 1 + QF_MAX_ATTR_VALUE, "attribute" },
    { QF_REC_RCPT, 5, 4 + 2 * QF_MAX_ADDR, "recipient" },
    { QF_REC_SIZE, 8, 8, "size" },
    { QF_REC_CONTENT, 1, QF_MAX_CHUNK, "content" },
    { QF_REC_END, 0, 0, "end" },
};

/* The limits of a record type, or NULL for an unknown type. */
const struct rec_limit *qf_rec_limit(int type)
{
    for (size_t i = 0; i < sizeof(rec_limits) / sizeof(rec_limits[0]); i++)
        if (rec_limits[i].type == type)
            return &rec_limits[i];
    return NULL;
}

void qf_put_u16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

void qf_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

void qf_put_u64(unsigned char *p, uint64_t v)
{
    qf_put_u32(p, (uint32_t)(v >> 32));
    qf_put_u32(p + 4, (uint32_t)v);
}

uint32_t qf_get_u16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

uint32_t qf_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t qf_get_u64(const unsigned char *p)
{
    return (uint64_t)qf_get_u32(p) << 32 | qf_get_u32(p + 4);
}

/* Text the format allows in strings: no NUL, CR or LF. */
int qf_text_ok(const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        if (p[i] == 0 || p[i] == '\r' || p[i] == '\n')
            return 0;
    return 1;
}

/* An ENVID: 1..QF_MAX_ENVID bytes of 0x21-0x7e. */
int qf_envid_ok(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (len < 1 || len > QF_MAX_ENVID)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* An attribute name: 1..QF_MAX_ATTR_NAME bytes of [a-z0-9_]. */
int qf_attr_name_ok(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (len < 1 || len > QF_MAX_ATTR_NAME)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return 0;
    return 1;
}

/* A NOTIFY set: known bits only, NEVER only alone. */
int qf_notify_ok(unsigned notify)
{
    unsigned all = QF_NOTIFY_SUCCESS | QF_NOTIFY_FAILURE | QF_NOTIFY_DELAY | QF_NOTIFY_NEVER;

    if (notify & ~all)
        return 0;
    return !(notify & QF_NOTIFY_NEVER) || notify == QF_NOTIFY_NEVER;
}

/* pwrite all of data at off. */
int qf_pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* rename() that never replaces an existing file. */
int qf_rename_noreplace(const char *from, const char *to)
{
    struct stat st;

    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* The file system cannot do it; inode-based names make a race moot. */
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}
