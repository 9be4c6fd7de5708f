/*
 * postern - control the postern mail system.
 *
 * usage: postern [-c config_dir] [-v] start | start-fg | stop | reload |
 *                                     status | check
 *        postern init DIR [--domain D] [--hostname H] [--port-base N]
 *                         [--user NAME:PASSWORD]... [--force]
 *
 * start and start-fg run master (detached, or in the foreground until
 * Ctrl-C); stop asks master to stop and waits until it has; reload makes
 * master re-read main.cf and master.cf; status exits 0 only when master
 * runs; check validates main.cf, master.cf and the queue tree and exits
 * non-zero on any problem, naming file and line. init is in postern_init.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confdir.h"
#include "log.h"
#include "log_setup.h"
#include "maincf.h"
#include "mastercf.h"
#include "pidlock.h"
#include "postern_init.h"
#include "queue_tree.h"
#include "service_path.h"

struct ctl {
    const char *config_dir;
    struct config *cfg;
    struct mastercf *mcf;
    struct buf pidfile;
    int verbose;
};

/* Read main.cf and master.cf; print every problem. Returns problem count. */
static int load(struct ctl *c, int with_master)
{
    struct buf err = BUF_INIT, path = BUF_INIT;
    int problems = 0;

    config_free(c->cfg);
    mastercf_free(c->mcf);
    c->mcf = NULL;
    if ((c->cfg = config_load(c->config_dir, &err)) == NULL) {
        msg_error("%s", buf_str(&err));
        buf_free(&err);
        return 1;
    }
    buf_reset(&c->pidfile);
    buf_printf(&c->pidfile, "%s/pid/master.pid", config_str(c->cfg, "queue_directory"));
    if (with_master) {
        buf_printf(&path, "%s/master.cf", c->config_dir);
        buf_reset(&err);
        if ((c->mcf = mastercf_load(buf_str(&path), c->cfg, &err)) == NULL) {
            msg_error("%s", buf_str(&err));
            problems++;
        } else if (service_check_programs(c->mcf, c->cfg, &err) > 0) {
            msg_error("%s", buf_str(&err));
            problems++;
        }
    }
    buf_free(&err);
    buf_free(&path);
    return problems;
}

static int cmd_check(struct ctl *c)
{
    struct queue_owner own;
    struct buf err = BUF_INIT;
    int problems = load(c, 1);

    if (c->cfg != NULL) {
        if (log_setup_check(c->cfg, &err) < 0) {
            msg_error("%s", buf_str(&err));
            problems++;
            buf_reset(&err);
        }
        if (queue_owner_resolve(c->cfg, &own, &err) < 0) {
            msg_error("%s: %s", config_file(c->cfg), buf_str(&err));
            problems++;
        } else if (queue_tree_check(c->cfg, &own, &err) > 0) {
            /* One problem per line, each naming the directory. */
            for (char *line = strtok(err.data, "\n"); line; line = strtok(NULL, "\n")) {
                msg_error("%s", line);
                problems++;
            }
        }
    }
    buf_free(&err);
    if (problems == 0 && c->verbose)
        msg_info("configuration %s: no problems found", c->config_dir);
    return problems ? 1 : 0;
}

static char *master_path(const struct ctl *c)
{
    struct buf path = BUF_INIT;

    buf_printf(&path, "%s/master", config_str(c->cfg, "daemon_directory"));
    return buf_steal(&path);
}

static int cmd_start(struct ctl *c, int foreground)
{
    char *prog;
    pid_t pid;

    if (load(c, 1) > 0)
        msg_fatal("configuration errors: the postern mail system was not started");
    if ((pid = pidlock_holder(buf_str(&c->pidfile))) > 0)
        msg_fatal("the postern mail system is already running (pid %ld)", (long)pid);
    prog = master_path(c);
    if (!foreground)
        msg_info("starting the postern mail system");
    execl(prog, "master", "-c", c->config_dir, foreground ? "-f" : "-w",
          c->verbose ? "-v" : (char *)NULL, (char *)NULL);
    msg_fatal("exec %s: %s", prog, strerror(errno));
}

/* The running master's pid, or exit 1 saying it does not run. */
static pid_t running_master(struct ctl *c)
{
    pid_t pid;

    if (load(c, 0) > 0)
        exit(1);
    pid = pidlock_holder(buf_str(&c->pidfile));
    if (pid < 0)
        msg_fatal("cannot read %s: %s", buf_str(&c->pidfile), strerror(errno));
    if (pid == 0)
        msg_fatal("the postern mail system is not running");
    return pid;
}

static int cmd_stop(struct ctl *c)
{
    pid_t pid = running_master(c);
    long limit = config_time(c->cfg, "master_stop_timeout") + 10;
    struct timespec tick = {0, 100 * 1000 * 1000};

    msg_info("stopping the postern mail system");
    if (kill(pid, SIGTERM) < 0)
        msg_fatal("kill %ld: %s", (long)pid, strerror(errno));
    for (long i = 0; i < limit * 10; i++) {
        if (pidlock_holder(buf_str(&c->pidfile)) == 0)
            return 0;
        nanosleep(&tick, NULL);
    }
    msg_fatal("master (pid %ld) has not stopped after %ld seconds", (long)pid, limit);
}

static int cmd_reload(struct ctl *c)
{
    pid_t pid = running_master(c);
    int problems = load(c, 1);

    if (problems > 0)
        msg_fatal("configuration errors: not reloaded");
    msg_info("refreshing the postern mail system");
    if (kill(pid, SIGHUP) < 0)
        msg_fatal("kill %ld: %s", (long)pid, strerror(errno));
    return 0;
}

static int cmd_status(struct ctl *c)
{
    pid_t pid;

    if (load(c, 0) > 0)
        return 1;
    pid = pidlock_holder(buf_str(&c->pidfile));
    if (pid < 0)
        msg_fatal("cannot read %s: %s", buf_str(&c->pidfile), strerror(errno));
    if (pid > 0) {
        msg_info("the postern mail system is running: PID: %ld", (long)pid);
        return 0;
    }
    msg_info("the postern mail system is not running");
    return 1;
}

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: postern [-c config_dir] [-v] start|start-fg|stop|reload|status|check\n"
            "       postern init DIR [--domain D] [--hostname H] [--port-base N]\n"
            "                        [--user NAME:PASSWORD]... [--force]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct ctl c = {0};
    const char *opt_dir = NULL, *cmd;
    int ch;

    log_init("postern");
    buf_init(&c.pidfile, 0);
    while ((ch = getopt(argc, argv, "+c:v")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'v': c.verbose++; break;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();
    cmd = argv[optind];
    if (strcmp(cmd, "init") == 0)
        return postern_init(argc - optind, argv + optind);
    if (optind + 1 != argc)
        usage();
    c.config_dir = confdir_resolve(opt_dir);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(&c);
    if (strcmp(cmd, "start") == 0)
        return cmd_start(&c, 0);
    if (strcmp(cmd, "start-fg") == 0)
        return cmd_start(&c, 1);
    if (strcmp(cmd, "stop") == 0)
        return cmd_stop(&c);
    if (strcmp(cmd, "reload") == 0)
        return cmd_reload(&c);
    if (strcmp(cmd, "status") == 0)
        return cmd_status(&c);
    usage();
}
