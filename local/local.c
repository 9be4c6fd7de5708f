/*
 * local - the local delivery agent (master.cf: "local unix - n n - -
 * local"), Postfix's local(8): it runs as root, not chrooted, and takes
 * one recipient of a mydestination domain at a time through
 *
 *   1. the Delivered-To: loop check (5.4.6 "mail forwarding loop");
 *   2. alias_maps (local_aliases.c): an alias is expanded, its commands
 *      and files delivered, its addresses re-queued (local_forward.c);
 *      an alias that names the recipient itself goes on to step 3;
 *   3. the passwd entry: an unknown user goes to luser_relay, or bounces
 *      with 5.1.1 "unknown user";
 *   4. the user's .forward (local_dotforward.c);
 *   5. the user's mailbox (local_mailbox.c): mailbox_command,
 *      home_mailbox or mail_spool_directory.
 *
 * Every destination adds to the recipient's one outcome (local.h), which
 * becomes its result and log line (relay=local).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deliver_agent.h"
#include "dict.h"
#include "local.h"
#include "local_expand.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"

#define RELAY "local"

/* X-Original-To: the ORCPT address ("rfc822;a@b") or the address. */
static char *original_recipient(const struct delivery_rcpt *r)
{
    const char *semi;

    if (r->orcpt && *r->orcpt && (semi = strchr(r->orcpt, ';')) != NULL
        && strncasecmp(r->orcpt, "rfc822", (size_t)(semi - r->orcpt)) == 0) {
        semi++;
        while (isspace((unsigned char)*semi))
            semi++;
        if (*semi)
            return xstrdup(semi);
    }
    return xstrdup(r->address);
}

/* Unknown user: luser_relay, or a 5.1.1 bounce. */
static void unknown_user(struct local_ctx *c)
{
    const char *raw = config_raw(c->cfg, "luser_relay");
    struct local_expand_vars v = {
        .user = c->rcpt.user, .recipient = c->rcpt.address, .local = c->rcpt.local,
        .extension = c->rcpt.extension, .domain = c->rcpt.domain,
        .recipient_delimiter = c->rcpt.delim,
    };
    struct buf addr = BUF_INIT, why = BUF_INIT;

    if (raw == NULL || *raw == 0) {
        local_note(c, LOCAL_BOUNCE, "5.1.1", "unknown user: \"%s\"", c->rcpt.user);
        return;
    }
    if (local_expand(raw, &v, &addr, &why) < 0 || addr.len == 0) {
        msg_warn("luser_relay: %s", why.len ? buf_str(&why) : "empty expansion");
        local_note(c, LOCAL_DEFER, "4.3.5", "bad luser_relay setting");
    } else {
        local_forward_add(c, buf_str(&addr));
    }
    buf_free(&addr);
    buf_free(&why);
}

/* Steps 1 to 5 for one recipient. */
static void deliver_one(struct local_ctx *c)
{
    struct local_user u = { 0 };
    struct buf why = BUF_INIT;
    int no_forward = 0, rc;

    rc = mail_has_delivered_to(c->req->qf, c->delivered_to, &why);
    if (rc < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot read the message: %s", buf_str(&why));
        goto out;
    }
    if (rc > 0) {
        local_note(c, LOCAL_BOUNCE, "5.4.6", "mail forwarding loop for %s", c->delivered_to);
        goto out;
    }
    rc = local_aliases(c, &no_forward);
    if (rc < 0 || (rc > 0 && !c->to_mailbox))
        goto out;
    rc = local_user_byname(c->rcpt.user, &u, &why);
    if (rc < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        goto out;
    }
    if (rc == 0) {
        unknown_user(c);
        goto out;
    }
    if (!no_forward) {
        int was_self = c->to_mailbox;

        c->to_mailbox = 0;
        if (local_dotforward(c, &u) && !c->to_mailbox) {
            c->to_mailbox = was_self;
            goto out;
        }
    }
    if (c->status == LOCAL_OK)
        local_deliver_mailbox(c, &u);
out:
    local_user_free(&u);
    buf_free(&why);
}

/* The agent's deliver(): every recipient gets exactly one result. */
static void local_deliver(struct delivery_request *req, const struct config *cfg)
{
    const char *delim = config_str(cfg, "recipient_delimiter");
    int ors = config_bool(cfg, "owner_request_special");
    int orig = config_bool(cfg, "enable_original_recipient");

    for (size_t i = 0; i < req->nrcpt; i++) {
        struct delivery_rcpt *r = &req->rcpt[i];
        struct local_ctx c;
        char *original = NULL;

        if (r->result != DELIVER_NONE)
            continue;
        memset(&c, 0, sizeof(c));
        c.req = req;
        c.i = i;
        c.cfg = cfg;
        snprintf(c.dsn, sizeof(c.dsn), "2.0.0");
        local_rcpt_split(r->address, delim, ors, &c.rcpt);
        c.delivered_to = xstrdup(r->address);
        dict_fold(c.delivered_to);
        if (orig)
            c.original_to = original = original_recipient(r);

        deliver_one(&c);
        local_forward_flush(&c);

        if (c.status == LOCAL_BOUNCE)
            deliver_bounce(req, i, RELAY, c.dsn, "%s", buf_str(&c.fail_text));
        else if (c.status == LOCAL_DEFER)
            deliver_defer(req, i, RELAY, c.dsn, "%s", buf_str(&c.fail_text));
        else if (!c.delivered)
            deliver_bounce(req, i, RELAY, "5.3.0", "alias expanded to no destination");
        else {
            deliver_sent(req, i, RELAY, "2.0.0", "%s", buf_str(&c.ok_text));
            if (c.nfwd)
                deliver_set_action(req, i, c.nfwd > 1 ? "expanded" : "relayed");
        }
        for (size_t k = 0; k < c.nfwd; k++)
            free(c.fwd[k]);
        free(c.fwd);
        for (size_t k = 0; k < c.nseen; k++)
            free(c.seen[k]);
        free(c.seen);
        free(c.fwd_sender);
        free(c.delivered_to);
        free(original);
        buf_free(&c.fail_text);
        buf_free(&c.ok_text);
        local_rcpt_free(&c.rcpt);
    }
}

/* Open the alias tables once per process. */
static void local_post_jail(const struct config *cfg)
{
    local_aliases_open(cfg);
}

int main(int argc, char **argv)
{
    static const struct deliver_agent agent = {
        .program = "local",
        .post_jail = local_post_jail,
        .deliver = local_deliver,
    };

    deliver_agent_main(argc, argv, &agent);
}
