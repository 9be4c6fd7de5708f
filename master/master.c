/*
 * master - the postern supervisor.
 *
 * usage: master [-c config_dir] [-f | -w] [-t] [-v]
 *
 *   -f  run in the foreground, logging to stderr as well (postern start-fg)
 *   -w  detach, and exit 0 only once the mail system is up (postern start)
 *   -t  exit 0 if no master runs on this queue directory, 1 if one does
 *   -v  verbose logging, passed on to the services
 *
 * master reads main.cf and master.cf, creates the queue tree's missing
 * directories, takes the lock queue_directory/pid/master.pid (so only one
 * master runs per queue), opens every listening socket, and starts the
 * services on demand (master_avail.c) and on wakeup timers
 * (master_wakeup.c). SIGHUP reloads (master_conf.c); SIGTERM or SIGINT
 * asks every child to finish, waits up to master_stop_timeout, kills what
 * is left, and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confdir.h"
#include "log.h"
#include "log_setup.h"
#include "master.h"
#include "pidlock.h"
#include "queue_tree.h"
#include "version.h"

struct master_state master;

static int start_pipe = -1;     /* -w: tells the waiting parent we are up */

static void on_sighup(int signo, void *unused)
{
    if (master.stopping)
        return;
    msg_info("reload requested");
    master_conf_reload();
}

static void stop_timeout(void *unused)
{
    msg_warn("children still running after %lds: killing them",
             config_time(master.cfg, "master_stop_timeout"));
    master_kill_all(SIGKILL, 1);
}

static void exit_if_done(void)
{
    if (master.stopping && master_proc_count() == 0) {
        msg_info("stopped -- all services have exited");
        exit(0);
    }
}

static void on_sigchld(int signo, void *unused)
{
    master_reap_children();
    exit_if_done();
}

static void on_sigterm(int signo, void *unused)
{
    if (master.stopping)
        return;
    master.stopping = 1;
    msg_info("terminating on signal %d", signo);
    for (struct master_service *s = master.services; s; s = s->next) {
        master_avail_stop(s);
        master_wakeup_stop(s);
        master_listen_close(s);
    }
    master_kill_all(SIGTERM, 0);
    ev_timer(master.loop, (double)config_time(master.cfg, "master_stop_timeout"),
             stop_timeout, NULL);
    exit_if_done();
}

/* -w: fork; the parent waits until the child says the system is up. */
static void detach(void)
{
    int fds[2];
    char status = 0;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid > 0) {
        close(fds[1]);
        if (read(fds[0], &status, 1) == 1 && status == '0')
            exit(0);
        exit(1);    /* the child printed why */
    }
    close(fds[0]);
    start_pipe = fds[1];
    setsid();
}

/* Tell the waiting parent we are up, and let go of the terminal. */
static void detach_done(void)
{
    int null = open("/dev/null", O_RDWR);

    if (start_pipe >= 0) {
        if (write(start_pipe, "0", 1) != 1)
            msg_warn("cannot report start-up: %s", strerror(errno));
        close(start_pipe);
        start_pipe = -1;
    }
    log_to_stderr(0);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2)
            close(null);
    }
}

static void usage(void)
{
    msg_fatal("usage: master [-c config_dir] [-f | -w] [-t] [-v]");
}

int main(int argc, char **argv)
{
    const char *opt_dir = NULL;
    struct buf err = BUF_INIT, path = BUF_INIT;
    int c, wait_start = 0, test_only = 0;
    pid_t other;

    /* With 0, 1 or 2 closed, a socket could become a child's stdout. */
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
    log_init("master");
    signal(SIGPIPE, SIG_IGN);
    while ((c = getopt(argc, argv, "c:fwtv")) != -1) {
        switch (c) {
        case 'c': opt_dir = optarg; break;
        case 'f': master.foreground = 1; setenv("POSTERN_FOREGROUND", "1", 1); break;
        case 'w': wait_start = 1; break;
        case 't': test_only = 1; break;
        case 'v': master.verbose++; log_set_verbose(master.verbose); break;
        default: usage();
        }
    }
    if (optind != argc || (master.foreground && wait_start))
        usage();
    master.config_dir = confdir_resolve(opt_dir);
    if (master_conf_load(master.config_dir, &master.cfg, &master.mcf, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    buf_printf(&path, "%s/pid/master.pid", config_str(master.cfg, "queue_directory"));
    if (test_only)
        return pidlock_holder(buf_str(&path)) > 0 ? 1 : 0;

    log_setup(master.cfg, master.foreground ? 2 : 1);
    if (queue_owner_resolve(master.cfg, &master.own, &err) < 0
        || queue_tree_create(master.cfg, &master.own, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    if (wait_start)
        detach();
    if ((other = pidlock_acquire(buf_str(&path), &err)) != 0) {
        if (other > 0)
            msg_fatal("the postern mail system is already running (pid %ld)", (long)other);
        msg_fatal("%s", buf_str(&err));
    }
    if (chdir(config_str(master.cfg, "queue_directory")) < 0)
        msg_fatal("chdir %s: %s", config_str(master.cfg, "queue_directory"), strerror(errno));

    master.loop = evloop_new();
    ev_signal(master.loop, SIGHUP, on_sighup, NULL);
    ev_signal(master.loop, SIGTERM, on_sigterm, NULL);
    ev_signal(master.loop, SIGINT, on_sigterm, NULL);
    ev_signal(master.loop, SIGCHLD, on_sigchld, NULL);
    master_conf_start();

    msg_info("daemon started -- version %s, configuration %s", POSTERN_VERSION,
             master.config_dir);
    if (!master.own.privileged) {
        struct passwd *pw = getpwuid(geteuid());

        msg_info("running unprivileged as %s: no chroot, no change of user",
                 pw ? pw->pw_name : "(unknown user)");
    }
    if (wait_start)
        detach_done();
    else if (!master.foreground)
        log_to_stderr(0);
    buf_free(&err);
    buf_free(&path);
    evloop_run(master.loop);
    return 0;
}
