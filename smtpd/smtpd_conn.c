/*
 * smtpd_conn - the connection object. Every byte smtpd reads from or
 * writes to a client goes through here: a bounded input buffer, a bounded
 * output buffer, non-blocking reads and writes driven by libevent, and the
 * smtpd_timeout on every wait. The raw I/O is two small functions
 * (conn_recv/conn_send), the place where STARTTLS will put OpenSSL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "mem.h"
#include "smtpd.h"

struct smtpd_conn {
    int fd;
    struct event *rev;
    struct event *wev;
    struct timeval tv;
    char *in;
    size_t in_len;
    size_t in_cap;
    struct buf out;
    size_t out_off;             /* written part of out */
    struct smtpd_conn_cb cb;
    /* I/O hooks: plain sockets now, TLS later. */
    ssize_t (*recv)(struct smtpd_conn *c, void *data, size_t len);
    ssize_t (*send)(struct smtpd_conn *c, const void *data, size_t len);
};

static ssize_t conn_recv(struct smtpd_conn *c, void *data, size_t len)
{
    return read(c->fd, data, len);
}

static ssize_t conn_send(struct smtpd_conn *c, const void *data, size_t len)
{
    return send(c->fd, data, len, MSG_NOSIGNAL);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_conn *c = arg;

    if (what & EV_TIMEOUT)
        c->cb.timeout(c->cb.arg, 0);
    else
        c->cb.readable(c->cb.arg);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_conn *c = arg;
    int rc;

    if (what & EV_TIMEOUT) {
        c->cb.timeout(c->cb.arg, 1);
        return;
    }
    rc = smtpd_conn_flush(c);
    if (rc == 0 || rc < 0)
        c->cb.drained(c->cb.arg);
}

struct smtpd_conn *smtpd_conn_new(struct event_base *base, int fd, size_t in_cap,
                                  size_t out_limit, long timeout,
                                  const struct smtpd_conn_cb *cb)
{
    struct smtpd_conn *c = xcalloc(1, sizeof(*c));

    c->fd = fd;
    c->in_cap = in_cap;
    c->in = xmalloc(in_cap);
    buf_init(&c->out, out_limit);
    c->cb = *cb;
    c->tv.tv_sec = timeout;
    c->tv.tv_usec = 0;
    c->recv = conn_recv;
    c->send = conn_send;
    c->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    if (c->rev == NULL || c->wev == NULL)
        msg_fatal("event_new: out of memory");
    return c;
}

void smtpd_conn_free(struct smtpd_conn *c)
{
    if (c == NULL)
        return;
    event_free(c->rev);
    event_free(c->wev);
    close(c->fd);
    free(c->in);
    buf_free(&c->out);
    free(c);
}

int smtpd_conn_fd(const struct smtpd_conn *c)
{
    return c->fd;
}

ssize_t smtpd_conn_fill(struct smtpd_conn *c)
{
    ssize_t n;

    if (c->in_len >= c->in_cap)
        return -2;
    n = c->recv(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -2 : -1;
    c->in_len += (size_t)n;
    return n;
}

const char *smtpd_conn_in(const struct smtpd_conn *c, size_t *len)
{
    *len = c->in_len;
    return c->in;
}

void smtpd_conn_consume(struct smtpd_conn *c, size_t n)
{
    if (n >= c->in_len) {
        c->in_len = 0;
        return;
    }
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

size_t smtpd_conn_in_space(const struct smtpd_conn *c)
{
    return c->in_cap - c->in_len;
}

int smtpd_conn_put(struct smtpd_conn *c, const char *data, size_t len)
{
    if (c->out_off > 0 && c->out_off == c->out.len) {
        buf_reset(&c->out);
        c->out_off = 0;
    }
    return buf_append(&c->out, data, len);
}

size_t smtpd_conn_out_pending(const struct smtpd_conn *c)
{
    return c->out.len - c->out_off;
}

int smtpd_conn_flush(struct smtpd_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = c->send(c, c->out.data + c->out_off, c->out.len - c->out_off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!event_pending(c->wev, EV_WRITE, NULL))
                    event_add(c->wev, &c->tv);
                return 1;
            }
            event_del(c->wev);
            buf_reset(&c->out);
            c->out_off = 0;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    buf_reset(&c->out);
    c->out_off = 0;
    event_del(c->wev);
    return 0;
}

void smtpd_conn_want_read(struct smtpd_conn *c, int on)
{
    if (on) {
        if (!event_pending(c->rev, EV_READ, NULL))
            event_add(c->rev, &c->tv);
    } else {
        event_del(c->rev);
    }
}
