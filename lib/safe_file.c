/*
 * safe_file - opening and committing files the way mail must be written
 * (see safe_file.h): no symlinks in the last component, only regular
 * files, O_EXCL creation, and write + fsync + rename + directory fsync
 * commits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "safe_file.h"

/* Create path, which must not exist yet. */
int safe_create(const char *path, int flags, mode_t mode)
{
    return open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

/* Check that fd is a regular file with one link; -1 with errno if not. */
static int check_regular(int fd, int single_link)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    if (single_link && st.st_nlink > 1) {
        errno = EMLINK;
        return -1;
    }
    return 0;
}

/* Close fd keeping errno. */
static void close_keep_errno(int fd)
{
    int saved = errno;

    close(fd);
    errno = saved;
}

/* Turn O_NONBLOCK off again on fd. */
static int clear_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/*
 * Open a regular file without following a symlink and without blocking on
 * a FIFO; O_TRUNC is applied only after the checks passed.
 */
static int open_regular(const char *path, int flags, int single_link)
{
    int fd, trunc = flags & O_TRUNC;

    flags &= ~(O_CREAT | O_EXCL | O_TRUNC);
    fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == EISDIR)
            errno = EINVAL;
        return -1;
    }
    if (check_regular(fd, single_link) < 0
        || (!(flags & O_NONBLOCK) && clear_nonblock(fd) < 0)
        || (trunc && ftruncate(fd, 0) < 0)) {
        close_keep_errno(fd);
        return -1;
    }
    return fd;
}

/* Open an existing single-link regular file, never through a symlink. */
int safe_open_existing(const char *path, int flags)
{
    return open_regular(path, flags, 1);
}

/* Write all of data, retrying short writes and EINTR. */
int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until len bytes or end of file; bytes read, or -1. */
ssize_t read_all(int fd, void *data, size_t len)
{
    char *p = data;
    size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Append everything fd holds to out, failing with EFBIG past limit. */
static int slurp(int fd, size_t limit, struct buf *out)
{
    char chunk[8192];
    ssize_t n;

    for (;;) {
        n = read_all(fd, chunk, sizeof(chunk));
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if ((size_t)n > limit - out->len || buf_append(out, chunk, (size_t)n) < 0) {
            errno = EFBIG;
            return -1;
        }
    }
}

/*
 * Replace out's content with the whole regular file path (no symlink in
 * the last component), at most limit bytes; EFBIG if it is larger.
 */
int read_file(const char *path, size_t limit, struct buf *out)
{
    struct stat st;
    int fd, ret;

    buf_reset(out);
    if ((fd = open_regular(path, O_RDONLY, 0)) < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        close_keep_errno(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > limit) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    ret = slurp(fd, limit, out);
    if (ret < 0) {
        buf_reset(out);
        close_keep_errno(fd);
        return -1;
    }
    return close(fd);
}

/* The directory part of path ("." when there is none). */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return xstrdup(".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* fsync the directory that holds path. */
int fsync_parent_dir(const char *path)
{
    char *dir = parent_dir(path);
    int fd, ret;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    ret = fsync(fd);
    if (ret < 0)
        close_keep_errno(fd);
    else
        ret = close(fd);
    return ret;
}

/* Make fd's content durable, rename tmp to final, make the name durable. */
int commit_rename(int fd, const char *tmp, const char *final)
{
    if (fsync(fd) < 0 || rename(tmp, final) < 0)
        return -1;
    return fsync_parent_dir(final);
}

/* Write a fresh temporary file and commit it as path; 0 or -1 with err. */
static int replace_via(const char *tmp, const char *path, const void *data,
                       size_t len, mode_t mode, struct buf *err)
{
    int fd;

    if ((fd = safe_create(tmp, O_WRONLY, mode)) < 0) {
        buf_printf(err, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0) {
        buf_printf(err, "write %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (commit_rename(fd, tmp, path) < 0) {
        buf_printf(err, "commit %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        buf_printf(err, "close %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Replace path's content atomically (see safe_file.h). */
int atomic_replace_file(const char *path, const void *data, size_t len,
                        mode_t mode, struct buf *err)
{
    struct buf tmp;
    int ret;

    buf_init(&tmp, 0);
    buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    if (unlink(buf_str(&tmp)) < 0 && errno != ENOENT) {
        buf_printf(err, "remove stale %s: %s", buf_str(&tmp), strerror(errno));
        buf_free(&tmp);
        return -1;
    }
    ret = replace_via(buf_str(&tmp), path, data, len, mode, err);
    if (ret < 0)
        unlink(buf_str(&tmp));      /* the final name was not touched */
    buf_free(&tmp);
    return ret;
}
