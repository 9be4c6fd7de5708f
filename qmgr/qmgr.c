/*
 * qmgr - the queue manager, as Postfix's qmgr(8): owns active/ and
 * deferred/, hands recipients to the delivery agents, records their
 * results, retries with back-off, expires, bounces and removes mail.
 * The queue state machine is written down in qmgr.h.
 *
 * A wakeup service (master.cf: "qmgr unix n - y 300 1 qmgr") listening on
 * public/qmgr. Each byte of a wakeup request is one order:
 *
 *   W   scan incoming/, and deferred/ too when queue_run_delay has passed
 *       since its last scan (master sends this every 300 s; smtpd, pickup
 *       and bounce after each new message)
 *   A   scan incoming/            I   the same
 *   D   scan deferred/ for messages whose retry time (file mtime) has come
 *   F   flush: forget dead transports and throttled destinations, and scan
 *       all of deferred/ regardless of retry times (postqueue -f sends FA)
 *
 * At start every message left in active/ by a stopped or crashed qmgr goes
 * back to incoming/ (its recipients already marked done stay done), then
 * incoming/ and deferred/ are scanned. deferred/ is scanned again every
 * queue_run_delay. Everything runs in one event loop; no agent or bounce
 * conversation ever blocks it (qmgr_ipc.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "mastercf.h"
#include "mem.h"
#include "qmgr.h"

struct qmgr_state qmgr;

static time_t last_deferred_scan;

/* Read the settings qmgr uses, once. */
static void read_settings(const struct config *cfg)
{
    struct qmgr_settings *s = &qmgr.set;

    s->active_limit = config_int(cfg, "qmgr_message_active_limit");
    s->rcpt_limit = config_int(cfg, "qmgr_message_recipient_limit");
    s->queue_run_delay = config_time(cfg, "queue_run_delay");
    s->min_backoff = config_time(cfg, "minimal_backoff_time");
    s->max_backoff = config_time(cfg, "maximal_backoff_time");
    s->max_lifetime = config_time(cfg, "maximal_queue_lifetime");
    s->bounce_lifetime = config_time(cfg, "bounce_queue_lifetime");
    s->transport_retry_time = config_time(cfg, "transport_retry_time");
    s->daemon_timeout = config_time(cfg, "daemon_timeout");
    s->ipc_timeout = config_time(cfg, "ipc_timeout");
    s->default_dest_concurrency = config_int(cfg, "default_destination_concurrency_limit");
    s->default_dest_rcpt_limit = config_int(cfg, "default_destination_recipient_limit");
    s->initial_concurrency = config_int(cfg, "initial_destination_concurrency");
    s->default_process_limit = config_int(cfg, "default_process_limit");
    if (s->max_backoff < s->min_backoff) {
        msg_warn("maximal_backoff_time (%lds) is less than minimal_backoff_time (%lds): "
                 "using %lds", s->max_backoff, s->min_backoff, s->min_backoff);
        s->max_backoff = s->min_backoff;
    }
    if (s->queue_run_delay < 1)
        s->queue_run_delay = 1;
    if (s->min_backoff < 1)
        s->min_backoff = 1;
}

/* Scan deferred/ every queue_run_delay. */
static void deferred_timer(void *unused)
{
    qmgr_scan_request(0, 1, 0);
    last_deferred_scan = time(NULL);
    qmgr_scan_run();
    ev_timer(qmgr.loop, (double)qmgr.set.queue_run_delay, deferred_timer, NULL);
}

/*
 * Before the jail: the resolver's tables and master.cf (for each
 * transport's maxproc) live outside the chroot.
 */
static void pre_jail(const struct config *cfg)
{
    struct buf err = BUF_INIT;

    qmgr.cfg = cfg;
    read_settings(cfg);
    qmgr_transport_init(cfg);
    if ((qmgr.resolver = resolver_open(cfg, &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    buf_free(&err);
}

/* After the jail: recover active/, then scan. */
static void post_jail(const struct config *cfg, struct evloop *loop)
{
    qmgr.loop = loop;
    qmgr_recover_active();
    qmgr_scan_request(1, 1, 0);
    last_deferred_scan = time(NULL);
    qmgr_scan_run();
    ev_timer(loop, (double)qmgr.set.queue_run_delay, deferred_timer, NULL);
}

/* A wakeup request: each byte is one order (see above). */
static void on_trigger(const char *data, size_t len, const struct config *cfg,
                       struct evloop *loop)
{
    time_t now = time(NULL);

    for (size_t i = 0; i < len; i++) {
        switch (data[i]) {
        case 'W':
            qmgr_scan_request(1, 0, 0);
            if (now - last_deferred_scan >= qmgr.set.queue_run_delay) {
                qmgr_scan_request(0, 1, 0);
                last_deferred_scan = now;
            }
            break;
        case 'A':
        case 'I':
            qmgr_scan_request(1, 0, 0);
            break;
        case 'D':
            qmgr_scan_request(0, 1, 0);
            last_deferred_scan = now;
            break;
        case 'F':
            qmgr_transport_flush_dead();
            qmgr_scan_request(0, 1, 1);
            last_deferred_scan = now;
            break;
        default:
            msg_warn("ignoring unknown wakeup request 0x%02x", (unsigned char)data[i]);
            break;
        }
    }
    qmgr_scan_run();
}

/* Stopping: take no new mail into active/. */
static void on_retire(void)
{
    qmgr.retiring = 1;
}

int main(int argc, char **argv)
{
    static const struct daemon_service svc = {
        .program = "qmgr",
        .pre_jail = pre_jail,
        .post_jail = post_jail,
        .on_trigger = on_trigger,
        .on_retire = on_retire,
        .no_idle_exit = 1,
    };

    daemon_main(argc, argv, &svc);
}
