/*
 * trigger - wake a service through its UNIX socket (trigger.h).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "trigger.h"

/* Connect, write data in one piece, close. */
int trigger_send(const char *socket_path, const char *data, size_t len)
{
    struct sockaddr_un sun;
    int fd, rc = -1, saved;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun.sun_path, socket_path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    /* MSG_NOSIGNAL: a peer that went away must not kill the caller. */
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0
        && send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len)
        rc = 0;
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* New mail in incoming/: wake qmgr, and only say so in verbose logs if it is down. */
void trigger_qmgr(void)
{
    if (trigger_send(QMGR_TRIGGER_SOCKET, QMGR_TRIGGER_WAKEUP, 1) < 0)
        msg_debug("qmgr wakeup: %s", strerror(errno));
}
