/*
 * pickup - move locally submitted mail from maildrop/ into the queue, as
 * Postfix's pickup(8).
 *
 * A wakeup service (master.cf: "pickup unix n - y 60 1 pickup"): postdrop
 * wakes it through public/pickup after each new file, master every 60
 * seconds (so a lost wakeup delays mail by at most a minute), and at
 * start-up it scans at once for mail that waited while the system was
 * down. On each wakeup it reads maildrop/ and, for each file
 * named by a queue ID (temporary "tmp.*" files are postdrop's, still
 * being written):
 *
 *   1. open and check it (lib/maildrop.h); a malformed file goes to
 *      corrupt/ with a "warning: ID: corrupt queue file: why" line;
 *   2. run it through clean-up (lib/cleanup.h) as local submission:
 *      protocol LOCAL, login_user the file owner's name, -t honoured,
 *      From: from the full name when missing;
 *   3. commit the new queue file into incoming/ (fsync, rename, fsync);
 *   4. only then unlink the maildrop file (a crash in between may give a
 *      duplicate, never a loss), log "QUEUEID: uid=N from=<sender>" and
 *      wake qmgr (public/qmgr, "W"; ignored when qmgr is not running).
 *
 * A message clean-up rejects for good (no recipient after -t, too many
 * hops, header too large) cannot be bounced until the bounce service
 * exists: it is logged ("warning: ID: uid=N: message rejected: text") and
 * moved to corrupt/ so that an operator can look at it. A temporary
 * failure (a table lookup failed) leaves the file in maildrop/ for the
 * next wakeup.
 *
 * login_user (the "from userid NAME" of the Received: header) is the
 * owner's login name; inside the chroot, where there is no passwd file,
 * only pickup's own user is known by name (looked up before the jail)
 * and other users appear by number.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "log.h"
#include "maildrop.h"
#include "mail_tool.h"
#include "trigger.h"
#include "mem.h"
#include "queue_file.h"
#include "queue_id.h"

#define MAILDROP_DIR    "maildrop"
#define INCOMING_DIR    "incoming"
#define CORRUPT_DIR     "corrupt"
#define HASH_DEPTH      0           /* no hash_queue_depth parameter yet */
#define LINE_PIECE      4096
#define MAX_PER_SCAN    10000       /* then yield to the event loop */

static struct cleanup *cleanup;

/* Names of users, looked up before the chroot (no /etc/passwd inside). */
struct user_name {
    uid_t uid;
    char *name;
    struct user_name *next;
};
static struct user_name *users;

static const char *user_name(uid_t uid, char *num, size_t numlen)
{
    struct user_name *u;
    struct passwd *pw;

    for (u = users; u; u = u->next)
        if (u->uid == uid)
            return u->name;
    if ((pw = getpwuid(uid)) != NULL) {
        u = xcalloc(1, sizeof(*u));
        u->uid = uid;
        u->name = xstrdup(pw->pw_name);
        u->next = users;
        users = u;
        return u->name;
    }
    snprintf(num, numlen, "%ld", (long)uid);
    return num;
}

static void pre_jail(const struct config *cfg)
{
    struct buf err = BUF_INIT;

    /* Tables (canonical, virtual ...) may live outside the queue directory. */
    if ((cleanup = cleanup_open(cfg, &err)) == NULL)
        msg_fatal("cleanup: %s", buf_str(&err));
    buf_free(&err);
    /* Resolve our own user now; others are looked up on demand (NSS may work). */
    {
        char num[32];

        (void)user_name(getuid(), num, sizeof(num));
    }
}

static int feed_content(struct cleanup_msg *cm, struct maildrop_msg *md,
                        struct cleanup_status *st, struct buf *why)
{
    char piece[LINE_PIECE];
    uint64_t left = md->size;

    while (left > 0) {
        size_t want = left < sizeof(piece) ? (size_t)left : sizeof(piece);
        size_t got, start = 0;

        got = fread(piece, 1, want, md->fp);
        if (got == 0) {
            buf_printf(why, "read error or short file");
            return -1;
        }
        left -= got;
        for (size_t i = 0; i < got; i++) {
            if (piece[i] != '\n')
                continue;
            *st = cleanup_content(cm, piece + start, i - start, 1);
            if (st->result != CLEANUP_OK)
                return 1;
            start = i + 1;
        }
        if (start < got) {
            /* A partial line; the last line of the file may lack its newline. */
            *st = cleanup_content(cm, piece + start, got - start, left == 0);
            if (st->result != CLEANUP_OK)
                return 1;
        }
    }
    return 0;
}

/*
 * Move one maildrop file into the queue. Returns 1 if it was dealt with
 * (queued, quarantined or vanished), 0 to retry later.
 */
static int pickup_one(const char *name)
{
    struct buf path = BUF_INIT, why = BUF_INIT, err = BUF_INIT;
    struct maildrop_msg md;
    struct queue_file_writer *w = NULL;
    struct cleanup_msg *cm = NULL;
    struct cleanup_envelope env;
    struct cleanup_status st;
    char num[32], id[QUEUE_ID_SIZE];
    const char *login;
    int corrupt, rc, done = 0;

    buf_printf(&path, "%s/%s", MAILDROP_DIR, name);
    if (maildrop_open(buf_str(&path), &md, &corrupt, &why) < 0) {
        if (corrupt)
            (void)queue_file_quarantine(buf_str(&path), CORRUPT_DIR, buf_str(&why));
        else if (errno != ENOENT)
            msg_warn("%s: %s", name, buf_str(&why));
        buf_free(&path);
        buf_free(&why);
        return corrupt || errno == ENOENT;
    }
    if (maildrop_rewind(&md) < 0) {
        msg_warn("%s: seek: %s", name, strerror(errno));
        goto out;
    }
    login = user_name(md.uid, num, sizeof(num));

    memset(&env, 0, sizeof(env));
    env.sender = md.sender;
    env.protocol = "LOCAL";
    env.login_user = login;
    env.full_name = md.full_name;
    env.envid = md.envid;
    env.ret = md.ret;
    env.local_submission = 1;
    env.extract_recipients = md.extract;

    if ((w = queue_file_create(INCOMING_DIR, &err)) == NULL) {
        msg_warn("%s: cannot create a queue file: %s", name, buf_str(&err));
        goto out;
    }
    snprintf(id, sizeof(id), "%s", queue_file_writer_id(w));
    memset(&st, 0, sizeof(st));
    if ((cm = cleanup_begin(cleanup, w, &env, &st)) == NULL)
        goto failed;
    for (size_t i = 0; i < md.nrcpt; i++) {
        st = cleanup_rcpt(cm, md.rcpt[i], NULL, md.notify);
        if (st.result != CLEANUP_OK)
            goto failed;
    }
    rc = feed_content(cm, &md, &st, &why);
    if (rc < 0) {
        msg_warn("%s: %s", name, buf_str(&why));
        goto out;
    }
    if (rc > 0)
        goto failed;
    st = cleanup_finish(cm);
    if (st.result != CLEANUP_OK)
        goto failed;
    cleanup_free(cm);
    cm = NULL;
    rc = queue_file_commit(w, INCOMING_DIR, HASH_DEPTH, &err);
    w = NULL;
    if (rc < 0) {
        msg_warn("%s: cannot queue %s: %s", id, name, buf_str(&err));
        goto out;
    }
    /* Durable in incoming/: now, and only now, the maildrop file may go. */
    if (unlink(buf_str(&path)) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %s (the message may be queued twice)", id,
                 buf_str(&path), strerror(errno));
    msg_info("%s: uid=%ld from=<%s>", id, (long)md.uid, md.sender);
    trigger_qmgr();
    done = 1;
    goto out;

failed:
    if (st.result == CLEANUP_REJECT) {
        msg_warn("%s: uid=%ld from=<%s>: message rejected: %d %s %s", name,
                 (long)md.uid, md.sender, st.code, st.enh, st.text);
        if (cm)
            cleanup_free(cm);
        cm = NULL;
        queue_file_abort(w);
        w = NULL;
        maildrop_close(&md);
        (void)queue_file_quarantine(buf_str(&path), CORRUPT_DIR, "rejected by clean-up");
        buf_free(&path);
        buf_free(&why);
        buf_free(&err);
        return 1;
    }
    msg_warn("%s: uid=%ld from=<%s>: temporary failure: %d %s %s (will retry)", name,
             (long)md.uid, md.sender, st.code, st.enh, st.text);
out:
    if (cm)
        cleanup_free(cm);
    if (w)
        queue_file_abort(w);
    maildrop_close(&md);
    buf_free(&path);
    buf_free(&why);
    buf_free(&err);
    return done;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One pass over maildrop/, oldest first. */
static void scan(void)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if ((d = opendir(MAILDROP_DIR)) == NULL) {
        msg_warn("open directory %s: %s", MAILDROP_DIR, strerror(errno));
        return;
    }
    while ((de = readdir(d)) != NULL && n < MAX_PER_SCAN) {
        if (!queue_id_valid(de->d_name))
            continue;                   /* ., .., tmp.* files being written */
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xreallocarray(names, cap, sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        if (!daemon_retiring())
            (void)pickup_one(names[i]);
        free(names[i]);
    }
    free(names);
}

static void post_jail(const struct config *cfg, struct evloop *loop)
{
    scan();                             /* mail that waited while we were down */
}

static void on_trigger(const char *data, size_t len, const struct config *cfg,
                       struct evloop *loop)
{
    scan();
}

int main(int argc, char **argv)
{
    static const struct daemon_service svc = {
        .program = "pickup",
        .pre_jail = pre_jail,
        .post_jail = post_jail,
        .on_trigger = on_trigger,
    };

    daemon_main(argc, argv, &svc);
}
