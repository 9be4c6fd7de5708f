/*
 * qmgr_ipc - one request and one reply over a UNIX socket (a delivery
 * agent or the bounce service), driven by the event loop so that qmgr
 * never waits for a peer: non-blocking connect (retried while the
 * listener's backlog is full), buffered write, a reply read with a
 * deadline. The callback always runs from the loop, never from inside
 * qmgr_ipc_call().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "mem.h"
#include "qmgr.h"

#define CONNECT_RETRY   0.05    /* seconds between tries while the backlog is full */

struct ipc_call {
    char *path;
    struct buf out;             /* the encoded request */
    double timeout;
    time_t deadline;
    qmgr_ipc_cb cb;
    void *ctx;
    struct bufferevent *bev;
    int status;
    char *why;
};

/* Hand the outcome to the caller and free the call. */
static void call_done(struct ipc_call *c, int status, const struct ipc_record *reply,
                      const char *why)
{
    if (c->bev)
        bufferevent_free(c->bev);
    c->cb(c->ctx, status, reply, why);
    free(c->path);
    free(c->why);
    buf_free(&c->out);
    free(c);
}

/* Report a result decided before the connection existed (from the loop). */
static void deferred_result(void *arg)
{
    struct ipc_call *c = arg;

    call_done(c, c->status, NULL, c->why);
}

static void fail_later(struct ipc_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_later(struct ipc_call *c, int status, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->status = status;
    c->why = buf_steal(&b);
    buf_free(&b);
    ev_timer(qmgr.loop, 0, deferred_result, c);
}

/* Reply bytes arrived: decode once the frame is whole. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct ipc_call *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in), used;
    struct ipc_record rec;
    const char *why = NULL;
    unsigned char *data;
    enum ipc_decode_result r;

    if (len < IPC_HEADER_SIZE)
        return;
    data = evbuffer_pullup(in, -1);
    ipc_record_init(&rec);
    r = ipc_decode(data, len, &rec, &used, &why);
    if (r == IPC_NEED_MORE) {
        ipc_record_free(&rec);
        return;
    }
    if (r == IPC_OK)
        call_done(c, QMGR_IPC_OK, &rec, NULL);
    else
        call_done(c, QMGR_IPC_FAIL, NULL, why ? why : "malformed reply");
    ipc_record_free(&rec);
}

/* The peer closed, failed or timed out before it replied. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct ipc_call *c = arg;

    if (what & BEV_EVENT_TIMEOUT)
        call_done(c, QMGR_IPC_FAIL, NULL, "timeout while waiting for the reply");
    else if (what & BEV_EVENT_EOF)
        call_done(c, QMGR_IPC_FAIL, NULL, "lost connection before the reply");
    else if (what & BEV_EVENT_ERROR)
        call_done(c, QMGR_IPC_FAIL, NULL, strerror(EVUTIL_SOCKET_ERROR()));
}

/* Try to connect; on success send the request. */
static void try_connect(void *arg)
{
    struct ipc_call *c = arg;
    struct sockaddr_un sun;
    struct timeval tv;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(c->path) >= sizeof(sun.sun_path)) {
        fail_later(c, QMGR_IPC_NOCONNECT, "connect to %s: file name too long", c->path);
        return;
    }
    strcpy(sun.sun_path, c->path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        fail_later(c, QMGR_IPC_NOCONNECT, "socket: %s", strerror(errno));
        return;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS) {
        int err = errno;

        close(fd);
        if ((err == EAGAIN || err == EINTR) && time(NULL) < c->deadline) {
            ev_timer(qmgr.loop, CONNECT_RETRY, try_connect, c);
            return;
        }
        fail_later(c, QMGR_IPC_NOCONNECT, "connect to %s: %s", c->path, strerror(err));
        return;
    }
    c->bev = bufferevent_socket_new(evloop_base(qmgr.loop), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        fail_later(c, QMGR_IPC_FAIL, "cannot set up a connection to %s", c->path);
        return;
    }
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    tv.tv_sec = (time_t)c->timeout;
    tv.tv_usec = (suseconds_t)((c->timeout - (double)tv.tv_sec) * 1e6);
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_setwatermark(c->bev, EV_READ, 0, IPC_MAX_FRAME);
    if (bufferevent_write(c->bev, c->out.data, c->out.len) < 0
        || bufferevent_enable(c->bev, EV_READ | EV_WRITE) < 0) {
        fail_later(c, QMGR_IPC_FAIL, "cannot write to %s", c->path);
        return;
    }
}

void qmgr_ipc_call(const char *path, const struct ipc_record *req, double timeout,
                   qmgr_ipc_cb cb, void *ctx)
{
    struct ipc_call *c = xcalloc(1, sizeof(*c));

    c->path = xstrdup(path);
    buf_init(&c->out, IPC_MAX_FRAME);
    c->timeout = timeout > 0 ? timeout : 1;
    c->deadline = time(NULL) + (time_t)c->timeout;
    c->cb = cb;
    c->ctx = ctx;
    if (ipc_encode(req, &c->out) < 0) {
        fail_later(c, QMGR_IPC_FAIL, "request too large for %s", path);
        return;
    }
    try_connect(c);
}
