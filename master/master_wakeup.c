/*
 * master_wakeup - wake services that have a wakeup time in master.cf.
 *
 * At start and then every wakeup seconds, master connects to the service's
 * UNIX socket and writes MASTER_TRIGGER_WAKEUP. If no process is running,
 * the connection itself makes master_avail start one, which is how qmgr
 * and pickup are kept running. A wakeup time that ends in '?' only wakes
 * a process that is already running.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "master_proto.h"

void master_wakeup_now(struct master_service *serv)
{
    struct buf path = BUF_INIT;
    struct sockaddr_un sun;
    char req = MASTER_TRIGGER_WAKEUP;
    int fd;

    if (serv->def.type != SERVICE_UNIX || serv->removed || master.stopping)
        return;
    if (serv->def.wakeup_if_running && serv->total_proc == 0)
        return;
    buf_printf(&path, "%s/%s/%s", config_str(master.cfg, "queue_directory"),
               serv->def.private_ ? "private" : "public", serv->def.name);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path.len < sizeof(sun.sun_path)) {
        memcpy(sun.sun_path, path.data, path.len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
                || write(fd, &req, 1) != 1)
                msg_debug("wakeup %s: %s", buf_str(&path), strerror(errno));
            close(fd);
        }
    }
    buf_free(&path);
}

static void wakeup_tick(void *arg)
{
    struct master_service *serv = arg;

    serv->wakeup_timer = ev_timer(master.loop, (double)serv->def.wakeup, wakeup_tick, serv);
    master_wakeup_now(serv);
}

void master_wakeup_start(struct master_service *serv)
{
    if (serv->def.wakeup <= 0 || serv->wakeup_timer != NULL)
        return;
    if (serv->def.type != SERVICE_UNIX) {
        msg_warn("%s: wakeup is only supported for unix services; ignored", serv->key);
        return;
    }
    serv->wakeup_timer = ev_timer(master.loop, 0, wakeup_tick, serv);
}

void master_wakeup_stop(struct master_service *serv)
{
    ev_cancel(serv->wakeup_timer);
    serv->wakeup_timer = NULL;
}
