/*
 * postqueue - list and flush the mail queue, as Postfix's postqueue(1).
 *
 *   postqueue [-c DIR] [-v] -p        list the queue (mailq format)
 *   postqueue [-c DIR] [-v] -j        one JSON object per message
 *   postqueue [-c DIR] [-v] -f        flush: ask qmgr to retry everything
 *   postqueue [-c DIR] [-v] -i ID     ask qmgr to retry one deferred message
 *
 * -p prints Postfix's long-queue-ID layout: per message the queue ID
 * (with "*" when active, "!" when held), the message size, the arrival
 * time ("Mon Nov 23 15:19:00") and the sender, then each recipient not
 * yet delivered, then "-- N Kbytes in M Requests." (or "Mail queue is
 * empty"). Queues are shown in the order maildrop, incoming, active,
 * deferred, hold, as Postfix's showq. Maildrop files (not yet picked up)
 * show the recipients given on the command line; with sendmail -t the
 * header recipients appear only after pickup.
 *
 * -j prints, per message, one line holding a JSON object with Postfix's
 * fields: queue_name, queue_id, arrival_time, message_size,
 * forced_expire, sender, recipients [{address, delay_reason}]
 * (delay_reason only when known).
 *
 * Differences from Postfix: there is no showq daemon yet, so postqueue
 * reads the queue itself and needs read access to it (root, mail_owner,
 * or the user of an unprivileged instance). A recipient's latest
 * deferral reason (defer/ID, written by qmgr) is shown as Postfix shows
 * it: a "(reason)" line before the recipients it applies to, and
 * "delay_reason" in JSON. -f and -i
 * write a request to public/qmgr ("FA": flush dead sites + scan all; for
 * -i the message's deferred file is first made due by setting its time
 * (qmgr's retry time) to now, then "D": scan deferred/ for what is due);
 * when qmgr is not running postqueue fails with
 * "mail system is down" (exit 69) as Postfix does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "confdir.h"
#include "dsn_log.h"
#include "log.h"
#include "maildrop.h"
#include "mail_tool.h"
#include "trigger.h"
#include "maincf.h"
#include "queue_file.h"
#include "queue_scan.h"


/* Postfix's long-queue-ID layout. */
#define L_STRING_FORMAT "%-17s %8s %-19s %s\n"
#define L_SENDER_FORMAT "%-17s %8llu %19.19s %s\n"

struct listing {
    int json;
    unsigned long count;
    unsigned long long bytes;
};

static _Noreturn void usage(void)
{
    msg_fatal("usage: postqueue [-c config_dir] [-v] -p | -j | -f | -i queue_id");
}

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* Start a message: heading (first one only) or JSON prefix. */
static void show_message(struct listing *l, const char *queue, const char *id,
                         time_t arrival, unsigned long long size, const char *sender)
{
    if (l->json) {
        printf("{\"queue_name\": ");
        json_str(queue);
        printf(", \"queue_id\": ");
        json_str(id);
        printf(", \"arrival_time\": %lld, \"message_size\": %llu, \"forced_expire\": false,"
               " \"sender\": ", (long long)arrival, size);
        json_str(sender);
        printf(", \"recipients\": [");
    } else {
        char idbuf[QUEUE_ID_SIZE + 2], when[64];
        struct tm tm;

        if (l->count > 0)
            printf("\n");
        else
            printf(L_STRING_FORMAT, "----Queue ID-----", "--Size--",
                   "---Arrival Time----", "--Sender/Recipient------");
        snprintf(idbuf, sizeof(idbuf), "%s%s", id,
                 strcmp(queue, "active") == 0 ? "*" : strcmp(queue, "hold") == 0 ? "!" : "");
        if (localtime_r(&arrival, &tm) == NULL || asctime_r(&tm, when) == NULL)
            snprintf(when, sizeof(when), "%lld", (long long)arrival);
        printf(L_SENDER_FORMAT, idbuf, size, when, *sender ? sender : "MAILER-DAEMON");
    }
    l->count++;
    l->bytes += size;
}

/*
 * One recipient; reason is its latest deferral reason from defer/ID (or
 * NULL). As Postfix's mailq, a "(reason)" line precedes the recipients it
 * applies to, once for a run of recipients with the same reason.
 */
static void show_rcpt(struct listing *l, int *first, const char *addr, const char *reason,
                      const char **last_reason)
{
    if (l->json) {
        printf("%s{\"address\": ", *first ? "" : ", ");
        json_str(addr);
        if (reason) {
            printf(", \"delay_reason\": ");
            json_str(reason);
        }
        printf("}");
    } else {
        if (reason && (*last_reason == NULL || strcmp(reason, *last_reason) != 0))
            printf("(%.*s)\n", 100, reason);
        printf(L_STRING_FORMAT, "", "", "", addr);
    }
    if (last_reason)
        *last_reason = reason;
    *first = 0;
}

/* The latest deferral reason for the recipient at offset, or NULL. */
static const char *defer_reason(const struct dsn_log *dl, uint64_t offset)
{
    for (size_t i = 0; i < dl->n; i++)
        if (dl->v[i].offset == offset)
            return dl->v[i].text;
    return NULL;
}

static void end_message(struct listing *l)
{
    if (l->json)
        printf("]}\n");
}

static int list_entry(const struct queue_entry *e, void *ctx)
{
    struct listing *l = ctx;
    struct buf why = BUF_INIT;
    int corrupt, first = 1;

    if (!e->is_id)
        return 0;
    if (strcmp(e->queue, "maildrop") == 0) {
        struct maildrop_msg md;

        if (maildrop_open(e->path, &md, &corrupt, &why) == 0) {
            show_message(l, e->queue, e->name, md.time, md.size, md.sender);
            for (size_t i = 0; i < md.nrcpt; i++)
                show_rcpt(l, &first, md.rcpt[i], NULL, NULL);
            end_message(l);
            maildrop_close(&md);
        } else if (msg_verbose) {
            msg_info("%s: %s", e->path, buf_str(&why));
        }
    } else {
        struct queue_file *qf;
        struct qf_rcpt r;

        if (queue_file_open(e->path, QF_OPEN_RDONLY, &qf, &corrupt, &why) == 0) {
            const struct qf_envelope *env = queue_file_envelope(qf);
            struct dsn_log dl = {0};
            const char *last = NULL;
            struct buf lwhy = BUF_INIT;

            /* Deferral reasons, if qmgr recorded any (defer/ID). */
            if (dsn_log_read(DSN_LOG_DEFER, env->queue_id, &dl, &lwhy) == 0)
                dsn_log_latest(&dl);
            buf_free(&lwhy);
            show_message(l, e->queue, env->queue_id, env->arrival.tv_sec,
                         (unsigned long long)env->size, env->sender);
            queue_file_rcpt_rewind(qf);
            while (queue_file_rcpt_next(qf, &r, &why) == 1)
                if (!r.done)
                    show_rcpt(l, &first, r.address, defer_reason(&dl, r.offset), &last);
            end_message(l);
            dsn_log_free(&dl);
            queue_file_close(qf);
        } else if (msg_verbose) {
            msg_info("%s: %s", e->path, buf_str(&why));
        }
    }
    buf_free(&why);
    if (fflush(stdout) == EOF && errno == EPIPE)
        return 1;
    return 0;
}

static int list_queue(int json)
{
    struct listing l = {json, 0, 0};

    for (const char *const *q = queue_scan_names; *q; q++)
        if (queue_scan(*q, list_entry, &l))
            break;
    if (!json) {
        if (l.count == 0)
            printf("Mail queue is empty\n");
        else
            printf("\n-- %llu Kbytes in %lu Request%s.\n", l.bytes / 1024, l.count,
                   l.count == 1 ? "" : "s");
    }
    if (fflush(stdout) == EOF && errno != EPIPE)
        msg_fatal("output write error: %s", strerror(errno));
    return 0;
}

struct find {
    const char *id;
    char *path;
};

static int find_entry(const struct queue_entry *e, void *ctx)
{
    struct find *f = ctx;

    if (strcmp(e->name, f->id) == 0) {
        f->path = strdup(e->path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *opt_dir = NULL, *id = NULL;
    struct config *cfg;
    int ch, mode = 0;

    log_init("postqueue");
    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'f': case 'j': case 'p': mode = ch; break;
        case 'i': mode = 'i'; id = optarg; break;
        case 's': msg_fatal("-s (flush one site) is not supported: there is no flush service");
        case 'v': log_set_verbose(msg_verbose + 1); break;
        default: usage();
        }
    }
    if (mode == 0 || optind != argc)
        usage();
    cfg = tool_load_config(confdir_resolve(opt_dir));
    if (chdir(config_str(cfg, "queue_directory")) < 0)
        msg_fatal("chdir %s: %s", config_str(cfg, "queue_directory"), strerror(errno));

    switch (mode) {
    case 'p':
    case 'j':
        list_queue(mode == 'j');
        break;
    case 'f':
        if (trigger_send(QMGR_TRIGGER_SOCKET, "FA", 2) < 0) {
            msg_error("Cannot flush mail queue - mail system is down");
            exit(EX_UNAVAILABLE);
        }
        break;
    case 'i': {
        struct find f = {id, NULL};

        if (!queue_id_valid(id))
            msg_fatal("invalid queue ID: %s", id);
        (void)queue_scan("deferred", find_entry, &f);
        if (f.path == NULL) {
            msg_error("%s: not found in the deferred queue", id);
            exit(EX_DATAERR);
        }
        /* Due now: qmgr takes a deferred file whose time has come. */
        if (utimensat(AT_FDCWD, f.path, NULL, AT_SYMLINK_NOFOLLOW) < 0 && msg_verbose)
            msg_info("%s: set time: %s", f.path, strerror(errno));
        free(f.path);
        if (trigger_send(QMGR_TRIGGER_SOCKET, "D", 1) < 0) {
            msg_error("Cannot flush mail queue - mail system is down");
            exit(EX_UNAVAILABLE);
        }
        break;
    }
    }
    config_free(cfg);
    return 0;
}
