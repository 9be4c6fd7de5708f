/*
 * events - libevent 2 wrapper (see events.h).
 */
#include <stdlib.h>

#include <event2/event.h>

#include "events.h"
#include "log.h"
#include "mem.h"

struct evloop {
    struct event_base *base;
};

struct ev_watch {
    struct event *ev;
    union {
        ev_fd_cb fd;
        ev_timer_cb timer;
        ev_signal_cb sig;
    } cb;
    void *arg;
};

struct evloop *evloop_new(void)
{
    struct evloop *loop = xcalloc(1, sizeof(*loop));

    if ((loop->base = event_base_new()) == NULL)
        msg_fatal("cannot create event loop");
    return loop;
}

void evloop_free(struct evloop *loop)
{
    if (loop) {
        event_base_free(loop->base);
        free(loop);
    }
}

int evloop_run(struct evloop *loop)
{
    return event_base_dispatch(loop->base);
}

void evloop_stop(struct evloop *loop)
{
    event_base_loopbreak(loop->base);
}

struct event_base *evloop_base(struct evloop *loop)
{
    return loop->base;
}

/* libevent trampolines: hand each callback only what it asked for. */
static void fd_trampoline(evutil_socket_t fd, short what, void *arg)
{
    struct ev_watch *w = arg;

    w->cb.fd((int)fd, w->arg);
}

static void timer_trampoline(evutil_socket_t fd, short what, void *arg)
{
    struct ev_watch *w = arg;
    ev_timer_cb cb = w->cb.timer;
    void *cb_arg = w->arg;

    /* One-shot: the watch is gone before the callback runs. */
    event_free(w->ev);
    free(w);
    cb(cb_arg);
}

static void signal_trampoline(evutil_socket_t sig, short what, void *arg)
{
    struct ev_watch *w = arg;

    w->cb.sig((int)sig, w->arg);
}

static struct ev_watch *watch_new(void *arg)
{
    struct ev_watch *w = xcalloc(1, sizeof(*w));

    w->arg = arg;
    return w;
}

struct ev_watch *ev_read(struct evloop *loop, int fd, ev_fd_cb cb, void *arg)
{
    struct ev_watch *w = watch_new(arg);

    w->cb.fd = cb;
    w->ev = event_new(loop->base, fd, EV_READ | EV_PERSIST, fd_trampoline, w);
    if (w->ev == NULL || event_add(w->ev, NULL) < 0)
        msg_fatal("cannot watch descriptor %d", fd);
    return w;
}

struct ev_watch *ev_timer(struct evloop *loop, double seconds, ev_timer_cb cb, void *arg)
{
    struct ev_watch *w = watch_new(arg);
    struct timeval tv;

    if (seconds < 0)
        seconds = 0;
    tv.tv_sec = (long)seconds;
    tv.tv_usec = (long)((seconds - (double)tv.tv_sec) * 1e6);
    w->cb.timer = cb;
    w->ev = evtimer_new(loop->base, timer_trampoline, w);
    if (w->ev == NULL || evtimer_add(w->ev, &tv) < 0)
        msg_fatal("cannot arm timer");
    return w;
}

struct ev_watch *ev_signal(struct evloop *loop, int signo, ev_signal_cb cb, void *arg)
{
    struct ev_watch *w = watch_new(arg);

    w->cb.sig = cb;
    w->ev = evsignal_new(loop->base, signo, signal_trampoline, w);
    if (w->ev == NULL || event_add(w->ev, NULL) < 0)
        msg_fatal("cannot catch signal %d", signo);
    return w;
}

void ev_cancel(struct ev_watch *w)
{
    if (w) {
        event_free(w->ev);
        free(w);
    }
}
