/*
 * master_avail - start service processes on demand.
 *
 * While a service has no free process (and is below maxproc, and not held
 * off after a crash), master watches its listening sockets; the first
 * connection that arrives starts one process, which then accepts it. The
 * children report on their status pipe when they become busy (TAKEN) or
 * free again (AVAIL). This is Postfix's master_avail.c model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "mem.h"

static void listen_ready(int fd, void *arg)
{
    struct master_service *serv = arg;

    /* Stop watching first: master_spawn counts the new process as free. */
    master_avail_stop(serv);
    master_spawn(serv);
    master_avail_update(serv);
}

void master_avail_stop(struct master_service *serv)
{
    if (serv->listen_watch == NULL)
        return;
    for (int i = 0; i < serv->listen_count; i++)
        ev_cancel(serv->listen_watch[i]);
    free(serv->listen_watch);
    serv->listen_watch = NULL;
}

void master_avail_start(struct master_service *serv)
{
    if (serv->listen_watch != NULL || serv->listen_count == 0)
        return;
    serv->listen_watch = xcalloc((size_t)serv->listen_count, sizeof(*serv->listen_watch));
    for (int i = 0; i < serv->listen_count; i++)
        serv->listen_watch[i] = ev_read(master.loop, serv->listen_fds[i], listen_ready, serv);
}

static void hold_expired(void *arg)
{
    struct master_service *serv = arg;

    serv->hold_timer = NULL;
    master_avail_update(serv);
    /* A service that runs on wakeups comes back at once, not at the next tick. */
    if (serv->def.wakeup > 0 && serv->total_proc == 0)
        master_wakeup_now(serv);
}

void master_avail_update(struct master_service *serv)
{
    time_t now = time(NULL);
    int want;

    if (serv->removed || master.stopping) {
        master_avail_stop(serv);
        return;
    }
    if (serv->hold_until > now) {
        master_avail_stop(serv);
        if (serv->hold_timer == NULL)
            serv->hold_timer = ev_timer(master.loop, (double)(serv->hold_until - now),
                                        hold_expired, serv);
        return;
    }
    /* Retired children still count: maxproc 1 (qmgr) must mean one at a time. */
    want = serv->avail_proc == 0
        && (serv->def.maxproc == 0
            || serv->total_proc + serv->retired_proc < serv->def.maxproc);
    if (want)
        master_avail_start(serv);
    else
        master_avail_stop(serv);
}

/* Children tell master whether they can take more work. */
static void status_ready(int fd, void *arg)
{
    struct master_service *serv = arg;
    struct master_status st;
    struct master_proc *proc;
    ssize_t n;

    while ((n = read(fd, &st, sizeof(st))) == (ssize_t)sizeof(st)) {
        proc = master_proc_find((pid_t)st.pid);
        if (proc == NULL || proc->serv != serv || proc->retired)
            continue;
        if (st.avail == MASTER_STAT_AVAIL && !proc->avail) {
            proc->avail = 1;
            serv->avail_proc++;
        } else if (st.avail == MASTER_STAT_TAKEN && proc->avail) {
            proc->avail = 0;
            proc->served = 1;
            serv->avail_proc--;
        }
    }
    if (n > 0)
        msg_warn("%s: short status message (%zd bytes) ignored", serv->key, n);
    master_avail_update(serv);
}

void master_status_watch(struct master_service *serv)
{
    serv->status_watch = ev_read(master.loop, serv->status_fd[0], status_ready, serv);
}
