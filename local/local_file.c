/*
 * local_file - delivery to a /file named in an alias, .forward or
 * :include: file, as Postfix's local(8) does it: in a child process that
 * has become the identity in charge for good (eugid_drop_forever; never
 * root: default_privs instead), the message is appended in mbox format
 * (From_ line, >From quoting, blank line; Delivered-To: per
 * prepend_delivered_header) under the
 * mailbox_delivery_lock locks, or written as a Maildir message when the
 * name ends in '/'. The child reports back through a pipe: one status
 * byte ('0' done, '4' temporary, '5' permanent) and the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eugid.h"
#include "local.h"
#include "log.h"
#include "mailbox.h"

#define REPORT_MAX 2048

/* The mailbox_delivery_lock flags. */
static unsigned lock_flags(const struct config *cfg)
{
    unsigned f = 0;

    for (char *const *v = config_list(cfg, "mailbox_delivery_lock"); *v; v++)
        f |= strcasecmp(*v, "dotlock") == 0 ? MAILBOX_LOCK_DOTLOCK : MAILBOX_LOCK_FCNTL;
    return f;
}

/* Child: deliver and report. Never returns. */
static _Noreturn void file_child(struct local_ctx *c, const char *path,
                                 const struct local_user *as, int report)
{
    struct mailbox_opts o;
    struct buf why = BUF_INIT;
    size_t len = strlen(path);
    int maildir = len > 1 && path[len - 1] == '/', is_temp = 1, rc;
    char st;

    signal(SIGPIPE, SIG_IGN);
    if (eugid_privileged() && eugid_drop_forever(as->uid, as->gid) < 0) {
        buf_printf(&why, "cannot switch to user %s (uid %ld): %s", as->name,
                   (long)as->uid, strerror(errno));
        rc = -1;
    } else {
        memset(&o, 0, sizeof(o));
        o.copy_flags = maildir ? MAIL_COPY_MAILDIR : MAIL_COPY_MBOX;
        if (!local_param_has(c->cfg, "prepend_delivered_header", "file"))
            o.copy_flags &= ~(unsigned)MAIL_COPY_DELIVERED;
        o.flags = MAILBOX_CREATE | (maildir ? 0 : lock_flags(c->cfg));
        o.sender = c->req->sender;
        o.delivered_to = c->delivered_to;
        o.original_to = c->original_to;
        o.size_limit = config_size(c->cfg, "mailbox_size_limit");
        rc = maildir ? maildir_deliver(path, c->req->qf, &o, &is_temp, &why)
            : mbox_deliver(path, c->req->qf, &o, &is_temp, &why);
    }
    st = rc == 0 ? '0' : is_temp ? '4' : '5';
    (void)!write(report, &st, 1);
    (void)!write(report, buf_str(&why), why.len > REPORT_MAX ? REPORT_MAX : why.len);
    _exit(0);
}

void local_deliver_file(struct local_ctx *c, const char *path, const struct local_user *as)
{
    struct buf why = BUF_INIT, report = BUF_INIT;
    int fds[2], status;
    pid_t pid;
    ssize_t n;
    char chunk[512];
    struct local_user privs;

    if ((as = local_not_root(c, as, &privs)) == NULL)
        return;
    if (local_can_become(as->uid, as->name, &why) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        goto out;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot make a pipe: %s", strerror(errno));
        goto out;
    }
    if ((pid = fork()) == 0) {
        close(fds[0]);
        file_child(c, path, as, fds[1]);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot fork: %s", strerror(errno));
        goto out;
    }
    /* The mailbox code bounds its own waits (locks give up after 30 s). */
    while (report.len <= REPORT_MAX + 1
           && ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            buf_append(&report, chunk, (size_t)n);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (report.len == 0)
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot append to file %s: delivery process died",
                   path);
    else if (report.data[0] == '0')
        local_note(c, LOCAL_OK, "2.0.0", "delivered to file: %s", path);
    else
        local_note(c, report.data[0] == '4' ? LOCAL_DEFER : LOCAL_BOUNCE,
                   report.data[0] == '4' ? "4.2.0" : "5.2.0", "%s", buf_str(&report) + 1);
out:
    local_user_free(&privs);
    buf_free(&why);
    buf_free(&report);
}
