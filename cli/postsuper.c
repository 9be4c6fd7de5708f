/*
 * postsuper - queue maintenance, as Postfix's postsuper(1).
 *
 *   postsuper [-c DIR] [-v] [-s] [-d ID|ALL|-]... [-h ID|ALL|-]...
 *             [-H ID|ALL|-]... [-r ID|ALL|-]... [queue ...]
 *
 *   -d  delete messages (default queues: hold incoming active deferred),
 *       with their defer/ and bounce/ logs; logs "ID: removed"
 *   -h  put messages on hold (default: incoming active deferred): moved
 *       to hold/, where qmgr never looks; logs "ID: placed on hold"
 *   -H  release held messages (queue hold) to deferred/, from where qmgr
 *       takes them at its next deferred scan; logs "ID: released from hold"
 *   -r  requeue (default: hold incoming active deferred); logs
 *       "ID: requeued"
 *   -s  check the queue tree: remove temporary files ("tmp.*") older than
 *       a day, move to corrupt/ every file that the queue file (or
 *       maildrop) reader rejects, including a file whose name is not the
 *       queue ID recorded inside it, and files whose names are not queue
 *       IDs at all
 *
 * ID "ALL" means every message; "-" reads IDs from standard input, one a
 * line. Every message is opened and checked by the queue file reader
 * before postsuper acts on it: a corrupt file is never moved or requeued
 * (-s quarantines it) and names are not trusted on their own. A summary
 * line per action goes to standard error ("postsuper: Deleted: 2
 * messages"), and every action is logged.
 *
 * -r: Postfix copies the message back to maildrop/ so that clean-up runs
 * again. postern writes a fresh queue file straight into incoming/
 * instead (same sender, DSN settings, client, attributes and content,
 * only the recipients not yet delivered; a new queue ID, and the arrival
 * time becomes the time of the requeue), then removes the old file:
 * clean-up has already added its headers, and running it twice would add
 * a second Received: and re-expand aliases. Changed canonical or virtual
 * mappings therefore do not apply to requeued mail.
 *
 * Like Postfix's, postsuper must run as root or as mail_owner (or the
 * user of an unprivileged instance); it does not lock out qmgr, so
 * operate on active mail only when qmgr is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "confdir.h"
#include "log.h"
#include "log_setup.h"
#include "maildrop.h"
#include "mail_tool.h"
#include "maincf.h"
#include "mem.h"
#include "queue_file.h"
#include "queue_scan.h"
#include "safe_file.h"

#define STALE_AGE   (24 * 3600)
#define MAX_IDS     1000000

enum op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE, OP_COUNT };

static const char *const op_default_queues[OP_COUNT][5] = {
    {"hold", "incoming", "active", "deferred", NULL},
    {"incoming", "active", "deferred", NULL},
    {"hold", NULL},
    {"hold", "incoming", "active", "deferred", NULL},
};
static const char *const op_summary[OP_COUNT] = {
    "Deleted", "Placed on hold", "Released from hold", "Requeued",
};

struct targets {
    int all;
    char **ids;
    size_t n, cap;
};

static struct targets targets[OP_COUNT];
static unsigned long counts[OP_COUNT];

static _Noreturn void usage(void)
{
    msg_fatal("usage: postsuper [-c config_dir] [-v] [-s] [-d queue_id|ALL|-]"
              " [-h queue_id|ALL|-] [-H queue_id|ALL|-] [-r queue_id|ALL|-] [queue...]");
}

static void add_id(struct targets *t, const char *id)
{
    if (strcmp(id, "ALL") == 0) {
        t->all = 1;
        return;
    }
    if (!queue_id_valid(id)) {
        msg_warn("invalid queue ID: \"%s\"", id);
        return;
    }
    if (t->n >= MAX_IDS)
        msg_fatal("too many queue IDs (limit %d)", MAX_IDS);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->ids = xreallocarray(t->ids, t->cap, sizeof(*t->ids));
    }
    t->ids[t->n++] = xstrdup(id);
}

static void add_arg(struct targets *t, const char *arg)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (strcmp(arg, "-") != 0) {
        add_id(t, arg);
        return;
    }
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = 0;
        if (n > 0)
            add_id(t, line);
    }
    free(line);
}

static int wanted(const struct targets *t, const char *id)
{
    if (t->all)
        return 1;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->ids[i], id) == 0)
            return 1;
    return 0;
}

/* rename without replacing anything, then fsync the new directory. */
static int move_file(const char *from, const char *to_dir, const char *name)
{
    struct buf to = BUF_INIT;
    int rc;

    buf_printf(&to, "%s/%s", to_dir, name);
    rc = renameat2(AT_FDCWD, from, AT_FDCWD, buf_str(&to), RENAME_NOREPLACE);
    if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
        if ((rc = link(from, buf_str(&to))) == 0)
            (void)unlink(from);
    }
    if (rc < 0)
        msg_warn("%s: move %s to %s: %s", name, from, buf_str(&to), strerror(errno));
    else if (fsync_parent_dir(buf_str(&to)) < 0 || fsync_parent_dir(from) < 0)
        msg_warn("%s: fsync: %s", name, strerror(errno));
    buf_free(&to);
    return rc;
}

static int copy_chunk(const void *data, size_t len, void *ctx)
{
    return queue_file_put_content(ctx, data, len) < 0 ? 1 : 0;
}

/* -r: a fresh copy in incoming/ with the recipients still to do. */
static int requeue(struct queue_file *qf, const char *old_path, const char *id)
{
    const struct qf_envelope *env = queue_file_envelope(qf);
    struct buf err = BUF_INIT, why = BUF_INIT;
    struct queue_file_writer *w;
    const char *name, *value;
    struct qf_rcpt r;
    size_t pending = 0;
    int rc;

    if ((w = queue_file_create("incoming", &err)) == NULL) {
        msg_warn("%s: requeue: %s", id, buf_str(&err));
        buf_free(&err);
        return -1;
    }
    queue_file_put_sender(w, env->sender);
    if (env->envid)
        queue_file_put_envid(w, env->envid);
    if (env->ret)
        queue_file_put_ret(w, env->ret);
    if (env->client_name)
        queue_file_put_client(w, env->client_name, env->client_addr, env->client_helo,
                              env->client_proto);
    for (size_t i = 0; queue_file_attr_at(qf, i, &name, &value) == 1; i++)
        queue_file_put_attr(w, name, value);
    queue_file_rcpt_rewind(qf);
    while ((rc = queue_file_rcpt_next(qf, &r, &why)) == 1) {
        if (!r.done) {
            queue_file_put_rcpt(w, r.address, *r.orcpt ? r.orcpt : NULL, r.notify);
            pending++;
        }
    }
    if (rc < 0 || pending == 0) {
        msg_warn("%s: requeue: %s", id, rc < 0 ? buf_str(&why) : "no recipients left to deliver");
        queue_file_abort(w);
        buf_free(&err);
        buf_free(&why);
        return -1;
    }
    if (queue_file_content_foreach(qf, copy_chunk, w, &why) != 0) {
        msg_warn("%s: requeue: %s", id, buf_str(&why)[0] ? buf_str(&why) : "write error");
        queue_file_abort(w);
        buf_free(&err);
        buf_free(&why);
        return -1;
    }
    {
        char new_id[QUEUE_ID_SIZE];

        snprintf(new_id, sizeof(new_id), "%s", queue_file_writer_id(w));
        if (queue_file_commit(w, "incoming", 0, &err) < 0) {
            msg_warn("%s: requeue: %s", id, buf_str(&err));
            buf_free(&err);
            buf_free(&why);
            return -1;
        }
        if (unlink(old_path) < 0)
            msg_warn("%s: remove %s: %s (now queued twice, as %s)", id, old_path,
                     strerror(errno), new_id);
        msg_info("%s: requeued as %s", id, new_id);
    }
    buf_free(&err);
    buf_free(&why);
    return 0;
}

static void remove_logs(const char *id)
{
    struct buf p = BUF_INIT;
    static const char *const logs[] = {"defer", "bounce", NULL};

    for (const char *const *l = logs; *l; l++) {
        buf_reset(&p);
        buf_printf(&p, "%s/%s", *l, id);
        (void)unlink(buf_str(&p));
    }
    buf_free(&p);
}

struct op_ctx {
    enum op op;
};

static int op_entry(const struct queue_entry *e, void *ctx)
{
    struct op_ctx *o = ctx;
    struct buf why = BUF_INIT;
    struct queue_file *qf;
    int corrupt;

    if (!e->is_id || !wanted(&targets[o->op], e->name))
        return 0;
    /* Never trust a name: the reader checks the whole file and its I record. */
    if (queue_file_open(e->path, QF_OPEN_RDONLY, &qf, &corrupt, &why) < 0) {
        if (errno != ENOENT || corrupt)
            msg_warn("%s: %s: not touched (%s)%s", e->name, e->path, buf_str(&why),
                     corrupt ? "; postsuper -s moves it to corrupt/" : "");
        buf_free(&why);
        return 0;
    }
    switch (o->op) {
    case OP_DELETE:
        if (unlink(e->path) == 0) {
            remove_logs(e->name);
            msg_info("%s: removed", e->name);
            counts[o->op]++;
        } else {
            msg_warn("%s: remove %s: %s", e->name, e->path, strerror(errno));
        }
        break;
    case OP_HOLD:
        if (move_file(e->path, "hold", e->name) == 0) {
            msg_info("%s: placed on hold", e->name);
            counts[o->op]++;
        }
        break;
    case OP_RELEASE:
        if (move_file(e->path, "deferred", e->name) == 0) {
            struct buf to = BUF_INIT;

            /* Due at once: qmgr treats the time of a deferred file as its retry time. */
            buf_printf(&to, "deferred/%s", e->name);
            (void)utimensat(AT_FDCWD, buf_str(&to), NULL, AT_SYMLINK_NOFOLLOW);
            buf_free(&to);
            msg_info("%s: released from hold", e->name);
            counts[o->op]++;
        }
        break;
    case OP_REQUEUE:
        if (requeue(qf, e->path, e->name) == 0)
            counts[o->op]++;
        break;
    case OP_COUNT:
        break;
    }
    queue_file_close(qf);
    buf_free(&why);
    return 0;
}

/* -s */
static unsigned long stale_removed, quarantined;

static int check_entry(const struct queue_entry *e, void *ctx)
{
    struct buf why = BUF_INIT;
    struct stat st;
    int corrupt = 0, bad = 0;

    if (strncmp(e->name, "tmp.", 4) == 0) {
        if (lstat(e->path, &st) == 0 && st.st_mtime < time(NULL) - STALE_AGE) {
            if (unlink(e->path) == 0) {
                msg_info("%s: removed stale temporary file", e->path);
                stale_removed++;
            } else {
                msg_warn("remove %s: %s", e->path, strerror(errno));
            }
        }
        return 0;
    }
    if (!e->is_id) {
        buf_printf(&why, "file name is not a queue ID");
        bad = 1;
    } else if (strcmp(e->queue, "maildrop") == 0) {
        struct maildrop_msg md;

        if (maildrop_open(e->path, &md, &corrupt, &why) == 0)
            maildrop_close(&md);
        else
            bad = corrupt;
    } else {
        struct queue_file *qf;

        if (queue_file_open(e->path, QF_OPEN_RDONLY, &qf, &corrupt, &why) == 0)
            queue_file_close(qf);
        else
            bad = corrupt;
    }
    if (bad) {
        if (queue_file_quarantine(e->path, "corrupt", buf_str(&why)) == 0)
            quarantined++;
    } else if (why.len) {
        msg_warn("%s: %s", e->path, buf_str(&why));
    }
    buf_free(&why);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const check_queues[] = {
        "maildrop", "incoming", "active", "deferred", "hold", NULL,
    };
    const char *opt_dir = NULL;
    struct config *cfg;
    int ch, check = 0, any = 0;

    log_init("postsuper");
    while ((ch = getopt(argc, argv, "c:d:h:H:r:sSpv")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'd': add_arg(&targets[OP_DELETE], optarg); any = 1; break;
        case 'h': add_arg(&targets[OP_HOLD], optarg); any = 1; break;
        case 'H': add_arg(&targets[OP_RELEASE], optarg); any = 1; break;
        case 'r': add_arg(&targets[OP_REQUEUE], optarg); any = 1; break;
        case 's': check = 1; any = 1; break;
        case 'p': case 'S': break;      /* Postfix: obsolete, harmless */
        case 'v': log_set_verbose(msg_verbose + 1); break;
        default: usage();
        }
    }
    for (int i = optind; i < argc; i++) {
        int known = 0;

        for (const char *const *q = check_queues; *q; q++)
            known |= strcmp(argv[i], *q) == 0;
        if (!known)
            msg_fatal("invalid directory name: %s", argv[i]);
    }
    cfg = tool_load_config(confdir_resolve(opt_dir));
    log_setup(cfg, 1);
    if (chdir(config_str(cfg, "queue_directory")) < 0)
        msg_fatal("chdir %s: %s", config_str(cfg, "queue_directory"), strerror(errno));
    if (!any)
        check = 1;                      /* as Postfix: no option means -s */

    if (check) {
        for (const char *const *q = check_queues; *q; q++)
            (void)queue_scan(*q, check_entry, NULL);
        if (stale_removed)
            fprintf(stderr, "postsuper: Removed %lu stale temporary file%s\n",
                    stale_removed, stale_removed == 1 ? "" : "s");
        if (quarantined)
            fprintf(stderr, "postsuper: Moved %lu corrupt file%s to corrupt/\n",
                    quarantined, quarantined == 1 ? "" : "s");
    }
    /* Postfix's order: delete, then requeue, then release, then hold. */
    static const enum op order[] = {OP_DELETE, OP_REQUEUE, OP_RELEASE, OP_HOLD};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        enum op op = order[k];
        struct op_ctx o = {op};

        if (!targets[op].all && targets[op].n == 0)
            continue;
        if (optind < argc) {
            for (int i = optind; i < argc; i++)
                (void)queue_scan(argv[i], op_entry, &o);
        } else {
            for (const char *const *q = op_default_queues[op]; *q; q++)
                (void)queue_scan(*q, op_entry, &o);
        }
        if (counts[op])
            fprintf(stderr, "postsuper: %s: %lu message%s\n", op_summary[op], counts[op],
                    counts[op] == 1 ? "" : "s");
    }
    for (int op = 0; op < OP_COUNT; op++) {
        for (size_t i = 0; i < targets[op].n; i++)
            free(targets[op].ids[i]);
        free(targets[op].ids);
    }
    config_free(cfg);
    return 0;
}
