/*
 * daemon - the shared service skeleton (see daemon.h and master_proto.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "confdir.h"
#include "daemon.h"
#include "log.h"
#include "log_setup.h"
#include "master_proto.h"
#include "mem.h"
#include "numparse.h"
#include "privilege.h"

#define MAX_LISTEN      64
#define TRIGGER_MAX     1024    /* bytes read from one wakeup connection */
#define TRIGGER_WAIT_MS 100     /* longest wait for a trigger's bytes */
#define RETIRE_GRACE    3600    /* seconds a retiring service may take */

static struct {
    const struct daemon_service *svc;
    struct config *cfg;
    struct evloop *loop;
    const char *name;
    const char *type;
    int listen_count;
    int listen_fd[MAX_LISTEN];
    struct ev_watch *listen_watch[MAX_LISTEN];
    struct ev_watch *idle_timer;
    long max_idle;
    long max_use;
    long use_count;
    int sessions;
    int retiring;
    int unpriv;                 /* -u: switch to mail_owner */
    int jail;                   /* -j: chroot to queue_directory */
    pid_t master_pid;
} d;

const char *daemon_service_name(void) { return d.name; }
const char *daemon_service_type(void) { return d.type; }
int daemon_retiring(void) { return d.retiring; }

/* Tell master whether this process can take another client. */
static void report_status(int avail)
{
    struct master_status st;

    memset(&st, 0, sizeof(st));
    st.pid = (int)getpid();
    st.avail = avail;
    /* One write of a few bytes to a pipe is atomic; failure means master is gone. */
    if (write(MASTER_STATUS_FD, &st, sizeof(st)) != (ssize_t)sizeof(st) && errno != EINTR)
        msg_fatal("cannot report status to master: %s", strerror(errno));
}

static void exit_now(void *unused)
{
    msg_debug("exiting");
    exit(0);
}

/* Exit once nothing is in progress. */
static void maybe_exit(void)
{
    if (d.retiring && d.sessions == 0)
        exit_now(NULL);
}

static void idle_expired(void *unused)
{
    d.idle_timer = NULL;
    if (d.sessions == 0) {
        msg_debug("idle timeout -- exiting");
        exit(0);
    }
}

/* Restart the max_idle clock (only while nothing is in progress). */
static void idle_rearm(void)
{
    ev_cancel(d.idle_timer);
    d.idle_timer = NULL;
    if (!d.svc->no_idle_exit && d.max_idle > 0 && d.sessions == 0 && !d.retiring)
        d.idle_timer = ev_timer(d.loop, (double)d.max_idle, idle_expired, NULL);
}

/* Stop accepting; exit when the work in progress is done. */
static void retire(const char *why)
{
    if (d.retiring)
        return;
    d.retiring = 1;
    msg_debug("retiring: %s", why);
    /* Busy for good: master starts a replacement while we finish. */
    report_status(MASTER_STAT_TAKEN);
    for (int i = 0; i < d.listen_count; i++) {
        ev_cancel(d.listen_watch[i]);
        d.listen_watch[i] = NULL;
        close(d.listen_fd[i]);
    }
    ev_cancel(d.idle_timer);
    d.idle_timer = NULL;
    if (d.svc->on_retire)
        d.svc->on_retire();
    ev_timer(d.loop, RETIRE_GRACE, exit_now, NULL);
    maybe_exit();
}

void daemon_session_begin(void)
{
    d.sessions++;
    ev_cancel(d.idle_timer);
    d.idle_timer = NULL;
}

void daemon_session_end(void)
{
    if (d.sessions > 0)
        d.sessions--;
    maybe_exit();
    if (d.sessions == 0)
        idle_rearm();
}

static void on_sigterm(int signo, void *unused)
{
    retire("stop request from master");
}

/*
 * Read a wakeup request and hand it over. The sender writes it before it
 * closes, so it is normally there at once; a peer that dawdles gets at most
 * TRIGGER_WAIT_MS of the loop's time, never more.
 */
static void read_trigger(int fd)
{
    char data[TRIGGER_MAX];
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t n = -1;

    if (poll(&pfd, 1, TRIGGER_WAIT_MS) > 0)
        n = read(fd, data, sizeof(data));
    close(fd);
    if (n > 0)
        d.svc->on_trigger(data, (size_t)n, d.cfg, d.loop);
}

static void on_listen_ready(int lfd, void *unused)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept: %s", strerror(errno));
        return;
    }
    d.use_count++;
    if (d.svc->on_trigger) {
        read_trigger(fd);
    } else if (d.svc->one_at_a_time) {
        report_status(MASTER_STAT_TAKEN);
        d.svc->on_connection(fd, d.cfg, d.loop);
        if (!d.retiring && !(d.max_use > 0 && d.use_count >= d.max_use))
            report_status(MASTER_STAT_AVAIL);
    } else {
        d.svc->on_connection(fd, d.cfg, d.loop);
    }
    if (d.max_use > 0 && d.use_count >= d.max_use)
        retire("max_use reached");
    else if (d.sessions == 0)
        idle_rearm();
}

static void usage(const char *prog)
{
    msg_fatal("usage: %s -n service -t inet|unix [-s count] [-u] [-j] [-v] "
              "[-o name=value]... (started by master)", prog);
}

/* Read master's command line and main.cf with the -o overrides. */
static void parse_args(int argc, char **argv)
{
    struct buf err = BUF_INIT;
    char **overrides = xcalloc((size_t)argc + 1, sizeof(char *));
    int noverride = 0, c;
    long count = 1;

    opterr = 0;
    while ((c = getopt(argc, argv, "+n:t:s:ujvo:")) != -1) {
        switch (c) {
        case 'n': d.name = optarg; break;
        case 't': d.type = optarg; break;
        case 's':
            if (parse_long(optarg, 0, MAX_LISTEN, &count) < 0)
                msg_fatal("bad listen socket count: %s", optarg);
            break;
        case 'u': d.unpriv = 1; break;
        case 'j': d.jail = 1; break;
        case 'v': log_set_verbose(msg_verbose + 1); break;
        case 'o': overrides[noverride++] = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (d.name == NULL || d.type == NULL)
        usage(argv[0]);
    d.listen_count = (int)count;

    if ((d.cfg = config_load(confdir_resolve(NULL), &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    for (int i = 0; i < noverride; i++) {
        char *eq = strchr(overrides[i], '=');

        if (eq == NULL)
            msg_fatal("bad -o argument (want name=value): %s", overrides[i]);
        *eq = 0;
        if (config_override(d.cfg, overrides[i], eq + 1, "master.cf -o", &err) < 0)
            msg_fatal("%s", buf_str(&err));
        *eq = '=';
    }
    free(overrides);
    d.max_idle = config_time(d.cfg, "max_idle");
    /* A long-running service (qmgr) is not retired for max_use either. */
    d.max_use = d.svc->no_idle_exit ? 0 : config_int(d.cfg, "max_use");
    buf_free(&err);
}

/* chroot, change user, drop capabilities: the irreversible step. */
static void jail(void)
{
    struct buf err = BUF_INIT;
    const char *jail_dir = d.jail ? config_str(d.cfg, "queue_directory") : NULL;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (geteuid() != 0) {
        /* Unprivileged instance: nothing to give up beyond new privileges. */
        if (priv_no_new_privs(&err) < 0)
            msg_fatal("%s", buf_str(&err));
    } else {
        if (d.unpriv && priv_lookup_user(config_str(d.cfg, "mail_owner"), &uid, &gid, &err) < 0)
            msg_fatal("mail_owner: %s", buf_str(&err));
        if (d.unpriv) {
            if (priv_drop(uid, gid, jail_dir, &err) < 0)
                msg_fatal("%s", buf_str(&err));
        } else if (jail_dir && (chroot(jail_dir) < 0 || chdir("/") < 0)) {
            /* A root service (unpriv column n) that is still chrooted. */
            msg_fatal("chroot %s: %s", jail_dir, strerror(errno));
        }
    }
    /* Every service works from the queue directory, chrooted or not (as Postfix's). */
    if (jail_dir == NULL && chdir(config_str(d.cfg, "queue_directory")) < 0)
        msg_fatal("chdir %s: %s", config_str(d.cfg, "queue_directory"), strerror(errno));
    /* A change of credentials clears the parent-death signal: set it again. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != d.master_pid)
        msg_fatal("master went away during start-up");
    buf_free(&err);
}

_Noreturn void daemon_main(int argc, char **argv, const struct daemon_service *svc)
{
    d.svc = svc;
    d.master_pid = getppid();
    log_init(svc->program);
    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv);
    log_setup(d.cfg, getenv("POSTERN_FOREGROUND") ? 2 : 0);

    for (int i = 0; i < d.listen_count; i++) {
        d.listen_fd[i] = MASTER_LISTEN_FD + i;
        if (fcntl(d.listen_fd[i], F_GETFD) < 0)
            msg_fatal("listening socket %d was not passed by master", d.listen_fd[i]);
        fcntl(d.listen_fd[i], F_SETFD, FD_CLOEXEC);
        fcntl(d.listen_fd[i], F_SETFL, fcntl(d.listen_fd[i], F_GETFL) | O_NONBLOCK);
    }
    if (fcntl(MASTER_STATUS_FD, F_GETFD) < 0)
        msg_fatal("status pipe was not passed by master");
    fcntl(MASTER_STATUS_FD, F_SETFD, FD_CLOEXEC);

    if (svc->pre_jail)
        svc->pre_jail(d.cfg);
    /* Load the time zone while /etc/localtime is still reachable. */
    tzset();
    jail();

    d.loop = evloop_new();
    ev_signal(d.loop, SIGTERM, on_sigterm, NULL);
    if (svc->post_jail)
        svc->post_jail(d.cfg, d.loop);
    for (int i = 0; i < d.listen_count; i++)
        d.listen_watch[i] = ev_read(d.loop, d.listen_fd[i], on_listen_ready, NULL);
    report_status(MASTER_STAT_AVAIL);
    idle_rearm();
    evloop_run(d.loop);
    exit(0);
}
