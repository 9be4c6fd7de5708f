/*
 * smtp_connect - open a connection to one server address (TCP) or an
 * LMTP unix-domain socket, with a time limit: non-blocking connect(),
 * then poll() until it completes or the limit runs out.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "smtp.h"

#define SYSTEM_CONNECT_LIMIT 75         /* "the system's" limit, for 0 */

/* Fill a socket address; its length, or 0 if the path does not fit. */
static socklen_t make_sockaddr(struct sockaddr_storage *ss, int family,
                               const unsigned char *addr, unsigned port, const char *path)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        memcpy(&sin->sin_addr, addr, 4);
        return sizeof(*sin);
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        memcpy(&sin6->sin6_addr, addr, 16);
        return sizeof(*sin6);
    } else {
        struct sockaddr_un *sun = (struct sockaddr_un *)ss;

        if (strlen(path) >= sizeof(sun->sun_path))
            return 0;
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        return sizeof(*sun);
    }
}

/* Connect with a time limit; a non-blocking fd or -1 with why. */
int smtp_connect_addr(int family, const unsigned char *addr, unsigned port,
                      const char *path, int timeout, struct buf *why)
{
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(&ss, family, addr, port, path);
    struct timespec start, now;
    int fd, err = 0;
    socklen_t elen = sizeof(err);

    buf_reset(why);
    if (len == 0) {
        buf_set(why, "socket path too long");
        return -1;
    }
    if (timeout <= 0)
        timeout = SYSTEM_CONNECT_LIMIT;
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_printf(why, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        buf_set(why, strerror(errno));
        close(fd);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd p = {fd, POLLOUT, 0};
        long left;
        int n;

        clock_gettime(CLOCK_MONOTONIC, &now);
        left = (long)timeout * 1000 - ((now.tv_sec - start.tv_sec) * 1000
                                       + (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0) {
            buf_set(why, "Connection timed out");
            close(fd);
            return -1;
        }
        n = poll(&p, 1, (int)left);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR) {
            buf_printf(why, "poll: %s", strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err != 0) {
        buf_set(why, strerror(err));
        close(fd);
        return -1;
    }
    return fd;
}
