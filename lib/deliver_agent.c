/*
 * deliver_agent - the delivery agent skeleton (deliver_agent.h): read one
 * deliver_proto.h request per connection, open the queue file, hand the
 * requested recipients to the agent, give every recipient left without a
 * result a deferral, and send the reply. The results themselves and their
 * log lines are in deliver_result.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "deliver_agent.h"
#include "deliver_proto.h"
#include "ipc_frame.h"
#include "log.h"
#include "mem.h"
#include "queue_id.h"

#define MAX_QUEUE_NAME  32      /* "active", "deferred", ... */

/* One requested recipient: where its offset led. */
struct rcpt_slot {
    uint64_t offset;
    long index;                 /* in req->rcpt, or -1: bad recipient offset */
};

/* Everything one request holds, freed by request_free(). */
struct request_state {
    struct delivery_request req;
    struct ipc_record in;
    struct rcpt_slot *slot;     /* request order */
    size_t nslot;
    char path[MAX_QUEUE_NAME + QUEUE_ID_SIZE + 2];
};

static const struct deliver_agent *the_agent;   /* for the daemon callbacks */

/* A microsecond time stamp attribute as a timeval; -1 when bad. */
static int get_usec(const struct ipc_record *rec, const char *name, struct timeval *tv)
{
    long usec;

    if (ipc_get_long(rec, name, &usec) < 0 || usec < 0)
        return -1;
    tv->tv_sec = (time_t)(usec / 1000000);
    tv->tv_usec = (suseconds_t)(usec % 1000000);
    return 0;
}

/* Is s a plausible queue name (lower-case letters only, no path)? */
static int queue_name_ok(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (s[n] < 'a' || s[n] > 'z')
            return 0;
    return n > 0 && n <= MAX_QUEUE_NAME;
}

/* Check the request's attributes and fill st; NULL or the problem. */
static const char *parse_request(struct request_state *st)
{
    const struct ipc_record *in = &st->in;
    struct delivery_request *req = &st->req;
    const char *word = ipc_get_str(in, "request");
    long count;

    if (word == NULL || strcmp(word, DELIVER_REQ_DELIVER) != 0)
        return "unknown request";
    if ((req->queue_id = ipc_get_str(in, "queue_id")) == NULL
        || !queue_id_valid(req->queue_id))
        return "bad queue_id";
    if ((req->queue_name = ipc_get_str(in, "queue_name")) == NULL
        || !queue_name_ok(req->queue_name))
        return "bad queue_name";
    if ((req->nexthop = ipc_get_str(in, "nexthop")) == NULL
        || strlen(req->nexthop) > QF_MAX_ADDR)
        return "bad nexthop";
    if ((req->sender = ipc_get_str(in, "sender")) == NULL
        || strlen(req->sender) > QF_MAX_ADDR)
        return "bad sender";
    if (get_usec(in, "arrival", &req->arrival) < 0
        || get_usec(in, "active", &req->active) < 0
        || get_usec(in, "dispatch", &req->dispatch) < 0)
        return "bad time stamp";
    if (ipc_get_long(in, "rcpt_count", &count) < 0 || count < 1 || count > DELIVER_MAX_RCPT)
        return "bad rcpt_count";
    st->nslot = (size_t)count;
    st->slot = xcalloc(st->nslot, sizeof(*st->slot));
    for (size_t i = 0; i < st->nslot; i++) {
        char name[32];
        long off;

        snprintf(name, sizeof(name), "rcpt_%zu", i);
        if (ipc_get_long(in, name, &off) < 0 || off < 0)
            return "bad or missing recipient offset";
        st->slot[i].offset = (uint64_t)off;
        st->slot[i].index = -1;
    }
    snprintf(st->path, sizeof(st->path), "%s/%s", req->queue_name, req->queue_id);
    req->path = st->path;
    return NULL;
}

/*
 * Find each requested offset among the queue file's recipients and fill
 * req->rcpt (request order, valid ones only). -1 with why on a read error.
 */
static int map_recipients(struct request_state *st, struct buf *why)
{
    struct delivery_request *req = &st->req;
    struct qf_rcpt r;
    int rc;

    req->rcpt = xcalloc(st->nslot, sizeof(*req->rcpt));
    queue_file_rcpt_rewind(req->qf);
    while ((rc = queue_file_rcpt_next(req->qf, &r, why)) == 1) {
        if (r.done)
            continue;
        /* The first mention of an offset counts; a repeat is a bad offset. */
        for (size_t i = 0; i < st->nslot; i++) {
            struct delivery_rcpt *d = &req->rcpt[i];

            if (st->slot[i].offset != r.offset)
                continue;
            d->address = xstrdup(r.address);
            d->orcpt = xstrdup(r.orcpt ? r.orcpt : "");
            d->notify = r.notify;
            d->offset = r.offset;
            st->slot[i].index = -2;     /* found; compacted below */
            break;
        }
    }
    if (rc < 0)
        return -1;
    /* Compact the found ones, keeping request order. */
    for (size_t i = 0; i < st->nslot; i++) {
        if (st->slot[i].index == -2) {
            if (req->nrcpt != i)
                req->rcpt[req->nrcpt] = req->rcpt[i];
            st->slot[i].index = (long)req->nrcpt++;
        } else {
            st->slot[i].index = -1;
        }
    }
    for (size_t i = req->nrcpt; i < st->nslot; i++)
        memset(&req->rcpt[i], 0, sizeof(req->rcpt[i]));
    return 0;
}

/* Add name_I=value to the reply (value NULL: nothing). */
static void add_indexed(struct ipc_record *out, const char *name, size_t i, const char *value)
{
    char key[IPC_MAX_NAME + 1];

    if (value == NULL)
        return;
    snprintf(key, sizeof(key), "%s_%zu", name, i);
    if (ipc_add_str(out, key, value) < 0)
        msg_panic("deliver reply: cannot add %s", key);
}

/* The reply for a request whose recipients all have results. */
static void build_reply(const struct request_state *st, struct ipc_record *out)
{
    static const char *const word[] = {DELIVER_RES_DEFERRED, DELIVER_RES_SENT,
                                       DELIVER_RES_DEFERRED, DELIVER_RES_BOUNCED};

    ipc_add_str(out, "status", DELIVER_STAT_OK);
    if (st->req.dest_failed)
        ipc_add_str(out, "dest_failed", "1");
    for (size_t i = 0; i < st->nslot; i++) {
        const struct delivery_rcpt *r;

        if (st->slot[i].index < 0) {
            add_indexed(out, "result", i, DELIVER_RES_DEFERRED);
            add_indexed(out, "dsn", i, "4.3.0");
            add_indexed(out, "text", i, "bad recipient offset");
            continue;
        }
        r = &st->req.rcpt[st->slot[i].index];
        add_indexed(out, "result", i, word[r->result]);
        add_indexed(out, "dsn", i, r->dsn);
        add_indexed(out, "text", i, r->text);
        add_indexed(out, "diag", i, r->diag);
        add_indexed(out, "mta", i, r->mta);
        if (r->result == DELIVER_SENT)
            add_indexed(out, "action", i, r->action);
    }
}

/* Release everything a request holds. */
static void request_free(struct request_state *st)
{
    if (st->req.rcpt) {
        for (size_t i = 0; i < st->nslot; i++) {
            free(st->req.rcpt[i].address);
            free(st->req.rcpt[i].orcpt);
            free(st->req.rcpt[i].text);
            free(st->req.rcpt[i].diag);
            free(st->req.rcpt[i].mta);
        }
        free(st->req.rcpt);
    }
    if (st->req.qf)
        queue_file_close(st->req.qf);
    free(st->slot);
    ipc_record_free(&st->in);
}

/* Send "status=fail reason=TEXT". */
static int reply_fail(int fd, const char *reason, int timeout)
{
    struct ipc_record out;
    int rc;

    ipc_record_init(&out);
    ipc_add_str(&out, "status", DELIVER_STAT_FAIL);
    ipc_add(&out, "reason", reason, strnlen(reason, DELIVER_MAX_TEXT));
    rc = ipc_write_frame(fd, &out, timeout);
    if (rc < 0)
        msg_warn("cannot send delivery reply: %s", strerror(errno));
    ipc_record_free(&out);
    return rc;
}

/* Serve one request on fd: read, check, deliver, reply (fd stays open). */
int deliver_agent_serve_fd(int fd, const struct config *cfg,
                           const struct deliver_agent *agent)
{
    struct request_state st;
    struct ipc_record out;
    struct buf why = BUF_INIT;
    int timeout = (int)config_time(cfg, "ipc_timeout");
    const char *bad;
    int corrupt = 0, rc;

    memset(&st, 0, sizeof(st));
    ipc_record_init(&st.in);
    gettimeofday(&st.req.agent_start, NULL);
    st.req.transport = daemon_service_name() ? daemon_service_name() : agent->program;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);

    if (ipc_read_frame(fd, &st.in, timeout) < 0) {
        rc = -1;
        if (errno == EPROTO) {
            msg_warn("malformed delivery request");
            rc = reply_fail(fd, "malformed delivery request", timeout);
        } else {
            msg_warn("cannot read delivery request: %s",
                     errno ? strerror(errno) : "connection closed");
        }
        request_free(&st);
        return rc;
    }
    if ((bad = parse_request(&st)) != NULL) {
        msg_warn("bad delivery request: %s", bad);
        buf_printf(&why, "malformed delivery request: %s", bad);
        rc = reply_fail(fd, buf_str(&why), timeout);
        goto done;
    }
    if (queue_file_open(st.req.path, QF_OPEN_RDONLY, &st.req.qf, &corrupt, &why) < 0) {
        struct buf reason = BUF_INIT;

        st.req.qf = NULL;
        msg_warn("%s: cannot open queue file %s: %s", st.req.queue_id, st.req.path,
                 buf_str(&why));
        buf_printf(&reason, "%s queue file: %s", corrupt ? "corrupt" : "cannot open",
                   buf_str(&why));
        rc = reply_fail(fd, buf_str(&reason), timeout);
        buf_free(&reason);
        goto done;
    }
    st.req.env = queue_file_envelope(st.req.qf);
    if (map_recipients(&st, &why) < 0) {
        msg_warn("%s: cannot read recipients: %s", st.req.queue_id, buf_str(&why));
        rc = reply_fail(fd, "cannot read queue file recipients", timeout);
        goto done;
    }
    for (size_t i = 0; i < st.nslot; i++)
        if (st.slot[i].index < 0)
            msg_warn("%s: bad recipient offset %llu in delivery request",
                     st.req.queue_id, (unsigned long long)st.slot[i].offset);

    if (st.req.nrcpt > 0)
        agent->deliver(&st.req, cfg);
    deliver_defer_rest(&st.req, "none", "4.3.0", "delivery agent gave no result");

    ipc_record_init(&out);
    build_reply(&st, &out);
    rc = ipc_write_frame(fd, &out, timeout);
    if (rc < 0)
        msg_warn("%s: cannot send delivery reply: %s", st.req.queue_id, strerror(errno));
    ipc_record_free(&out);
done:
    request_free(&st);
    buf_free(&why);
    return rc;
}

/* Daemon callback: the agent's pre_jail hook. */
static void agent_pre_jail(const struct config *cfg)
{
    if (the_agent->pre_jail)
        the_agent->pre_jail(cfg);
}

/* Daemon callback: the agent's post_jail hook (it needs no event loop). */
static void agent_post_jail(const struct config *cfg, struct evloop *loop)
{
    (void)loop;
    if (the_agent->post_jail)
        the_agent->post_jail(cfg);
}

/* One connection, one request, served to the end before we return. */
static void agent_connection(int fd, const struct config *cfg, struct evloop *loop)
{
    (void)loop;
    deliver_agent_serve_fd(fd, cfg, the_agent);
    close(fd);
}

/* Run the agent under the daemon skeleton, one connection at a time. */
_Noreturn void deliver_agent_main(int argc, char **argv, const struct deliver_agent *agent)
{
    static struct daemon_service svc;

    the_agent = agent;
    svc.program = agent->program;
    svc.pre_jail = agent_pre_jail;
    svc.post_jail = agent_post_jail;
    svc.on_connection = agent_connection;
    svc.one_at_a_time = 1;
    daemon_main(argc, argv, &svc);
}
