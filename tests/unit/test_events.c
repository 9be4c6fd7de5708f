/*
 * test_events - unit tests for lib/events: timers fire once and in order,
 * a read watch fires on data and stops after ev_cancel, signals arrive
 * through the loop, and evloop_stop ends the loop.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"

struct record {
    struct evloop *loop;
    char order[16];
    int n;
    int reads;
    int signals;
    struct ev_watch *watch;
};

static void mark(struct record *r, char c)
{
    if (r->n < (int)sizeof(r->order) - 1)
        r->order[r->n++] = c;
}

static void timer_a(void *arg) { mark(arg, 'a'); }
static void timer_b(void *arg) { mark(arg, 'b'); }

static void timer_stop(void *arg)
{
    struct record *r = arg;

    mark(r, 's');
    evloop_stop(r->loop);
}

static void timers_fire_once_in_order(void **state)
{
    struct record r = {0};

    r.loop = evloop_new();
    ev_timer(r.loop, 0.05, timer_b, &r);
    ev_timer(r.loop, 0.01, timer_a, &r);
    ev_timer(r.loop, 0.10, timer_stop, &r);
    evloop_run(r.loop);
    assert_string_equal(r.order, "abs");
    evloop_free(r.loop);
}

static void cancelled_timer_never_fires(void **state)
{
    struct record r = {0};
    struct ev_watch *w;

    r.loop = evloop_new();
    w = ev_timer(r.loop, 0.01, timer_a, &r);
    ev_timer(r.loop, 0.05, timer_stop, &r);
    ev_cancel(w);
    ev_cancel(NULL);
    evloop_run(r.loop);
    assert_string_equal(r.order, "s");
    evloop_free(r.loop);
}

static void on_read(int fd, void *arg)
{
    struct record *r = arg;
    char c;

    assert_int_equal(read(fd, &c, 1), 1);
    mark(r, c);
    if (++r->reads == 2) {
        ev_cancel(r->watch);
        r->watch = NULL;
    }
}

static void read_watch_fires_until_cancelled(void **state)
{
    struct record r = {0};
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "xyz", 3), 3);
    r.loop = evloop_new();
    r.watch = ev_read(r.loop, fds[0], on_read, &r);
    ev_timer(r.loop, 0.1, timer_stop, &r);
    evloop_run(r.loop);
    /* Two reads, then the watch is gone and 'z' stays in the pipe. */
    assert_string_equal(r.order, "xys");
    close(fds[0]);
    close(fds[1]);
    evloop_free(r.loop);
}

static void on_signal(int signo, void *arg)
{
    struct record *r = arg;

    assert_int_equal(signo, SIGUSR1);
    r->signals++;
    evloop_stop(r->loop);
}

static void raise_usr1(void *arg)
{
    (void)arg;
    raise(SIGUSR1);
}

static void signals_arrive_through_the_loop(void **state)
{
    struct record r = {0};
    struct ev_watch *sig, *safety;

    r.loop = evloop_new();
    sig = ev_signal(r.loop, SIGUSR1, on_signal, &r);
    ev_timer(r.loop, 0.01, raise_usr1, NULL);
    safety = ev_timer(r.loop, 5.0, timer_stop, &r);
    evloop_run(r.loop);
    assert_int_equal(r.signals, 1);
    assert_int_equal(r.n, 0);
    ev_cancel(sig);
    ev_cancel(safety);      /* has not fired: still ours to cancel */
    evloop_free(r.loop);
}

static void empty_loop_returns(void **state)
{
    struct evloop *loop = evloop_new();

    assert_non_null(evloop_base(loop));
    assert_int_equal(evloop_run(loop), 1);      /* nothing to wait for */
    evloop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_once_in_order),
        cmocka_unit_test(cancelled_timer_never_fires),
        cmocka_unit_test(read_watch_fires_until_cancelled),
        cmocka_unit_test(signals_arrive_through_the_loop),
        cmocka_unit_test(empty_loop_returns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
