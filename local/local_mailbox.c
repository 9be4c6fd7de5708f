/*
 * local_mailbox - delivery to a user's own mailbox: mailbox_command when
 * set (run as written: no $name expansion, as in Postfix), else
 * home_mailbox under the home directory (Maildir when it ends in '/'),
 * else mail_spool_directory/USER (Maildir when the spool ends in
 * '/'), written with the user's identity (eugid.h), locked as
 * mailbox_delivery_lock says, with Return-Path:, Delivered-To: and
 * X-Original-To: on top.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eugid.h"
#include "local.h"
#include "log.h"
#include "mailbox.h"

/* The mailbox_delivery_lock flags. */
static unsigned lock_flags(const struct config *cfg)
{
    unsigned f = 0;

    for (char *const *v = config_list(cfg, "mailbox_delivery_lock"); *v; v++) {
        if (strcasecmp(*v, "dotlock") == 0)
            f |= MAILBOX_LOCK_DOTLOCK;
        else            /* fcntl, and flock (mailbox.h locks with fcntl) */
            f |= MAILBOX_LOCK_FCNTL;
    }
    return f;
}

void local_deliver_mailbox(struct local_ctx *c, const struct local_user *u)
{
    const char *raw = config_raw(c->cfg, "mailbox_command");
    const char *home_mailbox = config_str(c->cfg, "home_mailbox");
    const char *spool = config_str(c->cfg, "mail_spool_directory");
    struct mailbox_opts o;
    struct buf path = BUF_INIT, why = BUF_INIT;
    size_t len;
    int maildir, is_temp = 0, rc, err;
    struct stat sst;
    gid_t gid;

    if (local_can_become(u->uid, u->name, &why) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        buf_free(&why);
        return;
    }
    /* As in Postfix, mailbox_command gets no $name expansion: shell syntax. */
    if (raw && *raw) {
        local_deliver_command(c, raw, u, u, 1);
        return;
    }
    if (*home_mailbox) {
        buf_printf(&path, "%s%s%s", u->home,
                   u->home[strlen(u->home) - 1] == '/' ? "" : "/", home_mailbox);
        len = strlen(home_mailbox);
        maildir = home_mailbox[len - 1] == '/';
    } else {
        len = strlen(spool);
        maildir = len > 0 && spool[len - 1] == '/';
        buf_printf(&path, "%s%s%s%s", spool, maildir || len == 0 ? "" : "/", u->name,
                   maildir ? "/" : "");
    }
    memset(&o, 0, sizeof(o));
    o.copy_flags = maildir ? MAIL_COPY_MAILDIR : MAIL_COPY_MBOX;
    o.flags = MAILBOX_CREATE | (maildir ? 0 : lock_flags(c->cfg));
    o.sender = c->req->sender;
    o.delivered_to = c->delivered_to;
    o.original_to = c->original_to;
    o.size_limit = config_size(c->cfg, "mailbox_size_limit");
    o.check_owner = config_bool(c->cfg, "strict_mailbox_ownership");
    o.owner = u->uid;

    gid = u->gid;
    if (!*home_mailbox && !maildir && stat(spool, &sst) == 0
        && (sst.st_mode & S_IWGRP) && !(sst.st_mode & S_IWOTH))
        gid = sst.st_gid;   /* Debian's root:mail 2775 spool: create as group mail */
    if (eugid_set(u->uid, gid) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot deliver as user %s (uid %ld): %s",
                   u->name, (long)u->uid, strerror(errno));
        buf_free(&path);
        return;
    }
    rc = maildir ? maildir_deliver(buf_str(&path), c->req->qf, &o, &is_temp, &why)
        : mbox_deliver(buf_str(&path), c->req->qf, &o, &is_temp, &why);
    err = errno;
    eugid_restore();
    if (rc == 0)
        local_note(c, LOCAL_OK, "2.0.0", maildir ? "delivered to maildir" : "delivered to mailbox");
    else if (is_temp)
        local_note(c, LOCAL_DEFER, "4.2.0", "%s", buf_str(&why));
    else
        local_note(c, LOCAL_BOUNCE, err == EFBIG || err == EDQUOT ? "5.2.2" : "5.2.0", "%s",
                   buf_str(&why));
    buf_free(&path);
    buf_free(&why);
}
