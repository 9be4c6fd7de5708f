/*
 * pidlock - master's lock file (see pidlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pidlock.h"
#include "safe_file.h"

static void whole_file(struct flock *fl, short type)
{
    memset(fl, 0, sizeof(*fl));
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
}

pid_t pidlock_acquire(const char *path, struct buf *err)
{
    struct flock fl;
    char text[32];
    int fd, len;

    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        buf_printf(err, "open lock file %s: %s", path, strerror(errno));
        return -1;
    }
    whole_file(&fl, F_WRLCK);
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        if (errno == EACCES || errno == EAGAIN) {
            pid_t holder = pidlock_holder(path);

            close(fd);
            return holder > 0 ? holder : 1;
        }
        buf_printf(err, "lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    len = snprintf(text, sizeof(text), "%10ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        buf_printf(err, "write lock file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return 0;   /* fd stays open: closing it would drop the lock */
}

pid_t pidlock_holder(const char *path)
{
    struct flock fl;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    whole_file(&fl, F_WRLCK);
    if (fcntl(fd, F_GETLK, &fl) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}
