/*
 * bounce - the delivery status notification service, as Postfix's
 * bounce(8) (master.cf: "bounce unix - - y - 0 bounce" and "defer unix
 * - - y - 0 bounce"). Runs chrooted in queue_directory as mail_owner.
 *
 * qmgr connects to private/bounce (or private/defer), sends one request
 * frame and reads one reply frame (lib/bounce_proto.h); a process serves
 * one connection at a time and master starts as many as are needed.
 * The work itself is in bounce_service.c (who gets what) and
 * bounce_queue.c (writing one notification into incoming/).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "daemon.h"
#include "ipc_frame.h"
#include "log.h"

#define BOUNCE_IO_TIMEOUT   300     /* seconds for the request and the reply */

/* Read one request, serve it, answer, close. */
static void bounce_connection(int fd, const struct config *cfg, struct evloop *loop)
{
    struct ipc_record req, reply;
    long timeout = config_time(cfg, "ipc_timeout");

    (void)loop;
    if (timeout <= 0 || timeout > BOUNCE_IO_TIMEOUT)
        timeout = BOUNCE_IO_TIMEOUT;
    ipc_record_init(&req);
    ipc_record_init(&reply);
    if (ipc_read_frame(fd, &req, (int)timeout) < 0) {
        msg_warn("bounce request: read: %s", strerror(errno));
    } else {
        bounce_serve(cfg, &req, &reply);
        if (ipc_write_frame(fd, &reply, (int)timeout) < 0)
            msg_warn("bounce reply: write: %s", strerror(errno));
    }
    ipc_record_free(&req);
    ipc_record_free(&reply);
    close(fd);
}

int main(int argc, char **argv)
{
    static const struct daemon_service svc = {
        .program = "bounce",
        .on_connection = bounce_connection,
        .one_at_a_time = 1,
    };

    daemon_main(argc, argv, &svc);
}
