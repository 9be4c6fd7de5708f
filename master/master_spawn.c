/*
 * master_spawn - start service processes and account for their exits.
 *
 * A child gets its status pipe as fd 3 and its listening sockets from fd 4
 * on (master_proto.h), the environment named by import_environment, and
 * the parent-death signal SIGTERM. When a child exits abnormally (non-zero
 * status or a signal) master logs it like Postfix ("process PATH pid N
 * killed by signal 9"), and holds off new children of that service for a
 * back-off that doubles with each consecutive crash (1s, 2s, 4s, ...). A
 * service whose processes keep dying young is throttled: no new process
 * for service_throttle_time, logged as "bad command startup -- throttling".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "mem.h"

#define CRASH_YOUNG     10      /* a child that dies younger than this "crashed young" */
#define CRASH_THROTTLE  5       /* consecutive young crashes before throttling */
#define BACKOFF_MAX     32      /* seconds */

extern char **environ;

int master_proc_count(void)
{
    int n = 0;

    for (struct master_proc *p = master.procs; p; p = p->next)
        n++;
    return n;
}

struct master_proc *master_proc_find(pid_t pid)
{
    for (struct master_proc *p = master.procs; p; p = p->next)
        if (p->pid == pid)
            return p;
    return NULL;
}

/* The environment a child gets: import_environment, plus what master sets. */
static char **child_environment(void)
{
    char *const *names = config_list(master.cfg, "import_environment");
    static const char *always[] = {"MAIL_CONFIG", "POSTERN_FOREGROUND",
        "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
    size_t n = 0, cap = 16;
    char **env = xcalloc(cap, sizeof(char *));
    struct buf item = BUF_INIT;

    for (const char **a = always; *a; a++) {
        const char *v = getenv(*a);

        if (v) {
            buf_reset(&item);
            buf_printf(&item, "%s=%s", *a, v);
            env[n++] = xstrdup(buf_str(&item));
        }
    }
    for (; *names; names++) {
        const char *v;

        if (n + 2 >= cap)
            env = xreallocarray(env, cap *= 2, sizeof(char *));
        if (strchr(*names, '=')) {
            env[n++] = xstrdup(*names);
        } else if (strcmp(*names, "MAIL_CONFIG") != 0 && (v = getenv(*names)) != NULL) {
            buf_reset(&item);
            buf_printf(&item, "%s=%s", *names, v);
            env[n++] = xstrdup(buf_str(&item));
        }
    }
    env[n] = NULL;
    buf_free(&item);
    return env;
}

/* argv: PROGRAM -n NAME -t TYPE -s COUNT [-u] [-j] [-v] [args...] */
static char **child_argv(const struct master_service *serv)
{
    const struct service_def *def = &serv->def;
    size_t nargs = 0, n = 0;
    char **argv;
    char count[16];

    while (def->args && def->args[nargs])
        nargs++;
    argv = xcalloc(nargs + 12, sizeof(char *));
    snprintf(count, sizeof(count), "%d", serv->listen_count);
    argv[n++] = xstrdup(def->command);
    argv[n++] = xstrdup("-n");
    argv[n++] = xstrdup(def->name);
    argv[n++] = xstrdup("-t");
    argv[n++] = xstrdup(def->type == SERVICE_INET ? "inet" : "unix");
    argv[n++] = xstrdup("-s");
    argv[n++] = xstrdup(count);
    if (def->unpriv)
        argv[n++] = xstrdup("-u");
    if (def->chroot)
        argv[n++] = xstrdup("-j");
    if (master.verbose)
        argv[n++] = xstrdup("-v");
    /* Every -o before the other arguments, wherever master.cf put it. */
    for (size_t i = 0; def->override_names && def->override_names[i]; i++) {
        struct buf ov = BUF_INIT;

        buf_printf(&ov, "%s=%s", def->override_names[i], def->override_values[i]);
        argv[n++] = xstrdup("-o");
        argv[n++] = buf_steal(&ov);
    }
    for (size_t i = 0; i < nargs; i++) {
        if (strcmp(def->args[i], "-o") == 0 && def->args[i + 1] != NULL) {
            i++;
            continue;
        }
        argv[n++] = xstrdup(def->args[i]);
    }
    return argv;
}

/* In the child: put the status pipe and sockets where master_proto.h says. */
static void child_setup_fds(const struct master_service *serv)
{
    int fds[64 + 1], count = serv->listen_count;
    int err_fd = fcntl(serv->stderr_fd[1], F_DUPFD, 100);
    sigset_t none;

    /* Move everything out of the way first, so dup2 never clobbers a source. */
    fds[0] = fcntl(serv->status_fd[1], F_DUPFD, 100);
    for (int i = 0; i < count && i < 64; i++)
        fds[i + 1] = fcntl(serv->listen_fds[i], F_DUPFD, 100);
    if (dup2(fds[0], MASTER_STATUS_FD) < 0)
        _exit(127);
    /* Whatever a child says on stderr before its logging is set up reaches the log. */
    if (!master.foreground && dup2(err_fd, 2) < 0)
        _exit(127);
    for (int i = 0; i < count && i < 64; i++)
        if (dup2(fds[i + 1], MASTER_LISTEN_FD + i) < 0)
            _exit(127);
    for (int fd = MASTER_LISTEN_FD + count; fd < 1024; fd++)
        close(fd);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
}

void master_spawn(struct master_service *serv)
{
    struct master_proc *proc;
    char **argv, **envp;
    pid_t pid;

    pid_t master_pid = getpid();

    argv = child_argv(serv);
    envp = child_environment();
    pid = fork();
    if (pid < 0) {
        msg_warn("fork: %s", strerror(errno));
        serv->hold_until = time(NULL) + 1;
        goto out;
    }
    if (pid == 0) {
        /* Own session: a Ctrl-C meant for a foreground master reaches only master. */
        setsid();
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master_pid)
            _exit(0);   /* master died before the death signal was armed */
        child_setup_fds(serv);
        execve(serv->path, argv, envp);
        msg_fatal("exec %s: %s", serv->path, strerror(errno));
    }
    proc = xcalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->serv = serv;
    proc->avail = 1;
    proc->started = time(NULL);
    proc->next = master.procs;
    master.procs = proc;
    serv->total_proc++;
    serv->avail_proc++;
    msg_debug("%s: started %s pid %ld", serv->key, serv->path, (long)pid);
out:
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
    for (char **e = envp; *e; e++)
        free(*e);
    free(envp);
}

/* Back-off or throttle a service after an abnormal exit. */
static void account_crash(struct master_service *serv, const struct master_proc *proc)
{
    time_t now = time(NULL);
    long delay;

    if (now - proc->started >= CRASH_YOUNG * 6)
        serv->crashes = 0;          /* it had been running fine for a while */
    serv->crashes++;
    if (serv->crashes >= CRASH_THROTTLE && now - proc->started < CRASH_YOUNG) {
        delay = config_time(master.cfg, "service_throttle_time");
        msg_warn("%s: bad command startup -- throttling", serv->path);
        serv->crashes = 0;
    } else {
        delay = 1L << (serv->crashes - 1 < 5 ? serv->crashes - 1 : 5);
        if (delay > BACKOFF_MAX)
            delay = BACKOFF_MAX;
    }
    serv->hold_until = now + delay;
}

static void proc_unlink(struct master_proc *proc)
{
    for (struct master_proc **pp = &master.procs; *pp; pp = &(*pp)->next) {
        if (*pp == proc) {
            *pp = proc->next;
            return;
        }
    }
}

/* Remove a dead child; log and account an abnormal exit. */
static void reap_one(pid_t pid, int status)
{
    struct master_proc *proc = master_proc_find(pid);
    struct master_service *serv;
    int abnormal;

    if (proc == NULL)
        return;
    serv = proc->serv;
    proc_unlink(proc);
    if (proc->retired) {
        serv->retired_proc--;
    } else {
        serv->total_proc--;
        if (proc->avail)
            serv->avail_proc--;
    }
    abnormal = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFSIGNALED(status))
        msg_warn("process %s pid %ld killed by signal %d", serv->path, (long)pid,
                 WTERMSIG(status));
    else if (abnormal)
        msg_warn("process %s pid %ld exit status %d", serv->path, (long)pid,
                 WEXITSTATUS(status));
    if (abnormal && !master.stopping && !proc->retired) {
        account_crash(serv, proc);
    } else if (!abnormal) {
        serv->crashes = 0;      /* a clean exit ends a run of failures */
        msg_debug("process %s pid %ld exited", serv->path, (long)pid);
    }
    free(proc);
    if (!master.stopping)
        master_avail_update(serv);
}

void master_reap_children(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        reap_one(pid, status);
    master_conf_collect();
}

void master_retire_children(struct master_service *serv)
{
    for (struct master_proc *p = master.procs; p; p = p->next) {
        if (p->serv != serv || p->retired)
            continue;
        p->retired = 1;
        serv->total_proc--;
        serv->retired_proc++;
        if (p->avail)
            serv->avail_proc--;
        kill(p->pid, SIGTERM);
    }
}

void master_kill_all(int signo, int whole_group)
{
    /* Each child leads its own process group, with the helpers it forked. */
    for (struct master_proc *p = master.procs; p; p = p->next)
        kill(whole_group ? -p->pid : p->pid, signo);
}

/* Log what children write on stderr, one line at a time, bounded. */
static void stderr_ready(int fd, void *arg)
{
    struct master_service *serv = arg;
    char data[4096];
    ssize_t n;

    while ((n = read(fd, data, sizeof(data))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            int full = serv->stderr_line.len >= 1024;

            if (data[i] != '\n' && !full) {
                buf_putc(&serv->stderr_line, data[i]);
                continue;
            }
            msg_warn("%s: %s", serv->path, buf_str(&serv->stderr_line));
            buf_reset(&serv->stderr_line);
            if (data[i] != '\n')
                buf_putc(&serv->stderr_line, data[i]);
        }
    }
}

void master_stderr_watch(struct master_service *serv)
{
    buf_init(&serv->stderr_line, 4096);
    serv->stderr_watch = ev_read(master.loop, serv->stderr_fd[0], stderr_ready, serv);
}
