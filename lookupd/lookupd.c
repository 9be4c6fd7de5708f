/*
 * lookupd - the table lookup access daemon (Postfix's proxymap).
 *
 * Chrooted services name a table proxy:TYPE:NAME; their lookups arrive
 * here (lib/proxy_proto.h) and are done with the same dict API, outside
 * the chroot. Only tables listed in proxy_read_maps are served. Opened
 * tables are kept for the life of the process, so an LDAP connection is
 * reused across clients. One event loop serves every client; a request
 * is at most one IPC frame, so a client cannot make lookupd buffer more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "dict.h"
#include "events.h"
#include "ipc_frame.h"
#include "log.h"
#include "mem.h"
#include "proxy_proto.h"

#define REPLY_TIMEOUT 10    /* seconds to write one reply */

struct open_table {
    char *spec;
    int flags;
    struct dict *dict;
    struct open_table *next;
};

struct client {
    int fd;
    struct ev_watch *watch;
    struct buf in;
};

static const struct config *cfg;
static struct open_table *tables;

/* Is TYPE:NAME in proxy_read_maps (written with or without "proxy:")? */
static int allowed(const char *table)
{
    for (char *const *p = config_list(cfg, "proxy_read_maps"); *p; p++) {
        const char *item = strncmp(*p, "proxy:", 6) == 0 ? *p + 6 : *p;

        if (strcmp(item, table) == 0)
            return 1;
    }
    return 0;
}

/* The open table for spec and flags, opening it on first use. */
static struct dict *table_for(const char *spec, int flags, struct buf *why)
{
    struct open_table *t;
    struct dict *d;

    for (t = tables; t; t = t->next)
        if (t->flags == flags && strcmp(t->spec, spec) == 0)
            return t->dict;
    if ((d = dict_open(spec, flags, cfg, why)) == NULL)
        return NULL;
    t = xcalloc(1, sizeof(*t));
    t->spec = xstrdup(spec);
    t->flags = flags;
    t->dict = d;
    t->next = tables;
    tables = t;
    return d;
}

/* Answer one request record into reply. */
static void answer(const struct ipc_record *req, struct ipc_record *reply)
{
    const char *request = ipc_get_str(req, "request");
    const char *table = ipc_get_str(req, "table");
    const char *key = ipc_get_str(req, "key");
    struct buf value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    long flags = 0;
    int rc;

    if (request == NULL || strcmp(request, PROXY_REQ_LOOKUP) != 0 || table == NULL
        || key == NULL) {
        buf_set(&why, "malformed request");
    } else if (ipc_get_long(req, "flags", &flags) == 0 && (flags & ~DICT_FLAG_FOLD)) {
        buf_set(&why, "unsupported request flags");
    } else if (strncmp(table, "proxy:", 6) == 0 || !allowed(table)) {
        buf_printf(&why, "table %s is not in proxy_read_maps", table);
        msg_warn("request for table %s refused: not in proxy_read_maps", table);
    } else if ((d = table_for(table, (int)flags, &why)) != NULL) {
        rc = dict_lookup(d, key, &value, &why);
        if (rc == DICT_FOUND) {
            ipc_add_str(reply, "status", PROXY_STAT_FOUND);
            ipc_add_str(reply, "value", buf_str(&value));
        } else if (rc == DICT_NOTFOUND) {
            ipc_add_str(reply, "status", PROXY_STAT_NOTFOUND);
        }
        if (rc != DICT_TEMPFAIL)
            goto out;
        msg_warn("%s: lookup of %s: %s", table, key, buf_str(&why));
    } else {
        msg_warn("%s", buf_str(&why));
    }
    ipc_add_str(reply, "status", PROXY_STAT_TEMPFAIL);
    ipc_add_str(reply, "reason", buf_str(&why));
out:
    buf_free(&value);
    buf_free(&why);
}

static void client_close(struct client *c)
{
    ev_cancel(c->watch);
    close(c->fd);
    buf_free(&c->in);
    free(c);
    daemon_session_end();
}

/* Read what arrived; answer every whole request in it. */
static void client_read(int fd, void *arg)
{
    struct client *c = arg;
    struct ipc_record req, reply;
    char data[8192];
    size_t used;
    const char *why;
    ssize_t n = read(fd, data, sizeof(data));

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || buf_append(&c->in, data, (size_t)n) < 0) {
        if (n > 0)
            msg_warn("client sent more than one frame can hold; disconnecting");
        client_close(c);
        return;
    }
    ipc_record_init(&req);
    ipc_record_init(&reply);
    for (;;) {
        enum ipc_decode_result r = ipc_decode(c->in.data, c->in.len, &req, &used, &why);

        if (r == IPC_NEED_MORE)
            break;
        if (r == IPC_ERROR) {
            msg_warn("malformed request from client: %s; disconnecting", why);
            goto drop;
        }
        ipc_record_reset(&reply);
        answer(&req, &reply);
        if (ipc_write_frame(c->fd, &reply, REPLY_TIMEOUT) < 0) {
            msg_warn("cannot reply to client: %s", strerror(errno));
            goto drop;
        }
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        buf_truncate(&c->in, c->in.len - used);
    }
    ipc_record_free(&req);
    ipc_record_free(&reply);
    return;
drop:
    ipc_record_free(&req);
    ipc_record_free(&reply);
    client_close(c);
}

static void on_connection(int fd, const struct config *config, struct evloop *loop)
{
    struct client *c = xcalloc(1, sizeof(*c));

    c->fd = fd;
    buf_init(&c->in, IPC_MAX_FRAME + 8192);     /* one frame plus one read */
    daemon_session_begin();
    c->watch = ev_read(loop, fd, client_read, c);
}

static void post_jail(const struct config *config, struct evloop *loop)
{
    cfg = config;
}

int main(int argc, char **argv)
{
    static const struct daemon_service svc = {
        .program = "lookupd",
        .post_jail = post_jail,
        .on_connection = on_connection,
    };

    daemon_main(argc, argv, &svc);
}
