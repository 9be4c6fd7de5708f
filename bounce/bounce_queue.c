/*
 * bounce_queue - write one delivery status notification as a new queue
 * file in incoming/ and wake qmgr.
 *
 * The file is made the way smtpd and pickup make theirs (queue_file.h):
 * temporary name, envelope, content streamed from lib/dsn_notify, then
 * commit (fsync, rename, fsync of incoming/). Only when the commit
 * returned may the caller remove the log the notification was built
 * from. qmgr is woken through public/qmgr; when it is not running the
 * file waits in incoming/ for its next scan.
 */
#include <string.h>

#include "bounce.h"
#include "log.h"
#include "mail_tool.h"
#include "trigger.h"

#define INCOMING_DIR    "incoming"
#define HASH_DEPTH      0

/* Queue one notification (see bounce.h). */
int bounce_queue_notice(const struct config *cfg, struct queue_file *orig,
                        const struct dsn_entry *v, size_t n,
                        struct dsn_notify_opts *opts, const char *env_sender,
                        char newid[QUEUE_ID_SIZE], struct buf *why)
{
    struct queue_file_writer *w;
    long limit = config_int(cfg, "bounce_size_limit");

    if ((w = queue_file_create(INCOMING_DIR, why)) == NULL)
        return -1;
    memcpy(newid, queue_file_writer_id(w), QUEUE_ID_SIZE);
    newid[QUEUE_ID_SIZE - 1] = 0;
    opts->myhostname = config_str(cfg, "myhostname");
    opts->new_queue_id = newid;
    opts->now = queue_file_writer_arrival(w).tv_sec;
    opts->size_limit = limit > 0 ? (uint64_t)limit : 0;
    opts->warn_after = config_time(cfg, "delay_warning_time");
    opts->queue_lifetime = config_time(cfg, "maximal_queue_lifetime");
    if (queue_file_put_sender(w, env_sender) < 0
        || queue_file_put_rcpt(w, opts->to, NULL, 0) < 0
        || dsn_notify_write(orig, v, n, opts, w, why) < 0) {
        if (why->len == 0)
            buf_puts(why, "cannot write the notification's queue file");
        queue_file_abort(w);
        return -1;
    }
    if (queue_file_commit(w, INCOMING_DIR, HASH_DEPTH, why) < 0)
        return -1;
    trigger_qmgr();
    return 0;
}
