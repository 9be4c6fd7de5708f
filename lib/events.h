/*
 * events - the event loop every daemon runs: a thin wrapper over libevent 2.
 *
 * Callers watch descriptors, arm timers and catch signals through these
 * calls only, so the rest of the code never includes <event2/...> and the
 * loop can be swapped or instrumented in one place. Signals are delivered
 * through the loop (libevent's self-pipe), so handlers may do real work.
 */
#ifndef POSTERN_EVENTS_H
#define POSTERN_EVENTS_H

struct evloop;
struct ev_watch;

typedef void (*ev_fd_cb)(int fd, void *arg);
typedef void (*ev_timer_cb)(void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);

struct evloop *evloop_new(void);
/* Free the loop; cancel its watches first (they are not freed here). */
void evloop_free(struct evloop *loop);
/* Run until evloop_stop() or until nothing is left to wait for. */
int evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);
/* The libevent base, for modules that need bufferevents. */
struct event_base *evloop_base(struct evloop *loop);

/* Call cb each time fd is readable (persistent until ev_cancel). */
struct ev_watch *ev_read(struct evloop *loop, int fd, ev_fd_cb cb, void *arg);
/*
 * Call cb once, after seconds (may be fractional). The watch is freed
 * just before cb runs: cancel it only before it fires.
 */
struct ev_watch *ev_timer(struct evloop *loop, double seconds, ev_timer_cb cb, void *arg);
/* Call cb each time signo arrives (persistent). */
struct ev_watch *ev_signal(struct evloop *loop, int signo, ev_signal_cb cb, void *arg);
/* Stop and free a watch; NULL is fine. */
void ev_cancel(struct ev_watch *w);

#endif
