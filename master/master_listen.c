/*
 * master_listen - create the listening sockets of a service.
 *
 * unix services listen on queue_directory/private/NAME or public/NAME
 * (socket mode 0666; the directory's mode is the access control). inet
 * services listen on "port", "host:port" or "[addr]:port"; without a host
 * they listen on every address in inet_interfaces ("all", "loopback-only"
 * or a list of addresses) for the families in inet_protocols.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "mem.h"

#define LISTEN_BACKLOG 128

/* Split an inet service name into host (or NULL) and port text. */
static void split_inet(const char *name, struct buf *host, struct buf *port)
{
    const char *colon;

    buf_reset(host);
    buf_reset(port);
    if (name[0] == '[' && (colon = strstr(name, "]:")) != NULL) {
        buf_append(host, name + 1, (size_t)(colon - name - 1));
        buf_puts(port, colon + 2);
    } else if ((colon = strrchr(name, ':')) != NULL) {
        buf_append(host, name, (size_t)(colon - name));
        buf_puts(port, colon + 1);
    } else {
        buf_puts(port, name);
    }
}

/* Which address families inet_protocols allows. */
static void protocols(const struct config *cfg, int *v4, int *v6)
{
    char *const *p = config_list(cfg, "inet_protocols");

    *v4 = *v6 = 0;
    for (; *p; p++) {
        if (strcasecmp(*p, "all") == 0)
            *v4 = *v6 = 1;
        else if (strcasecmp(*p, "ipv4") == 0)
            *v4 = 1;
        else if (strcasecmp(*p, "ipv6") == 0)
            *v6 = 1;
    }
}

/* The hosts to bind for an inet service with no host part. */
static void interface_hosts(const struct config *cfg, struct buf *hosts)
{
    char *const *p = config_list(cfg, "inet_interfaces");
    int v4, v6;

    protocols(cfg, &v4, &v6);
    for (; *p; p++) {
        if (strcasecmp(*p, "all") == 0) {
            if (v4) buf_puts(hosts, "0.0.0.0 ");
            if (v6) buf_puts(hosts, ":: ");
        } else if (strcasecmp(*p, "loopback-only") == 0) {
            if (v4) buf_puts(hosts, "127.0.0.1 ");
            if (v6) buf_puts(hosts, "::1 ");
        } else {
            buf_printf(hosts, "%s ", *p);
        }
    }
}

/* Resolve host/port to a list of socket addresses; NULL with err. */
static struct addrinfo *resolve(const char *host, const char *port,
                                const struct config *cfg, struct buf *err)
{
    struct addrinfo hints, *res = NULL;
    int v4, v6, rc;

    protocols(cfg, &v4, &v6);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = v4 && v6 ? AF_UNSPEC : v4 ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        buf_printf(err, "cannot resolve %s port %s: %s", host, port, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* Port text as a number: digits, or a name from /etc/services. */
static int port_number(const char *text, struct buf *out)
{
    struct servent *se;
    char *end;
    long n = strtol(text, &end, 10);

    if (*text && *end == 0 && n > 0 && n < 65536) {
        buf_printf(out, "%ld", n);
        return 0;
    }
    if ((se = getservbyname(text, "tcp")) == NULL)
        return -1;
    buf_printf(out, "%d", ntohs((unsigned short)se->s_port));
    return 0;
}

/* Walk every address an inet service should listen on. */
static int inet_addresses(const struct service_def *def, const struct config *cfg,
                          struct addrinfo **list, struct buf *err)
{
    struct buf host = BUF_INIT, port = BUF_INIT, portnum = BUF_INIT, hosts = BUF_INIT;
    struct addrinfo **tail = list;
    char *save = NULL, *h;
    int ret = 0;

    *list = NULL;
    split_inet(def->name, &host, &port);
    if (port_number(buf_str(&port), &portnum) < 0) {
        buf_printf(err, "unknown port: %s", buf_str(&port));
        ret = -1;
        goto out;
    }
    if (host.len > 0 && strcmp(buf_str(&host), "*") != 0)
        buf_puts(&hosts, buf_str(&host));
    else
        interface_hosts(cfg, &hosts);
    for (h = strtok_r(hosts.data, " ", &save); h; h = strtok_r(NULL, " ", &save)) {
        struct addrinfo *res = resolve(h, buf_str(&portnum), cfg, err);

        if (res == NULL) {
            if (*list)
                freeaddrinfo(*list);
            *list = NULL;
            ret = -1;
            break;
        }
        *tail = res;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
out:
    buf_free(&host);
    buf_free(&port);
    buf_free(&portnum);
    buf_free(&hosts);
    return ret;
}

static int add_fd(struct master_service *serv, int fd, struct buf *err)
{
    if (serv->listen_count >= MASTER_MAX_LISTEN_FDS) {
        buf_printf(err, "more than %d addresses to listen on", MASTER_MAX_LISTEN_FDS);
        close(fd);
        return -1;
    }
    serv->listen_fds = xreallocarray(serv->listen_fds, (size_t)serv->listen_count + 1,
                                     sizeof(int));
    serv->listen_fds[serv->listen_count++] = fd;
    return 0;
}

static int open_inet(struct master_service *serv, struct buf *err)
{
    struct addrinfo *list, *ai;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    int fd, on = 1;

    if (inet_addresses(&serv->def, master.cfg, &list, err) < 0)
        return -1;
    for (ai = list; ai; ai = ai->ai_next) {
        getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == EAFNOSUPPORT) {
                msg_warn("%s: no support for %s addresses; skipping", serv->def.name, host);
                continue;
            }
            buf_printf(err, "socket for %s: %s", host, strerror(errno));
            goto fail;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
            if (errno == EADDRNOTAVAIL && ai->ai_family == AF_INET6) {
                msg_warn("%s: cannot listen on [%s]:%s: %s; skipping",
                         serv->def.name, host, port, strerror(errno));
                close(fd);
                continue;
            }
            buf_printf(err, "bind %s port %s: %s", host, port, strerror(errno));
            close(fd);
            goto fail;
        }
        if (add_fd(serv, fd, err) < 0)
            goto fail;
    }
    freeaddrinfo(list);
    if (serv->listen_count == 0) {
        buf_printf(err, "%s: no address to listen on", serv->def.name);
        return -1;
    }
    return 0;
fail:
    freeaddrinfo(list);
    master_listen_close(serv);
    return -1;
}

/* queue_directory/private/NAME or public/NAME. */
static void unix_path(const struct service_def *def, const struct config *cfg,
                      struct buf *path)
{
    buf_printf(path, "%s/%s/%s", config_str(cfg, "queue_directory"),
               def->private_ ? "private" : "public", def->name);
}

static int open_unix(struct master_service *serv, struct buf *err)
{
    struct buf path = BUF_INIT;
    struct sockaddr_un sun;
    mode_t old_mask;
    int fd = -1, rc;

    unix_path(&serv->def, master.cfg, &path);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path.len >= sizeof(sun.sun_path)) {
        buf_printf(err, "socket path too long (%zu bytes, at most %zu): %s",
                   path.len, sizeof(sun.sun_path) - 1, buf_str(&path));
        goto fail;
    }
    memcpy(sun.sun_path, path.data, path.len);
    if (unlink(buf_str(&path)) < 0 && errno != ENOENT) {
        buf_printf(err, "remove old socket %s: %s", buf_str(&path), strerror(errno));
        goto fail;
    }
    /*
     * The socket is born 0666 (umask), never chmod()ed by name: private/
     * belongs to mail_owner, and root must not follow whatever a service
     * might put in its place. lchown() does not follow a symlink either.
     */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        buf_printf(err, "socket: %s", strerror(errno));
        goto fail;
    }
    old_mask = umask(0111);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old_mask);
    if (rc < 0
        || (master.own.privileged
            && lchown(buf_str(&path), master.own.mail_uid,
                      serv->def.private_ ? master.own.mail_gid : master.own.setgid_gid) < 0)
        || listen(fd, LISTEN_BACKLOG) < 0) {
        buf_printf(err, "listen on %s: %s", buf_str(&path), strerror(errno));
        goto fail;
    }
    buf_free(&path);
    return add_fd(serv, fd, err);
fail:
    if (fd >= 0)
        close(fd);
    buf_free(&path);
    return -1;
}

int master_listen_open(struct master_service *serv, struct buf *err)
{
    return serv->def.type == SERVICE_INET ? open_inet(serv, err) : open_unix(serv, err);
}

void master_listen_close(struct master_service *serv)
{
    for (int i = 0; i < serv->listen_count; i++)
        close(serv->listen_fds[i]);
    free(serv->listen_fds);
    serv->listen_fds = NULL;
    serv->listen_count = 0;
}

char *master_listen_signature(const struct service_def *def, const struct config *cfg)
{
    struct buf sig = BUF_INIT, err = BUF_INIT;
    struct addrinfo *list, *ai;
    char host[NI_MAXHOST], port[NI_MAXSERV];

    if (def->type == SERVICE_UNIX) {
        buf_puts(&sig, "unix:");
        unix_path(def, cfg, &sig);
    } else if (inet_addresses(def, cfg, &list, &err) < 0) {
        buf_printf(&sig, "inet-unresolved:%s", def->name);
    } else {
        buf_puts(&sig, "inet:");
        for (ai = list; ai; ai = ai->ai_next) {
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), port,
                        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
            buf_printf(&sig, "[%s]:%s ", host, port);
        }
        freeaddrinfo(list);
    }
    buf_free(&err);
    return buf_steal(&sig);
}
