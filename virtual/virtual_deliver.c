/*
 * virtual_deliver - one request of the virtual agent: for each recipient,
 * the loop check, the table lookups, then the Maildir or mbox delivery
 * as the mailbox's uid/gid, and its result in Postfix's words.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "eugid.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"
#include "virtual.h"

#define RELAY "virtual"

/*
 * The address an ORCPT names: the queue file holds it decoded
 * ("rfc822;a+b@x"; smtpd decoded the xtext), so it is used as it is.
 */
static void orcpt_address(const char *orcpt, struct buf *out)
{
    const char *semi = strchr(orcpt, ';');

    buf_reset(out);
    buf_puts(out, semi ? semi + 1 : orcpt);
}

/* Write the message into u's mailbox as u; 0 or -1 with why, *is_temp. */
static int deliver_mailbox(struct virtual_ctx *vc, struct delivery_request *req,
                           size_t i, const struct virtual_user *u, int *is_temp,
                           struct buf *why)
{
    const struct delivery_rcpt *r = &req->rcpt[i];
    struct buf delivered = BUF_INIT, orig = BUF_INIT;
    struct mailbox_opts o;
    int rc, err;

    memset(&o, 0, sizeof(o));
    buf_puts(&delivered, r->address);
    dict_fold(delivered.data);
    orcpt_address(r->orcpt, &orig);
    o.sender = req->sender;
    o.delivered_to = buf_str(&delivered);
    o.original_to = orig.len ? buf_str(&orig) : r->address;
    o.size_limit = vc->size_limit;
    o.flags = MAILBOX_CREATE;
    if (u->maildir) {
        o.copy_flags = MAIL_COPY_MAILDIR;
    } else {
        o.copy_flags = MAIL_COPY_MBOX;
        o.flags |= vc->lock_flags | MAILBOX_DOTLOCK_MAY_FAIL;
        o.check_owner = 1;
        o.owner = u->uid;
    }
    /* The queue file is already open: only the mailbox is touched as the user. */
    if (eugid_set(u->uid, u->gid) < 0) {
        *is_temp = 1;
        buf_printf(why, "cannot run as uid %ld gid %ld: %s", (long)u->uid, (long)u->gid,
                   strerror(errno));
        rc = -1;
    } else {
        rc = u->maildir ? maildir_deliver(buf_str(&u->path), req->qf, &o, is_temp, why)
                        : mbox_deliver(buf_str(&u->path), req->qf, &o, is_temp, why);
        err = errno;
        eugid_restore();
        errno = err;
    }
    buf_free(&delivered);
    buf_free(&orig);
    return rc;
}

/* Deliver recipient i and give it its result. */
static void deliver_one(struct virtual_ctx *vc, struct delivery_request *req, size_t i)
{
    const char *addr = req->rcpt[i].address;
    struct virtual_user u;
    struct buf why = BUF_INIT;
    int loop, is_temp = 1;

    memset(&u, 0, sizeof(u));
    buf_init(&u.path, 0);
    switch (virtual_lookup_user(vc, addr, &u, &why)) {
    case VIRTUAL_OK:
        break;
    case VIRTUAL_UNKNOWN:
        deliver_bounce(req, i, RELAY, "5.1.1", "unknown user: \"%s\"", addr);
        goto out;
    case VIRTUAL_TEMP:
        msg_warn("%s: %s", req->queue_id, buf_str(&why));
        deliver_defer(req, i, RELAY, "4.3.0", "%s", buf_str(&why));
        goto out;
    case VIRTUAL_CONFIG:
        msg_warn("%s: %s", req->queue_id, buf_str(&why));
        deliver_defer(req, i, RELAY, "4.3.5", "mail system configuration error");
        goto out;
    }
    if ((loop = mail_has_delivered_to(req->qf, addr, &why)) < 0) {
        deliver_defer(req, i, RELAY, "4.3.0", "cannot read queue file: %s", buf_str(&why));
        goto out;
    }
    if (loop > 0) {
        deliver_bounce(req, i, RELAY, "5.4.6", "mail forwarding loop for %s", addr);
        goto out;
    }
    if (deliver_mailbox(vc, req, i, &u, &is_temp, &why) == 0) {
        deliver_sent(req, i, RELAY, "2.0.0", "delivered to %s",
                     u.maildir ? "maildir" : "mailbox");
    } else if (is_temp) {
        deliver_defer(req, i, RELAY, "4.2.0", "%s", buf_str(&why));
    } else {
        deliver_bounce(req, i, RELAY, errno == EFBIG || errno == EDQUOT ? "5.2.2" : "5.2.0",
                       "%s", buf_str(&why));
    }
out:
    buf_free(&u.path);
    buf_free(&why);
}

/* Give every recipient of req its delivery and result. */
void virtual_deliver_request(struct virtual_ctx *vc, struct delivery_request *req)
{
    for (size_t i = 0; i < req->nrcpt; i++)
        deliver_one(vc, req, i);
}
