/*
 * maildir - durable delivery of one message into a Maildir (mailbox.h):
 * tmp/UNIQUE written with O_EXCL|O_NOFOLLOW and fsynced, linked (never
 * replacing) to new/UNIQUE,S=SIZE, tmp removed, new/ fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"

#define MAILDIR_MODE 0700

static unsigned long maildir_count;     /* Q<count>: deliveries by this process */

/* Is this errno a permanent mailbox problem (not worth a retry)? */
static int permanent_errno(int err)
{
    return err == EFBIG || err == EDQUOT || err == ELOOP || err == ENOTDIR;
}

/* Our host name with '/' and ':' escaped, as Maildir names need. */
static void maildir_host(struct buf *out)
{
    char host[256];

    if (gethostname(host, sizeof(host) - 1) < 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    for (const char *p = host; *p; p++) {
        if (*p == '/')
            buf_puts(out, "\\057");
        else if (*p == ':')
            buf_puts(out, "\\072");
        else
            buf_putc(out, *p);
    }
}

/*
 * Open directory name under dirfd (AT_FDCWD for a path) without following
 * a symlink at its last step, creating it when asked. -1 with errno.
 */
/*
 * Make a new directory entry durable: fsync the directory that holds
 * path ("a/b/c" -> "a/b"; "/" or "." for single names). -1 with errno.
 */
static int sync_parent(const char *path)
{
    char parent[4096];
    const char *slash = strrchr(path, '/');
    int fd, rc;

    if (slash == NULL)
        snprintf(parent, sizeof(parent), ".");
    else if (slash == path)
        snprintf(parent, sizeof(parent), "/");
    else
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
    if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int open_dir_at(int dirfd, const char *name, int create)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dirfd, name, MAILDIR_MODE) < 0) {
            if (errno != EEXIST)
                return -1;
        } else if ((dirfd == AT_FDCWD ? sync_parent(name) : fsync(dirfd)) < 0) {
            return -1;          /* a new directory must survive a crash too */
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    return fd;
}

/*
 * Open the Maildir itself, creating missing parents (0700) when asked.
 * Trailing slashes go first: with one, O_NOFOLLOW would not apply.
 */
static int open_maildir(const char *dir, int create)
{
    char path[4096];
    size_t n = strlen(dir);
    int fd;

    if (n == 0 || n >= sizeof(path)) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(path, dir, n + 1);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    if ((fd = open_dir_at(AT_FDCWD, path, 0)) >= 0 || errno != ENOENT || !create)
        return fd;
    /* Make each missing parent in turn, like mkdir -p. */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, MAILDIR_MODE) < 0) {
            if (errno != EEXIST)
                return -1;
        } else if (sync_parent(path) < 0) {
            return -1;
        }
        *p = '/';
    }
    return open_dir_at(AT_FDCWD, path, 1);
}

/* Fill why and is_temp from errno and a step name; returns -1. */
static int fail(struct buf *why, int *is_temp, const char *what, const char *path)
{
    int err = errno;

    *is_temp = !permanent_errno(err);
    buf_printf(why, "maildir delivery failed: %s %s: %s", what, path,
               err == EFBIG ? "message exceeds mailbox size limit" : strerror(err));
    errno = err;
    return -1;
}

/* Deliver one message into a Maildir, durably. */
int maildir_deliver(const char *dir, struct queue_file *qf,
                    const struct mailbox_opts *o, int *is_temp, struct buf *why)
{
    int create = (o->flags & MAILBOX_CREATE) != 0;
    int dfd = -1, tmpfd = -1, newfd = -1, fd = -1, rc = -1, err;
    struct buf unique = BUF_INIT, final = BUF_INIT, copy_why = BUF_INIT;
    uint64_t written = 0;
    struct timeval tv;

    *is_temp = 1;
    if ((dfd = open_maildir(dir, create)) < 0) {
        fail(why, is_temp, "open directory", dir);
        goto out;
    }
    if ((tmpfd = open_dir_at(dfd, "tmp", create)) < 0
        || (newfd = open_dir_at(dfd, "new", create)) < 0) {
        fail(why, is_temp, "open subdirectory of", dir);
        goto out;
    }
    if (create) {
        int curfd = open_dir_at(dfd, "cur", 1);

        if (curfd < 0) {
            fail(why, is_temp, "create subdirectory of", dir);
            goto out;
        }
        close(curfd);
    }

    gettimeofday(&tv, NULL);
    buf_printf(&unique, "%lld.M%ldP%ldQ%lu.", (long long)tv.tv_sec, (long)tv.tv_usec,
               (long)getpid(), ++maildir_count);
    maildir_host(&unique);
    fd = openat(tmpfd, buf_str(&unique),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fail(why, is_temp, "create maildir file in", dir);
        goto out;
    }
    if (mail_copy(qf, fd, o, &written, &copy_why) < 0) {
        err = errno;
        *is_temp = !permanent_errno(err);
        buf_printf(why, "maildir delivery failed: %s", buf_str(&copy_why));
        errno = err;
        goto unlink_tmp;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        fail(why, is_temp, "write maildir file in", dir);
        goto unlink_tmp;
    }
    fd = -1;
    buf_printf(&final, "%s,S=%llu", buf_str(&unique), (unsigned long long)written);
    if (linkat(tmpfd, buf_str(&unique), newfd, buf_str(&final), 0) < 0) {
        /* Some file systems have no hard links: rename, still never replacing. */
        if ((errno != EPERM && errno != ENOTSUP && errno != EXDEV)
            || renameat2(tmpfd, buf_str(&unique), newfd, buf_str(&final),
                         RENAME_NOREPLACE) < 0) {
            fail(why, is_temp, "move maildir file to new/ in", dir);
            goto unlink_tmp;
        }
    }
    if (fsync(newfd) < 0) {
        fail(why, is_temp, "sync new/ in", dir);
        unlinkat(newfd, buf_str(&final), 0);
        goto unlink_tmp;
    }
    rc = 0;
unlink_tmp:
    if (fd >= 0)
        close(fd);
    fd = -1;
    /* Delivered or not, the tmp name goes (it may already be gone after rename). */
    if (unlinkat(tmpfd, buf_str(&unique), 0) < 0 && errno != ENOENT)
        msg_warn("maildir %s: cannot remove tmp/%s: %s", dir, buf_str(&unique),
                 strerror(errno));
out:
    err = errno;
    if (fd >= 0)
        close(fd);
    if (newfd >= 0)
        close(newfd);
    if (tmpfd >= 0)
        close(tmpfd);
    if (dfd >= 0)
        close(dfd);
    buf_free(&unique);
    buf_free(&final);
    buf_free(&copy_why);
    errno = err;
    return rc;
}
