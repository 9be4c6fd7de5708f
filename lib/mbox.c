/*
 * mbox - durable delivery of one message to a UNIX mbox file (mailbox.h):
 * safe open (no symlink, regular, one link, right owner), dot-lock and
 * fcntl lock with bounded waits, append, fsync, and truncation back to
 * the old size when anything fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"
#include "safe_file.h"

#define MBOX_LOCK_WAIT      30      /* seconds before a busy lock is a deferral */
#define MBOX_DOTLOCK_STALE  300     /* seconds after which a dot-lock is stale */
#define MBOX_LOCK_RETRY_MS  250     /* pause between attempts */

/* Sleep between lock attempts. */
static void lock_pause(void)
{
    struct timespec ts = {0, MBOX_LOCK_RETRY_MS * 1000000L};

    nanosleep(&ts, NULL);
}

/* Create PATH.lock (stale ones removed), within MBOX_LOCK_WAIT. -1 with errno. */
static int dotlock_take(const char *lock)
{
    time_t deadline = time(NULL) + MBOX_LOCK_WAIT;
    struct stat st;
    int fd;

    for (;;) {
        fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST)
            return -1;
        if (lstat(lock, &st) == 0 && time(NULL) - st.st_mtime > MBOX_DOTLOCK_STALE) {
            msg_warn("removing stale lock file %s", lock);
            unlink(lock);
            continue;
        }
        if (time(NULL) >= deadline) {
            errno = EAGAIN;
            return -1;
        }
        lock_pause();
    }
}

/* A write lock on the whole file, within MBOX_LOCK_WAIT. -1 with errno. */
static int fcntl_take(int fd)
{
    time_t deadline = time(NULL) + MBOX_LOCK_WAIT;
    struct flock fl;

    for (;;) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR)
            return -1;
        if (time(NULL) >= deadline) {
            errno = EAGAIN;
            return -1;
        }
        lock_pause();
    }
}

/* Release the fcntl lock. */
static void fcntl_release(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fcntl(fd, F_SETLK, &fl);
}

/* Open the mailbox and check what we got; -1 with why and *is_temp. */
static int mbox_open(const char *path, const struct mailbox_opts *o,
                     int *is_temp, struct buf *why)
{
    int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    struct stat st;
    int fd;

    if (o->flags & MAILBOX_CREATE)
        flags |= O_CREAT;
    if ((fd = open(path, flags, 0600)) < 0) {
        int err = errno;

        *is_temp = !(err == ELOOP || err == EISDIR || err == ENXIO);
        buf_printf(why, "cannot update mailbox %s: %s", path,
                   err == ELOOP ? "file is a symbolic link" : strerror(err));
        errno = err;
        return -1;
    }
    /* O_NONBLOCK only kept a FIFO from hanging the open. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *is_temp = 0;
    if (fstat(fd, &st) < 0) {
        *is_temp = 1;
        buf_printf(why, "cannot update mailbox %s: fstat: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        buf_printf(why, "cannot update mailbox %s: not a regular file", path);
    } else if (st.st_nlink != 1) {
        buf_printf(why, "cannot update mailbox %s: file has %lu hard links", path,
                   (unsigned long)st.st_nlink);
    } else if (o->check_owner && st.st_uid != o->owner) {
        /* Postfix defers this one: the admin can fix the owner in time. */
        *is_temp = 1;
        buf_printf(why, "cannot update mailbox %s: file is owned by uid %ld, not %ld",
                   path, (long)st.st_uid, (long)o->owner);
    } else {
        return fd;
    }
    close(fd);
    errno = *is_temp ? EIO : EPERM;
    return -1;
}

/* Append one message to an mbox file under its locks, durably. */
int mbox_deliver(const char *path, struct queue_file *qf,
                 const struct mailbox_opts *o, int *is_temp, struct buf *why)
{
    struct mailbox_opts copy = *o;
    struct buf lock = BUF_INIT, copy_why = BUF_INIT;
    int dotlocked = 0, fd, err = 0, rc = -1;
    struct stat st;
    off_t old_size = 0;

    if ((fd = mbox_open(path, o, is_temp, why)) < 0)
        return -1;
    *is_temp = 1;
    if (o->flags & MAILBOX_LOCK_DOTLOCK) {
        buf_printf(&lock, "%s.lock", path);
        if (dotlock_take(buf_str(&lock)) == 0) {
            dotlocked = 1;
        } else if ((o->flags & MAILBOX_DOTLOCK_MAY_FAIL) && errno != EAGAIN) {
            msg_debug("mailbox %s: no dot-lock: %s", path, strerror(errno));
        } else {
            err = errno;
            buf_printf(why, "cannot update mailbox %s: cannot create lock file %s: %s",
                       path, buf_str(&lock), err == EAGAIN ? "mailbox is locked"
                       : strerror(err));
            goto out;
        }
    }
    if ((o->flags & MAILBOX_LOCK_FCNTL) && fcntl_take(fd) < 0) {
        err = errno;
        buf_printf(why, "cannot update mailbox %s: cannot lock: %s", path,
                   err == EAGAIN ? "mailbox is locked" : strerror(err));
        goto out;
    }
    /* The size under the lock is the one to return to on failure. */
    if (fstat(fd, &st) < 0) {
        err = errno;
        buf_printf(why, "cannot update mailbox %s: fstat: %s", path, strerror(err));
        goto out;
    }
    old_size = st.st_size;
    if (o->size_limit > 0) {
        if ((uint64_t)old_size >= o->size_limit) {
            err = EFBIG;
            *is_temp = 0;
            buf_printf(why, "cannot update mailbox %s: mailbox exceeds size limit", path);
            goto out;
        }
        copy.size_limit = o->size_limit - (uint64_t)old_size;
    }
    /* A new mailbox file must survive a crash too: sync its directory (if readable). */
    if (mail_copy(qf, fd, &copy, NULL, &copy_why) < 0 || fsync(fd) < 0
        || (old_size == 0 && fsync_parent_dir(path) < 0 && errno != EACCES)) {
        err = errno;
        *is_temp = !(err == EFBIG || err == EDQUOT);
        buf_printf(why, "cannot update mailbox %s: %s", path,
                   copy_why.len ? buf_str(&copy_why) : strerror(err));
        /* Leave the mailbox as it was: no half message for a reader. */
        if (ftruncate(fd, old_size) < 0 || fsync(fd) < 0)
            msg_warn("cannot truncate mailbox %s back to %lld bytes: %s", path,
                     (long long)old_size, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (o->flags & MAILBOX_LOCK_FCNTL)
        fcntl_release(fd);
    if (dotlocked && unlink(buf_str(&lock)) < 0)
        msg_warn("cannot remove lock file %s: %s", buf_str(&lock), strerror(errno));
    close(fd);
    buf_free(&lock);
    buf_free(&copy_why);
    errno = err;
    return rc;
}
