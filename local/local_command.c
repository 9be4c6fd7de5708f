/*
 * local_command - delivery to a command (|command in aliases, .forward,
 * :include:, and mailbox_command), as Postfix's local(8) does it: the
 * command runs under /bin/sh -c (or local_command_shell) as the identity
 * in charge (never root: default_privs instead), in its home directory,
 * with a clean environment (HOME USER LOGNAME SHELL SENDER RECIPIENT
 * LOCAL EXTENSION DOMAIN ORIGINAL_RECIPIENT PATH, plus
 * export_environment), the message on
 * standard input with a From_ line, Return-Path: and (per
 * prepend_delivered_header) Delivered-To:, and at most
 * command_time_limit to finish. Exit status 0 is success; the sysexits
 * codes map to DSN codes as in Postfix (EX_TEMPFAIL and EX_OSERR defer,
 * the others bounce); output (the first LOCAL_MAX_OUTPUT bytes) goes
 * into the reason.
 *
 * A feeder process writes the message so that this process can read
 * the command's output and keep time without blocking on either pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "eugid.h"
#include "local.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"

extern char **environ;

static const struct {
    int status;
    const char *dsn;
    const char *text;
} sys_exits[] = {
    { EX_USAGE, "5.3.0", "command line usage error" },
    { EX_DATAERR, "5.6.0", "data format error" },
    { EX_NOINPUT, "5.3.0", "cannot open input" },
    { EX_NOUSER, "5.1.1", "user unknown" },
    { EX_NOHOST, "5.1.2", "host name unknown" },
    { EX_UNAVAILABLE, "5.3.0", "service unavailable" },
    { EX_SOFTWARE, "5.3.0", "internal software error" },
    { EX_OSERR, "4.3.0", "system resource problem" },
    { EX_OSFILE, "5.3.0", "critical OS file missing" },
    { EX_CANTCREAT, "5.2.0", "can't create user output file" },
    { EX_IOERR, "5.3.0", "input/output error" },
    { EX_TEMPFAIL, "4.3.0", "temporary failure" },
    { EX_PROTOCOL, "5.5.0", "remote error in protocol" },
    { EX_NOPERM, "5.7.0", "permission denied" },
    { EX_CONFIG, "5.3.5", "local configuration error" },
};

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Add NAME=value to the environment being built. */
static void env_add(char ***env, size_t *n, const char *name, const char *value)
{
    struct buf b = BUF_INIT;

    buf_printf(&b, "%s=%s", name, value ? value : "");
    *env = xreallocarray(*env, *n + 2, sizeof(**env));
    (*env)[(*n)++] = buf_steal(&b);
    (*env)[*n] = NULL;
}

/* The command's environment (see above). */
static char **make_env(struct local_ctx *c, const struct local_user *u)
{
    char **env = NULL;
    size_t n = 0;
    const char *orig = c->original_to ? c->original_to : c->rcpt.address;

    env_add(&env, &n, "HOME", u->home);
    env_add(&env, &n, "USER", u->name);
    env_add(&env, &n, "LOGNAME", u->name);
    env_add(&env, &n, "SHELL", u->shell);
    env_add(&env, &n, "SENDER", c->req->sender);
    env_add(&env, &n, "RECIPIENT", c->rcpt.address);
    env_add(&env, &n, "LOCAL", c->rcpt.local);
    if (c->rcpt.extension)
        env_add(&env, &n, "EXTENSION", c->rcpt.extension);
    env_add(&env, &n, "DOMAIN", c->rcpt.domain);
    env_add(&env, &n, "ORIGINAL_RECIPIENT", orig);
    env_add(&env, &n, "PATH", "/usr/bin:/bin");
    for (char *const *v = config_list(c->cfg, "export_environment"); *v; v++) {
        const char *eq = strchr(*v, '=');

        if (eq) {
            char *name = xstrndup(*v, (size_t)(eq - *v));

            env_add(&env, &n, name, eq + 1);
            free(name);
        } else if (getenv(*v)) {
            env_add(&env, &n, *v, getenv(*v));
        }
    }
    return env;
}

/* argv: local_command_shell split on white space (or /bin/sh -c) + cmd. */
static char **make_argv(const struct config *cfg, const char *cmd)
{
    const char *shell = config_str(cfg, "local_command_shell");
    char **argv = NULL;
    size_t n = 0;

    if (*shell == 0)
        shell = "/bin/sh -c";
    for (const char *p = shell; *p; ) {
        size_t len = strcspn(p, " \t");

        if (len) {
            argv = xreallocarray(argv, n + 3, sizeof(*argv));
            argv[n++] = xstrndup(p, len);
            p += len;
        } else {
            p++;
        }
    }
    argv = xreallocarray(argv, n + 3, sizeof(*argv));
    argv[n++] = xstrdup(cmd);
    argv[n] = NULL;
    return argv;
}

static void free_vec(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Child: become the user and exec. Never returns. */
static _Noreturn void run_child(int in_fd, int out_fd, const struct local_user *as,
                                char **argv, char **env)
{
    static const char msg[] = "cannot switch identity for the command\n";

    setsid();
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(EX_OSERR);
    for (int fd = 3; fd < 1024; fd++)
        (void)close(fd);
    if (eugid_privileged() && eugid_drop_forever(as->uid, as->gid) < 0) {
        (void)!write(2, msg, sizeof(msg) - 1);
        _exit(EX_TEMPFAIL);
    }
    if (chdir(as->home) < 0)
        (void)!chdir("/");
    execve(argv[0], argv, env);
    _exit(errno == ENOENT ? EX_OSFILE : EX_UNAVAILABLE);
}

/* Feeder: write the message into the command's standard input. */
static _Noreturn void run_feeder(struct local_ctx *c, int fd, unsigned flags)
{
    struct mailbox_opts o;
    struct buf why = BUF_INIT;
    uint64_t written = 0;

    signal(SIGPIPE, SIG_IGN);
    memset(&o, 0, sizeof(o));
    o.copy_flags = flags;
    o.sender = c->req->sender;
    o.delivered_to = c->delivered_to;
    o.original_to = c->original_to;
    queue_file_content_rewind(c->req->qf);
    if (mail_copy(c->req->qf, fd, &o, &written, &why) < 0 && errno != EPIPE)
        _exit(1);
    _exit(0);
}

/* Printable, one-line version of command output for the reason. */
static void clean_output(struct buf *out)
{
    for (size_t i = 0; i < out->len; i++) {
        unsigned char ch = (unsigned char)out->data[i];

        if (ch < 0x20 || ch >= 0x7f)
            out->data[i] = ' ';
    }
    while (out->len && out->data[out->len - 1] == ' ')
        buf_truncate(out, out->len - 1);
}

void local_deliver_command(struct local_ctx *c, const char *cmd, const struct local_user *as,
                           const struct local_user *rcpt_user, int is_mailbox_command)
{
    struct buf why = BUF_INIT, output = BUF_INIT;
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, timed_out = 0;
    int fstatus = -1, feeder_done = 0;
    unsigned flags = MAIL_COPY_FROM_LINE | MAIL_COPY_RETURN_PATH;
    pid_t pid = -1, feeder = -1;
    char **argv, **env;
    long long deadline = now_ms() + 1000LL * config_time(c->cfg, "command_time_limit");
    struct local_user privs;

    if ((as = local_not_root(c, as, &privs)) == NULL)
        return;
    if (local_can_become(as->uid, as->name, &why) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        local_user_free(&privs);
        buf_free(&why);
        return;
    }
    if (is_mailbox_command || local_param_has(c->cfg, "prepend_delivered_header", "command"))
        flags |= MAIL_COPY_DELIVERED;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot make a pipe: %s", strerror(errno));
        goto close_pipes;
    }
    argv = make_argv(c->cfg, cmd);
    env = make_env(c, rcpt_user);
    if ((pid = fork()) == 0)
        run_child(in[0], out[1], as, argv, env);
    free_vec(argv);
    free_vec(env);
    if (pid < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot fork: %s", strerror(errno));
        goto close_pipes;
    }
    close(in[0]);
    close(out[1]);
    in[0] = out[1] = -1;
    if ((feeder = fork()) == 0) {
        close(out[0]);
        run_feeder(c, in[1], flags);
    }
    close(in[1]);
    in[1] = -1;
    if (feeder < 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }

    /* Read the output until EOF or the deadline. */
    for (;;) {
        struct pollfd pfd = { .fd = out[0], .events = POLLIN };
        long long left = deadline - now_ms();
        char chunk[4096];
        ssize_t n;

        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
            break;
        if (pfd.revents == 0)
            continue;
        if ((n = read(out[0], chunk, sizeof(chunk))) <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        if (output.len < LOCAL_MAX_OUTPUT)
            buf_append(&output, chunk, (size_t)n > LOCAL_MAX_OUTPUT - output.len
                       ? LOCAL_MAX_OUTPUT - output.len : (size_t)n);
    }
    /* Wait for the command, within what is left of the time limit. */
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (now_ms() >= deadline)
            timed_out = 1;
        else
            poll(NULL, 0, 20);
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    /* The feeder must finish too, or the command got a truncated copy. */
    while (feeder > 0 && !feeder_done && !timed_out) {
        pid_t w = waitpid(feeder, &fstatus, WNOHANG);

        if (w == feeder)
            feeder_done = 1;
        else if (w < 0 && errno != EINTR)
            break;
        else if (now_ms() >= deadline)
            timed_out = 1;
        else
            poll(NULL, 0, 20);
    }
    if (feeder > 0 && !feeder_done) {
        kill(feeder, SIGKILL);
        while (waitpid(feeder, &fstatus, 0) < 0 && errno == EINTR)
            ;
    }
    clean_output(&output);
    if (output.len)
        buf_printf(&why, ". Command output: %s", buf_str(&output));

    if (feeder < 0)
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot fork: %s", strerror(ENOMEM));
    else if (timed_out)
        local_note(c, LOCAL_DEFER, "4.3.0", "Command time limit exceeded: \"%s\"%s", cmd,
                   buf_str(&why));
    else if (!feeder_done || !WIFEXITED(fstatus) || WEXITSTATUS(fstatus) != 0)
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot write message to command: \"%s\"%s", cmd,
                   buf_str(&why));
    else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        local_note(c, LOCAL_OK, "2.0.0", "delivered to command: %s", cmd);
    else if (status != -1 && WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        const char *dsn = "5.3.0";
        size_t k;

        for (k = 0; k < sizeof(sys_exits) / sizeof(sys_exits[0]); k++)
            if (sys_exits[k].status == code)
                dsn = sys_exits[k].dsn;
        local_note(c, dsn[0] == '4' ? LOCAL_DEFER : LOCAL_BOUNCE, dsn,
                   "Command died with status %d: \"%s\"%s", code, cmd, buf_str(&why));
    } else if (status != -1 && WIFSIGNALED(status)) {
        local_note(c, LOCAL_DEFER, "4.3.0", "Command died with signal %d: \"%s\"%s",
                   WTERMSIG(status), cmd, buf_str(&why));
    } else {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot wait for command: \"%s\"", cmd);
    }
close_pipes:
    for (int k = 0; k < 2; k++) {
        if (in[k] >= 0)
            close(in[k]);
        if (out[k] >= 0)
            close(out[k]);
    }
    local_user_free(&privs);
    buf_free(&why);
    buf_free(&output);
}
