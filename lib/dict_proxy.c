/*
 * dict_proxy - proxy:TYPE:NAME tables: lookups done by lookupd.
 *
 * Chrooted services cannot read files outside their jail or reach an
 * LDAP server's certificates; lookupd (an unchrooted access daemon) does
 * the lookup for them (proxy_proto.h). The connection is made at the
 * first lookup, kept, and made again once if lookupd went away (it
 * retires now and then); when it cannot be reached the lookup is a
 * temporary failure, never "not found".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dict.h"
#include "ipc_frame.h"
#include "log.h"
#include "mem.h"
#include "proxy_proto.h"

#define PROXY_TIMEOUT 20    /* seconds for one request and its reply */

struct proxy_dict {
    struct dict d;
    char *table;            /* TYPE:NAME */
    char *path;             /* absolute socket path */
    int fd;
};

/* Connect to lookupd: the absolute path, or relative to a chroot (the queue). */
static int proxy_connect(struct proxy_dict *p, struct buf *why)
{
    const char *paths[2] = {p->path, PROXY_SOCKET};
    struct sockaddr_un sun;
    int saved = 0;

    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(paths[i]) >= sizeof(sun.sun_path)) {
            saved = fd < 0 ? errno : ENAMETOOLONG;
            if (fd >= 0)
                close(fd);
            continue;
        }
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        strcpy(sun.sun_path, paths[i]);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            p->fd = fd;
            return 0;
        }
        if (i == 0)
            saved = errno;
        close(fd);
    }
    buf_printf(why, "%s: cannot connect to %s: %s", p->d.spec, p->path, strerror(saved));
    return -1;
}

static void proxy_disconnect(struct proxy_dict *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

/* One request and its reply on the current connection; -1 on I/O trouble. */
static int proxy_ask(struct proxy_dict *p, const char *key, struct ipc_record *reply)
{
    struct ipc_record req;
    int rc;

    ipc_record_init(&req);
    ipc_add_str(&req, "request", PROXY_REQ_LOOKUP);
    ipc_add_str(&req, "table", p->table);
    ipc_add_long(&req, "flags", p->d.flags & DICT_FLAG_FOLD);
    ipc_add_str(&req, "key", key);
    rc = ipc_write_frame(p->fd, &req, PROXY_TIMEOUT);
    if (rc == 0)
        rc = ipc_read_frame(p->fd, reply, PROXY_TIMEOUT);
    ipc_record_free(&req);
    return rc;
}

static int proxy_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    struct proxy_dict *p = (struct proxy_dict *)d;
    struct ipc_record reply;
    const char *status, *text;
    int rc = DICT_TEMPFAIL;

    ipc_record_init(&reply);
    /* A kept connection may have been closed by a retiring lookupd: try twice. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (p->fd < 0 && proxy_connect(p, why) < 0)
            break;
        if (proxy_ask(p, key, &reply) == 0)
            goto answered;
        proxy_disconnect(p);
        if (attempt == 1)
            buf_printf(why, "%s: lookupd: %s", d->spec, strerror(errno));
    }
    ipc_record_free(&reply);
    return DICT_TEMPFAIL;

answered:
    status = ipc_get_str(&reply, "status");
    if (status && strcmp(status, PROXY_STAT_FOUND) == 0
        && (text = ipc_get_str(&reply, "value")) != NULL) {
        buf_set(value, text);
        rc = DICT_FOUND;
    } else if (status && strcmp(status, PROXY_STAT_NOTFOUND) == 0) {
        rc = DICT_NOTFOUND;
    } else {
        text = ipc_get_str(&reply, "reason");
        buf_printf(why, "%s: %s", d->spec, text ? text : "malformed reply from lookupd");
    }
    ipc_record_free(&reply);
    return rc;
}

static void proxy_close(struct dict *d)
{
    struct proxy_dict *p = (struct proxy_dict *)d;

    proxy_disconnect(p);
    free(p->table);
    free(p->path);
    dict_free_common(d);
}

static struct dict *proxy_open(const char *name, int flags, const struct config *cfg,
                               struct buf *err)
{
    struct proxy_dict *p;
    struct buf path = BUF_INIT, spec = BUF_INIT;
    const char *colon = strchr(name, ':');

    if (colon == NULL || colon == name || colon[1] == 0) {
        buf_printf(err, "proxy:%s: want proxy:TYPE:NAME", name);
        return NULL;
    }
    if (strncmp(name, "proxy:", 6) == 0) {
        buf_printf(err, "proxy:%s: a proxy table cannot name another proxy table", name);
        return NULL;
    }
    if (cfg == NULL) {
        buf_printf(err, "proxy:%s: needs main.cf to find lookupd", name);
        return NULL;
    }
    buf_printf(&spec, "proxy:%s", name);
    p = (struct proxy_dict *)dict_alloc(sizeof(*p), NULL, buf_str(&spec), flags);
    p->table = xstrdup(name);
    buf_printf(&path, "%s/%s", config_str(cfg, "queue_directory"), PROXY_SOCKET);
    p->path = buf_steal(&path);
    p->fd = -1;
    buf_free(&spec);
    return &p->d;
}

const struct dict_ops dict_proxy_ops = {
    .type = "proxy",
    .caps = 0,
    .open = proxy_open,
    .lookup = proxy_lookup,
    .close = proxy_close,
};
