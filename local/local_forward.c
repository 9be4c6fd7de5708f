/*
 * local_forward - re-queue the addresses an alias or .forward expanded
 * to, as Postfix's local(8) forwards mail: one new queue file in
 * incoming/ made by the cleanup module (so the addresses are qualified,
 * canonicalised and virtual-aliased like any new mail), with the
 * original content, "Delivered-To: RECIPIENT" on top (loop detection;
 * per prepend_delivered_header "forward"), the sender owner-ALIAS or the
 * original sender, and the recipient's NOTIFY and ORCPT (the original
 * recipient, so that the new deliveries log orig_to= as Postfix does).
 * The file is written as mail_owner (eugid.h), who owns the queue. Once the file is durable
 * qmgr is woken and the recipient is "forwarded as NEWID".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "eugid.h"
#include "local.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "trigger.h"

#define INCOMING_DIR    "incoming"
#define HASH_DEPTH      0

static struct cleanup *cleanup;

void local_forward_add(struct local_ctx *c, const char *addr)
{
    struct buf full = BUF_INIT;

    /*
     * An unqualified name in an alias or .forward is a user of this local
     * domain: qualify it with the recipient's domain (which is local),
     * not $myorigin (which may be a virtual or remote domain).
     */
    if (strchr(addr, '@') == NULL && *c->rcpt.domain) {
        buf_printf(&full, "%s@%s", addr, c->rcpt.domain);
        addr = buf_str(&full);
    }
    for (size_t k = 0; k < c->nfwd; k++)
        if (strcasecmp(c->fwd[k], addr) == 0) {
            buf_free(&full);
            return;
        }
    if (c->nfwd >= LOCAL_MAX_FORWARD) {
        local_note(c, LOCAL_BOUNCE, "5.3.0", "alias expansion has more than %d addresses",
                   LOCAL_MAX_FORWARD);
        buf_free(&full);
        return;
    }
    c->fwd = xreallocarray(c->fwd, c->nfwd + 1, sizeof(*c->fwd));
    c->fwd[c->nfwd++] = xstrdup(addr);
    buf_free(&full);
}

struct feed {
    struct cleanup_msg *m;
    struct cleanup_status st;
    int at_line_start;
};

/* Content chunk -> cleanup lines (LF-terminated lines, pieces of lines). */
static int feed_chunk(const void *data, size_t len, void *ctx)
{
    struct feed *f = ctx;
    const char *p = data;

    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t n = nl ? (size_t)(nl - p) : len;

        f->st = cleanup_content(f->m, p, n, nl != NULL);
        if (f->st.result != CLEANUP_OK)
            return 1;
        f->at_line_start = nl != NULL;
        p += n + (nl != NULL);
        len -= n + (nl != NULL);
    }
    return 0;
}

/* Write the new message; 0 with its ID, or -1 (noted). */
static int forward_queue(struct local_ctx *c, char *id, size_t idlen)
{
    struct buf err = BUF_INIT, why = BUF_INIT, orcpt = BUF_INIT;
    struct queue_file_writer *w;
    struct cleanup_envelope env;
    struct feed f;
    const struct delivery_rcpt *r = &c->req->rcpt[c->i];
    int rc;

    if (cleanup == NULL && (cleanup = cleanup_open(c->cfg, &err)) == NULL) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot forward: %s", buf_str(&err));
        buf_free(&err);
        return -1;
    }
    if ((w = queue_file_create(INCOMING_DIR, &err)) == NULL) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot create a queue file: %s", buf_str(&err));
        buf_free(&err);
        return -1;
    }
    snprintf(id, idlen, "%s", queue_file_writer_id(w));
    memset(&env, 0, sizeof(env));
    env.sender = c->fwd_sender ? c->fwd_sender : c->req->sender;
    env.protocol = "LOCAL";
    env.envid = c->req->env->envid;
    env.ret = c->req->env->ret;
    memset(&f, 0, sizeof(f));
    f.at_line_start = 1;
    if ((f.m = cleanup_begin(cleanup, w, &env, &f.st)) == NULL)
        goto failed;
    /* The new recipients keep the original recipient as ORCPT (orig_to=). */
    if (r->orcpt && *r->orcpt)
        buf_set(&orcpt, r->orcpt);
    else
        buf_printf(&orcpt, "rfc822;%s", r->address);
    for (size_t k = 0; k < c->nfwd; k++) {
        f.st = cleanup_rcpt(f.m, c->fwd[k], buf_str(&orcpt), r->notify);
        if (f.st.result != CLEANUP_OK)
            goto failed;
    }
    if (local_param_has(c->cfg, "prepend_delivered_header", "forward")) {
        struct buf hdr = BUF_INIT;

        buf_printf(&hdr, "Delivered-To: %s", c->delivered_to);
        f.st = cleanup_content(f.m, hdr.data, hdr.len, 1);
        buf_free(&hdr);
        if (f.st.result != CLEANUP_OK)
            goto failed;
    }
    queue_file_content_rewind(c->req->qf);
    rc = queue_file_content_foreach(c->req->qf, feed_chunk, &f, &why);
    if (rc < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot read the queue file: %s", buf_str(&why));
        goto abandon;
    }
    if (rc > 0)
        goto failed;
    if (!f.at_line_start) {
        f.st = cleanup_content(f.m, "", 0, 1);
        if (f.st.result != CLEANUP_OK)
            goto failed;
    }
    f.st = cleanup_finish(f.m);
    if (f.st.result != CLEANUP_OK)
        goto failed;
    cleanup_free(f.m);
    if (queue_file_commit(w, INCOMING_DIR, HASH_DEPTH, &err) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot queue the forwarded message: %s",
                   buf_str(&err));
        buf_free(&err);
        buf_free(&why);
        buf_free(&orcpt);
        return -1;
    }
    buf_free(&err);
    buf_free(&why);
    buf_free(&orcpt);
    return 0;

failed:
    local_note(c, f.st.result == CLEANUP_REJECT ? LOCAL_BOUNCE : LOCAL_DEFER,
               f.st.enh[0] ? f.st.enh : "4.3.0", "cannot forward: %s", f.st.text);
abandon:
    if (f.m)
        cleanup_free(f.m);
    queue_file_abort(w);
    buf_free(&err);
    buf_free(&why);
    buf_free(&orcpt);
    return -1;
}

void local_forward_flush(struct local_ctx *c)
{
    char id[QUEUE_ID_SIZE];
    struct local_user owner;
    struct buf why = BUF_INIT;
    const char *name = config_str(c->cfg, "mail_owner");
    int rc;

    if (c->nfwd == 0)
        return;
    /* A temporary failure elsewhere: forward on the retry, not twice. */
    if (c->status == LOCAL_DEFER)
        return;
    /* The new queue file must belong to mail_owner, as qmgr runs as it. */
    rc = eugid_privileged() ? local_user_byname(name, &owner, &why)
        : local_user_byuid(getuid(), &owner, &why);
    if (rc <= 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot forward: %s",
                   rc < 0 ? buf_str(&why) : "mail_owner does not exist");
        buf_free(&why);
        return;
    }
    buf_free(&why);
    if (eugid_set(owner.uid, owner.gid) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot forward: cannot switch to %s: %s",
                   owner.name, strerror(errno));
        local_user_free(&owner);
        return;
    }
    rc = forward_queue(c, id, sizeof(id));
    eugid_restore();
    local_user_free(&owner);
    if (rc < 0)
        return;
    trigger_qmgr();
    local_note(c, LOCAL_OK, "2.0.0", "forwarded as %s", id);
}
