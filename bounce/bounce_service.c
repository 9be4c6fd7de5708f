/*
 * bounce_service - the three requests of the bounce service and
 * Postfix's rules for who is told what (lib/bounce_proto.h).
 *
 *   flush  bounce/ID: a non-delivery notification to the sender (plus
 *          a headers-only copy to bounce_notice_recipient when
 *          notify_classes has "bounce"); for a message from <> a
 *          double bounce to 2bounce_notice_recipient when notify_classes
 *          has "2bounce"; for a message from the double-bounce sender
 *          nothing. bounce/ID is removed once that is settled.
 *   warn   defer/ID: a delay warning, the same way with "delay" and
 *          delay_notice_recipient; defer/ID stays.
 *   trace  trace/ID: a success notification to the sender (never for
 *          <> or the double-bounce sender); trace/ID is removed.
 *
 * The original queue file is only read. A log is removed only after the
 * notification it produced is committed, so a crash may send one twice,
 * never zero times. Any failure before that answers status=fail and
 * leaves everything as it was; qmgr asks again later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "bounce_proto.h"
#include "log.h"
#include "mem.h"
#include "queue_id.h"

/* What one request type does. */
struct bounce_kind {
    const char *request;        /* BOUNCE_REQ_* */
    const char *log;            /* DSN_LOG_* */
    enum dsn_notify_kind kind;
    unsigned notify_bit;        /* QF_NOTIFY_* the recipient must allow */
    int remove_log;             /* remove the log when done */
    const char *what;           /* "non-delivery", "delay", "delivery status" */
};

static const struct bounce_kind kinds[] = {
    {BOUNCE_REQ_FLUSH, DSN_LOG_BOUNCE, DSN_NOTIFY_FAILURE, QF_NOTIFY_FAILURE, 1,
     "non-delivery"},
    {BOUNCE_REQ_WARN, DSN_LOG_DEFER, DSN_NOTIFY_DELAY, QF_NOTIFY_DELAY, 0, "delay"},
    {BOUNCE_REQ_TRACE, DSN_LOG_TRACE, DSN_NOTIFY_SUCCESS, QF_NOTIFY_SUCCESS, 1,
     "delivery status"},
};

/* Queues a request may name. */
static const char *const queue_names[] = {"active", "deferred", "incoming", "hold", NULL};

/* Fill a failure reply and log it. */
static void reply_fail(struct ipc_record *reply, const char *queue_id, const char *reason)
{
    msg_warn("%s: bounce request failed: %s", queue_id ? queue_id : "(none)", reason);
    ipc_record_reset(reply);
    ipc_add_str(reply, "status", BOUNCE_STAT_FAIL);
    ipc_add_str(reply, "reason", reason);
}

/* Is notify_classes listing class? */
static int notify_class(const struct config *cfg, const char *class)
{
    char *const *l;

    for (l = config_list(cfg, "notify_classes"); l && *l; l++)
        if (strcasecmp(*l, class) == 0)
            return 1;
    return 0;
}

/* addr, with "@$myorigin" appended when it has no domain. */
static void qualify(const struct config *cfg, const char *addr, struct buf *out)
{
    buf_reset(out);
    buf_puts(out, addr);
    if (strchr(addr, '@') == NULL)
        buf_printf(out, "@%s", config_str(cfg, "myorigin"));
}

/* Is addr the double-bounce sender (bare, @myorigin or @myhostname)? */
static int is_double_bounce(const struct config *cfg, const char *addr)
{
    const char *local = config_str(cfg, "double_bounce_sender");
    size_t len = strlen(local);
    const char *at;

    if (strcasecmp(addr, local) == 0)
        return 1;
    if (strchr(local, '@') != NULL)
        return 0;
    at = strrchr(addr, '@');
    if (at == NULL || (size_t)(at - addr) != len || strncasecmp(addr, local, len) != 0)
        return 0;
    return strcasecmp(at + 1, config_str(cfg, "myorigin")) == 0
           || strcasecmp(at + 1, config_str(cfg, "myhostname")) == 0;
}

/* Does a recipient's NOTIFY let it appear in this kind of report? */
static int notify_allows(const struct bounce_kind *k, unsigned notify)
{
    if (notify & QF_NOTIFY_NEVER)
        return 0;
    if (notify == 0)            /* not given: failures and delays, no success */
        return k->notify_bit != QF_NOTIFY_SUCCESS;
    return (notify & k->notify_bit) != 0;
}

/* Order recipient offsets. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Keep the entries that belong in the report: NOTIFY allows it, the
 * action fits, and for delays the recipient is still pending in the
 * queue file. -1 with why when the queue file cannot be read.
 */
static int select_entries(const struct bounce_kind *k, struct dsn_log *log,
                          struct queue_file *qf, size_t *kept, struct buf *why)
{
    uint64_t *pending = NULL;
    size_t npending = 0, cap = 0, i, keep = 0;
    struct qf_rcpt r;
    int rc;

    if (k->kind == DSN_NOTIFY_DELAY) {
        dsn_log_latest(log);
        queue_file_rcpt_rewind(qf);
        while ((rc = queue_file_rcpt_next(qf, &r, why)) == 1) {
            if (r.done)
                continue;
            if (npending == cap) {
                cap = cap ? cap * 2 : 16;
                pending = xreallocarray(pending, cap, sizeof(*pending));
            }
            pending[npending++] = r.offset;
        }
        if (rc < 0) {
            free(pending);
            return -1;
        }
        if (npending > 1)
            qsort(pending, npending, sizeof(*pending), cmp_u64);
    }
    for (i = 0; i < log->n; i++) {
        struct dsn_entry *e = &log->v[i];
        int ok = notify_allows(k, e->notify);

        if (ok && k->kind == DSN_NOTIFY_FAILURE)
            ok = strcmp(e->action, "failed") == 0;
        else if (ok && k->kind == DSN_NOTIFY_DELAY)
            ok = strcmp(e->action, "delayed") == 0;
        else if (ok)
            ok = strcmp(e->action, "failed") != 0 && strcmp(e->action, "delayed") != 0;
        if (ok && k->kind == DSN_NOTIFY_DELAY)
            ok = npending > 0 && bsearch(&e->offset, pending, npending, sizeof(*pending),
                                         cmp_u64) != NULL;
        if (ok) {
            struct dsn_entry tmp = log->v[keep];

            log->v[keep++] = *e;
            *e = tmp;
        }
    }
    /* Entries from keep on are the rejected ones; dsn_log_free still frees them. */
    free(pending);
    *kept = keep;
    return 0;
}

/* Open QUEUE_NAME/ID read-only. NULL with why. */
static struct queue_file *open_original(const char *queue_name, const char *id,
                                        struct buf *why)
{
    struct buf path = BUF_INIT;
    struct queue_file *qf = NULL;
    int corrupt = 0;

    buf_printf(&path, "%s/%s", queue_name, id);
    if (queue_file_open(buf_str(&path), QF_OPEN_RDONLY, &qf, &corrupt, why) < 0)
        qf = NULL;
    buf_free(&path);
    return qf;
}

/* Send the notification(s) for one request; 0 or -1 with why. */
static int notify(const struct config *cfg, const struct bounce_kind *k,
                  const char *id, struct queue_file *qf, const struct dsn_entry *v,
                  size_t n, char newid[QUEUE_ID_SIZE], struct buf *why)
{
    const struct qf_envelope *env = queue_file_envelope(qf);
    struct dsn_notify_opts opts;
    struct buf dbl = BUF_INIT, to = BUF_INIT, err = BUF_INIT;
    const char *copy_class = k->kind == DSN_NOTIFY_DELAY ? "delay" : "bounce";
    const char *copy_param = k->kind == DSN_NOTIFY_DELAY ? "delay_notice_recipient"
                             : "bounce_notice_recipient";
    char copyid[QUEUE_ID_SIZE];
    int ret = 0;

    newid[0] = 0;
    qualify(cfg, config_str(cfg, "double_bounce_sender"), &dbl);
    memset(&opts, 0, sizeof(opts));
    opts.kind = k->kind;

    if (is_double_bounce(cfg, env->sender)) {
        msg_warn("%s: undeliverable postmaster notification discarded", id);
    } else if (env->sender[0] == 0) {
        /* A notification that could not be delivered itself. */
        const char *class = k->kind == DSN_NOTIFY_FAILURE ? "2bounce"
                            : k->kind == DSN_NOTIFY_DELAY ? "delay" : NULL;
        const char *param = k->kind == DSN_NOTIFY_FAILURE ? "2bounce_notice_recipient"
                            : "delay_notice_recipient";

        if (class == NULL) {
            msg_info("%s: not sending %s notification for single-bounce message",
                     id, k->what);
        } else if (!notify_class(cfg, class)) {
            msg_info("%s: %s notification for <> discarded (notify_classes has no %s)",
                     id, k->what, class);
        } else {
            qualify(cfg, config_str(cfg, param), &to);
            opts.to = buf_str(&to);
            opts.postmaster_copy = 1;
            opts.headers_only = k->kind != DSN_NOTIFY_FAILURE;
            if ((ret = bounce_queue_notice(cfg, qf, v, n, &opts, buf_str(&dbl),
                                           newid, why)) == 0)
                msg_info("%s: postmaster %s notification: %s", id, k->what, newid);
        }
    } else {
        /* The sender: RET=HDRS for delays and success unless RET=FULL. */
        opts.to = env->sender;
        opts.headers_only = k->kind != DSN_NOTIFY_FAILURE && env->ret != QF_RET_FULL;
        if ((ret = bounce_queue_notice(cfg, qf, v, n, &opts, "", newid, why)) == 0) {
            msg_info("%s: sender %s notification: %s", id, k->what, newid);
            /* The postmaster's copy is not critical: a failure is only logged. */
            if (k->kind != DSN_NOTIFY_SUCCESS && notify_class(cfg, copy_class)) {
                memset(&opts, 0, sizeof(opts));
                opts.kind = k->kind;
                qualify(cfg, config_str(cfg, copy_param), &to);
                opts.to = buf_str(&to);
                opts.postmaster_copy = 1;
                opts.headers_only = 1;
                if (bounce_queue_notice(cfg, qf, v, n, &opts, buf_str(&dbl), copyid,
                                        &err) == 0)
                    msg_info("%s: postmaster %s notification: %s", id, k->what, copyid);
                else
                    msg_warn("%s: postmaster notice failed while notifying <%s>: %s",
                             id, env->sender, buf_str(&err));
            }
        }
    }
    buf_free(&dbl);
    buf_free(&to);
    buf_free(&err);
    return ret;
}

/* Serve one request (see bounce.h). */
void bounce_serve(const struct config *cfg, const struct ipc_record *req,
                  struct ipc_record *reply)
{
    const char *request = ipc_get_str(req, "request");
    const char *id = ipc_get_str(req, "queue_id");
    const char *queue_name = ipc_get_str(req, "queue_name");
    const struct bounce_kind *k = NULL;
    struct dsn_log log;
    struct queue_file *qf = NULL;
    struct buf why = BUF_INIT;
    char newid[QUEUE_ID_SIZE];
    size_t i, keep = 0;
    int rc;

    memset(&log, 0, sizeof(log));
    for (i = 0; request && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(request, kinds[i].request) == 0)
            k = &kinds[i];
    if (k == NULL) {
        reply_fail(reply, id, "unknown request");
        return;
    }
    if (id == NULL || !queue_id_valid(id)) {
        reply_fail(reply, NULL, "bad or missing queue_id");
        return;
    }
    for (i = 0; queue_name && queue_names[i]; i++)
        if (strcmp(queue_name, queue_names[i]) == 0)
            break;
    if (queue_name == NULL || queue_names[i] == NULL) {
        reply_fail(reply, id, "bad or missing queue_name");
        return;
    }

    if ((rc = dsn_log_read(k->log, id, &log, &why)) < 0)
        goto fail;
    if (log.truncated)
        msg_warn("%s: %s log: ignored a damaged or over-long tail", id, k->log);
    newid[0] = 0;
    if (rc == 0 && log.n > 0) {
        if ((qf = open_original(queue_name, id, &why)) == NULL)
            goto fail;
        if (select_entries(k, &log, qf, &keep, &why) < 0)
            goto fail;
        if (keep > 0 && notify(cfg, k, id, qf, log.v, keep, newid, &why) < 0)
            goto fail;
    }
    if (k->remove_log && rc == 0 && dsn_log_remove(k->log, id) < 0) {
        /* The notification is queued; a retry would send it again. */
        msg_warn("%s: remove %s/%s: %s", id, k->log, id, strerror(errno));
    }
    ipc_record_reset(reply);
    ipc_add_str(reply, "status", BOUNCE_STAT_OK);
    if (newid[0])
        ipc_add_str(reply, "queue_id", newid);
    goto done;
fail:
    reply_fail(reply, id, buf_str(&why)[0] ? buf_str(&why) : "unknown error");
done:
    if (qf)
        queue_file_close(qf);
    dsn_log_free(&log);
    buf_free(&why);
}
