/*
 * maildrop - write and read maildrop files (format in maildrop.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "maildrop.h"
#include "mem.h"
#include "numparse.h"
#include "queue_id.h"
#include "safe_file.h"

#define SIZE_DIGITS 20
#define OUT_FLUSH (64 * 1024)

struct maildrop_writer {
    int fd;
    char *dir;
    char *tmp_path;
    off_t size_off;             /* where the Z digits are */
    uint64_t content;
    struct buf out;
};

static unsigned long tmp_seq;

/* A value for one envelope line: no NUL/CR/LF, at most max bytes. */
static int value_ok(const char *what, const char *s, size_t max, struct buf *err)
{
    size_t n = strlen(s);

    if (n > max) {
        buf_printf(err, "%s is longer than %zu bytes", what, max);
        return 0;
    }
    if (strpbrk(s, "\r\n") != NULL) {
        buf_printf(err, "%s contains a line break", what);
        return 0;
    }
    return 1;
}

static int flush_out(struct maildrop_writer *w, struct buf *err)
{
    if (w->out.len && write_all(w->fd, w->out.data, w->out.len) < 0) {
        buf_printf(err, "write %s: %s", w->tmp_path, strerror(errno));
        return -1;
    }
    buf_reset(&w->out);
    return 0;
}

struct maildrop_writer *maildrop_create(const char *dir, const struct maildrop_env *env,
                                        struct buf *err)
{
    struct maildrop_writer *w;
    struct buf path = BUF_INIT;
    int fd = -1;

    if (!value_ok("sender", env->sender, QF_MAX_ADDR, err)
        || (env->full_name && !value_ok("full name", env->full_name, QF_MAX_ATTR_VALUE, err))
        || (env->envid && !value_ok("ENVID", env->envid, QF_MAX_ENVID, err)))
        return NULL;
    if (env->envid && (env->envid[0] == 0 || strspn(env->envid,
            "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
            "abcdefghijklmnopqrstuvwxyz{|}~") != strlen(env->envid))) {
        buf_set(err, "ENVID must be 1 to 100 printable characters");
        return NULL;
    }
    if (env->nrcpt > QF_MAX_RCPT) {
        buf_printf(err, "too many recipients (limit %d)", QF_MAX_RCPT);
        return NULL;
    }
    if (env->nrcpt == 0 && !env->extract) {
        buf_set(err, "no recipients");
        return NULL;
    }
    for (size_t i = 0; i < env->nrcpt; i++)
        if (!value_ok("recipient", env->rcpt[i], QF_MAX_ADDR, err))
            return NULL;
    if (env->ret && env->ret != QF_RET_FULL && env->ret != QF_RET_HDRS) {
        buf_set(err, "bad RET value");
        return NULL;
    }

    for (int tries = 0; tries < 100; tries++) {
        buf_reset(&path);
        buf_printf(&path, "%s/tmp.%ld.%lu", dir, (long)getpid(), tmp_seq++);
        if ((fd = safe_create(buf_str(&path), O_RDWR, 0600)) >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        buf_printf(err, "create file %s: %s", buf_str(&path), strerror(errno));
        buf_free(&path);
        return NULL;
    }
    w = xcalloc(1, sizeof(*w));
    w->fd = fd;
    w->dir = xstrdup(dir);
    w->tmp_path = buf_steal(&path);
    buf_init(&w->out, 2 * OUT_FLUSH + MAILDROP_MAX_ENVELOPE);
    buf_puts(&w->out, MAILDROP_MAGIC);
    buf_printf(&w->out, "T%lld\n", (long long)time(NULL));
    buf_printf(&w->out, "S%s\n", env->sender);
    if (env->full_name)
        buf_printf(&w->out, "F%s\n", env->full_name);
    if (env->notify)
        buf_printf(&w->out, "N%u\n", env->notify);
    if (env->envid)
        buf_printf(&w->out, "V%s\n", env->envid);
    if (env->ret)
        buf_printf(&w->out, "E%c\n", env->ret);
    if (env->extract)
        buf_puts(&w->out, "Xt\n");
    for (size_t i = 0; i < env->nrcpt; i++) {
        if (buf_printf(&w->out, "R%s\n", env->rcpt[i]) < 0) {
            buf_set(err, "envelope too large");
            maildrop_abort(w);
            return NULL;
        }
        if (w->out.len > OUT_FLUSH && flush_out(w, err) < 0) {
            maildrop_abort(w);
            return NULL;
        }
    }
    w->size_off = (off_t)lseek(fd, 0, SEEK_CUR) + (off_t)w->out.len + 1;
    buf_printf(&w->out, "Z%0*d\n\n", SIZE_DIGITS, 0);
    return w;
}

int maildrop_write(struct maildrop_writer *w, const void *data, size_t len,
                   struct buf *err)
{
    if (w->out.len + len > OUT_FLUSH) {
        if (flush_out(w, err) < 0)
            return -1;
        if (len > OUT_FLUSH) {
            if (write_all(w->fd, data, len) < 0) {
                buf_printf(err, "write %s: %s", w->tmp_path, strerror(errno));
                return -1;
            }
            w->content += len;
            return 0;
        }
    }
    buf_append(&w->out, data, len);
    w->content += len;
    return 0;
}

int maildrop_commit(struct maildrop_writer *w, char id_out[QUEUE_ID_SIZE],
                    struct buf *err)
{
    char digits[SIZE_DIGITS + 1];
    char id[QUEUE_ID_SIZE];
    struct buf final = BUF_INIT;
    struct stat st;
    int rc = -1;

    if (flush_out(w, err) < 0)
        goto out;
    snprintf(digits, sizeof(digits), "%0*" PRIu64, SIZE_DIGITS, w->content);
    if (pwrite(w->fd, digits, SIZE_DIGITS, w->size_off) != SIZE_DIGITS) {
        buf_printf(err, "write %s: %s", w->tmp_path, strerror(errno));
        goto out;
    }
    if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0 || fstat(w->fd, &st) < 0) {
        buf_printf(err, "fsync %s: %s", w->tmp_path, strerror(errno));
        goto out;
    }
    if (queue_id_new(id, (uint64_t)st.st_ino, NULL) < 0) {
        buf_set(err, "clock out of range for a queue ID");
        goto out;
    }
    buf_printf(&final, "%s/%s", w->dir, id);
    if (renameat2(AT_FDCWD, w->tmp_path, AT_FDCWD, buf_str(&final), RENAME_NOREPLACE) < 0) {
        if (errno != EINVAL && errno != ENOSYS) {
            buf_printf(err, "rename %s to %s: %s", w->tmp_path, buf_str(&final),
                       strerror(errno));
            goto out;
        }
        /* No RENAME_NOREPLACE on this file system: link + unlink. */
        if (link(w->tmp_path, buf_str(&final)) < 0) {
            buf_printf(err, "link %s to %s: %s", w->tmp_path, buf_str(&final),
                       strerror(errno));
            goto out;
        }
        (void)unlink(w->tmp_path);
    }
    free(w->tmp_path);
    w->tmp_path = NULL;
    if (fsync_parent_dir(buf_str(&final)) < 0) {
        buf_printf(err, "fsync %s: %s", w->dir, strerror(errno));
        (void)unlink(buf_str(&final));
        goto out;
    }
    memcpy(id_out, id, sizeof(id));
    rc = 0;
out:
    buf_free(&final);
    maildrop_abort(w);
    return rc;
}

void maildrop_abort(struct maildrop_writer *w)
{
    if (w == NULL)
        return;
    if (w->tmp_path)
        (void)unlink(w->tmp_path);
    if (w->fd >= 0)
        close(w->fd);
    free(w->tmp_path);
    free(w->dir);
    buf_free(&w->out);
    free(w);
}

/* ---------------------------------------------------------------- reader */

static void msg_clear(struct maildrop_msg *m)
{
    free(m->sender);
    free(m->full_name);
    free(m->envid);
    for (size_t i = 0; i < m->nrcpt; i++)
        free(m->rcpt[i]);
    free(m->rcpt);
    if (m->fp)
        fclose(m->fp);
    memset(m, 0, sizeof(*m));
}

#define CORRUPT(...) do { buf_printf(why, __VA_ARGS__); *corrupt = 1; goto bad; } while (0)

int maildrop_open(const char *path, struct maildrop_msg *m, int *corrupt,
                  struct buf *why)
{
    char *line = NULL;
    size_t cap = 0, env_bytes = 0, rcpt_cap = 0;
    ssize_t n;
    int fd, have_t = 0, have_s = 0, have_z = 0, lineno = 0, ended = 0;
    struct stat st;
    long long llv;
    uint64_t u;
    off_t content_off;

    memset(m, 0, sizeof(*m));
    *corrupt = 0;
    if ((fd = safe_open_existing(path, O_RDONLY)) < 0) {
        if (errno == ELOOP || errno == EINVAL || errno == EMLINK)
            *corrupt = 1;
        buf_printf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || (m->fp = fdopen(fd, "r")) == NULL) {
        buf_printf(why, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    m->uid = st.st_uid;
    m->file_size = st.st_size;
    while ((n = getline(&line, &cap, m->fp)) > 0) {
        lineno++;
        env_bytes += (size_t)n;
        if (env_bytes > MAILDROP_MAX_ENVELOPE)
            CORRUPT("envelope too large");
        if (line[n - 1] != '\n')
            CORRUPT("truncated envelope");
        line[--n] = 0;
        if (strlen(line) != (size_t)n || memchr(line, '\r', (size_t)n))
            CORRUPT("line %d: NUL or CR in envelope", lineno);
        if (lineno == 1) {
            if (strcmp(line, "POSTERN-MAILDROP 1") != 0)
                CORRUPT("not a maildrop file (bad first line)");
            continue;
        }
        if (n == 0) {
            if (!have_z)
                CORRUPT("no size record");
            ended = 1;
            break;
        }
        if (have_z)
            CORRUPT("line %d: record after the size", lineno);
        if (lineno == 2 && line[0] != 'T')
            CORRUPT("no time record");
        switch (line[0]) {
        case 'T':
            if (have_t || sscanf(line + 1, "%lld", &llv) != 1 || llv < 0)
                CORRUPT("line %d: bad time record", lineno);
            m->time = (time_t)llv;
            have_t = 1;
            break;
        case 'S':
            if (have_s || n - 1 > QF_MAX_ADDR)
                CORRUPT("line %d: bad sender record", lineno);
            m->sender = xstrdup(line + 1);
            have_s = 1;
            break;
        case 'F':
            if (m->full_name || n - 1 > QF_MAX_ATTR_VALUE)
                CORRUPT("line %d: bad full name record", lineno);
            m->full_name = xstrdup(line + 1);
            break;
        case 'N':
            if (m->notify || parse_u64(line + 1, 15, &u) < 0 || u == 0)
                CORRUPT("line %d: bad notify record", lineno);
            m->notify = (unsigned)u;
            break;
        case 'V':
            if (m->envid || n - 1 > QF_MAX_ENVID || n == 1)
                CORRUPT("line %d: bad ENVID record", lineno);
            m->envid = xstrdup(line + 1);
            break;
        case 'E':
            if (m->ret || (strcmp(line + 1, "F") != 0 && strcmp(line + 1, "H") != 0))
                CORRUPT("line %d: bad RET record", lineno);
            m->ret = line[1];
            break;
        case 'X':
            if (m->extract || strcmp(line + 1, "t") != 0)
                CORRUPT("line %d: bad flags record", lineno);
            m->extract = 1;
            break;
        case 'R':
            if (n - 1 > QF_MAX_ADDR || m->nrcpt >= QF_MAX_RCPT)
                CORRUPT("line %d: bad recipient record", lineno);
            if (m->nrcpt == rcpt_cap) {
                rcpt_cap = rcpt_cap ? 2 * rcpt_cap : 8;
                m->rcpt = xreallocarray(m->rcpt, rcpt_cap, sizeof(*m->rcpt));
            }
            m->rcpt[m->nrcpt++] = xstrdup(line + 1);
            break;
        case 'Z':
            if (n - 1 != SIZE_DIGITS || parse_u64(line + 1, UINT64_MAX, &m->size) < 0)
                CORRUPT("line %d: bad size record", lineno);
            have_z = 1;
            break;
        default:
            CORRUPT("line %d: unknown record type", lineno);
        }
    }
    if (ferror(m->fp)) {
        buf_printf(why, "read %s: %s", path, strerror(errno));
        goto bad;
    }
    if (!ended)
        CORRUPT("truncated envelope");
    if (!have_t || !have_s)
        CORRUPT("missing time or sender record");
    if (m->nrcpt == 0 && !m->extract)
        CORRUPT("no recipients");
    content_off = (off_t)env_bytes;
    if ((uint64_t)st.st_size - (uint64_t)content_off != m->size)
        CORRUPT("content is %lld bytes, size record says %" PRIu64,
                (long long)(st.st_size - content_off), m->size);
    free(line);
    return 0;
bad:
    free(line);
    msg_clear(m);
    return -1;
}

int maildrop_rewind(struct maildrop_msg *m)
{
    return fseeko(m->fp, m->file_size - (off_t)m->size, SEEK_SET);
}

void maildrop_close(struct maildrop_msg *m)
{
    msg_clear(m);
}
