/*
 * sendmail - the Sendmail-compatible submission interface, as Postfix's
 * sendmail(1).
 *
 *   sendmail [options] [recipient ...]     read a message on stdin
 *   mailq [options]                        = sendmail -bp = postqueue -p
 *   newaliases [options]                   = sendmail -bi
 *
 * Options:
 *   -t          take recipients from To:, Cc: and Bcc: as well (clean-up
 *               does it, and removes Bcc:); command-line recipients are
 *               added, as in Postfix 2.1 and later
 *   -i, -oi     a line with a single "." does not end the message
 *   -f SENDER, -r SENDER   envelope sender ("<>" or "" for the null sender)
 *   -F NAME     full name for the From: header clean-up adds if missing
 *   -N DSN      never, or a list of success, failure, delay
 *   -R RET      full or hdrs
 *   -V ENVID    DSN envelope ID
 *   -bm         read a message (the default)
 *   -bp         list the queue (runs postqueue -p)
 *   -bi, -I     rebuild the alias databases (runs newaliases)
 *   -q          flush the queue (runs postqueue -f)
 *   -v          verbose: also print the maildrop file's name
 *   -C DIR, -c DIR   configuration directory (main.cf there); -C may
 *               also name the main.cf file itself
 *   Sendmail options that mean nothing here are accepted and ignored, as
 *   Postfix does: -B TYPE, -h N, -L LABEL, -O opt=val, -X LOG, -e X,
 *   -oX... (other than -oi), -G, -U, -m, -n, -x, -A X.
 *
 *   -bs         SMTP on standard input and output (sendmail_bs.c); each
 *               message goes to postdrop like any local submission
 *
 * Not supported: -bv, -bd, -bD, -bl, -bt; each fails with
 * EX_UNAVAILABLE (69) and says so.
 *
 * The message is read line by line: CRLF becomes LF (Postfix's
 * sendmail_fix_line_endings = always), a first line "From " (mbox
 * separator) is dropped, and without -i a line "." ends the input. It is
 * handed to postdrop, which writes it into maildrop/; no daemon has to
 * run. Exit status as Sendmail's: 0, 64 usage, 69 unavailable, 75 try
 * again.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "confdir.h"
#include "log.h"
#include "mail_tool.h"
#include "maincf.h"
#include "mem.h"
#include "queue_file.h"
#include "sendmail_bs.h"

enum mode { MODE_MAIL, MODE_QUEUE, MODE_ALIASES, MODE_FLUSH, MODE_SMTP };

struct opts {
    enum mode mode;
    const char *confdir;
    const char *sender;
    const char *full_name;
    const char *envid;
    const char *ret;
    unsigned notify;
    int dot_ends;               /* no -i */
    int extract;
    int verbose;
};

static _Noreturn void usage(void)
{
    msg_error("usage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret]"
              " [-V envid] [-bm|-bp|-bi] [-v] [-C config_dir] [recipient ...]");
    exit(EX_USAGE);
}

static _Noreturn void unsupported(const char *what)
{
    msg_error("%s is not supported", what);
    exit(EX_UNAVAILABLE);
}

static void tempfail_exit(void)
{
    exit(EX_TEMPFAIL);
}

/* -N never | success,failure,delay */
static unsigned parse_notify(const char *s)
{
    unsigned bits = 0;
    char *copy = xstrdup(s), *tok, *save = NULL;

    for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (strcasecmp(tok, "never") == 0)
            bits |= QF_NOTIFY_NEVER;
        else if (strcasecmp(tok, "success") == 0)
            bits |= QF_NOTIFY_SUCCESS;
        else if (strcasecmp(tok, "failure") == 0)
            bits |= QF_NOTIFY_FAILURE;
        else if (strcasecmp(tok, "delay") == 0)
            bits |= QF_NOTIFY_DELAY;
        else {
            msg_error("bad -N option value: %s", s);
            exit(EX_USAGE);
        }
    }
    free(copy);
    if ((bits & QF_NOTIFY_NEVER) && bits != QF_NOTIFY_NEVER) {
        msg_error("-N never cannot be combined with other values");
        exit(EX_USAGE);
    }
    return bits;
}

/* Strip white space and one pair of angle brackets: "<a@b>" -> "a@b". */
static char *bare_address(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
        s++, len -= 2;
    return xstrndup(s, len);
}

/*
 * One command-line argument may hold several addresses separated by
 * commas ("a@x, b@y"), as Postfix accepts; commas inside quotes or angle
 * brackets do not separate.
 */
static void add_recipients(const char *arg, char ***list, size_t *n, size_t *cap)
{
    const char *start = arg, *p;
    int quoted = 0, angle = 0;
    char *a;

    for (p = arg;; p++) {
        if (*p == '\\' && quoted && p[1]) {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '<')
            angle++;
        else if (!quoted && *p == '>' && angle)
            angle--;
        if (*p == 0 || (*p == ',' && !quoted && !angle)) {
            a = bare_address(start, (size_t)(p - start));
            if (*a) {
                if (*n == *cap) {
                    *cap = *cap ? 2 * *cap : 8;
                    *list = xreallocarray(*list, *cap, sizeof(**list));
                }
                (*list)[(*n)++] = a;
            } else {
                free(a);
            }
            if (*p == 0)
                break;
            start = p + 1;
        }
    }
}

/* Run another tool in our place. */
static _Noreturn void run_tool(const struct config *cfg, const char *name,
                               const char *argv0, const char *arg)
{
    struct buf path = BUF_INIT;
    char *args[3];

    tool_path(cfg, name, &path);
    args[0] = (char *)argv0;
    args[1] = (char *)arg;
    args[2] = NULL;
    execv(buf_str(&path), args);
    msg_error("execute %s: %s", buf_str(&path), strerror(errno));
    exit(EX_UNAVAILABLE);
}

/* Copy the message from in to out as sendmail's rules say (see the top of the file). */
static int copy_message(FILE *in, FILE *out, int dot_ends)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int first = 1;

    while ((n = getline(&line, &cap, in)) > 0) {
        int nl = line[n - 1] == '\n';
        size_t len = (size_t)n - (size_t)nl;

        if (nl && len > 0 && line[len - 1] == '\r')
            len--;
        if (first && strncmp(line, "From ", 5) == 0) {
            first = 0;
            continue;
        }
        first = 0;
        if (dot_ends && nl && len == 1 && line[0] == '.')
            break;
        if (fwrite(line, 1, len, out) != len || (nl && putc('\n', out) == EOF)) {
            free(line);
            return -1;
        }
        /* A last line without a newline gets one: mail is made of lines. */
        if (!nl && putc('\n', out) == EOF) {
            free(line);
            return -1;
        }
    }
    free(line);
    if (ferror(in)) {
        msg_error("read the message: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int submit(const struct config *cfg, const struct opts *o, char **rcpt, size_t nrcpt,
                  FILE *in)
{
    struct buf path = BUF_INIT, notify = BUF_INIT;
    char **args;
    size_t na = 0;
    int pipefd[2], status;
    pid_t pid;
    FILE *out;
    const char *sender = o->sender;
    struct passwd *pw;
    const char *full_name = o->full_name;
    char *gecos = NULL;

    pw = getpwuid(getuid());
    if (sender == NULL) {
        if (pw == NULL) {
            msg_error("no login name for uid %ld", (long)getuid());
            return EX_TEMPFAIL;
        }
        sender = pw->pw_name;
    }
    if (full_name == NULL)
        full_name = getenv("NAME");
    if (full_name == NULL && pw && pw->pw_gecos && *pw->pw_gecos) {
        gecos = xstrndup(pw->pw_gecos, strcspn(pw->pw_gecos, ","));
        if (*gecos)
            full_name = gecos;
    }

    tool_path(cfg, "postdrop", &path);
    args = xcalloc(nrcpt + 20, sizeof(*args));
    args[na++] = "postdrop";
    args[na++] = "-f";
    args[na++] = (char *)sender;
    if (full_name && *full_name) {
        args[na++] = "-F";
        args[na++] = (char *)full_name;
    }
    if (o->notify) {
        buf_printf(&notify, "%u", o->notify);
        args[na++] = "-N";
        args[na++] = (char *)buf_str(&notify);
    }
    if (o->envid) {
        args[na++] = "-V";
        args[na++] = (char *)o->envid;
    }
    if (o->ret) {
        args[na++] = "-R";
        args[na++] = (char *)o->ret;
    }
    if (o->extract)
        args[na++] = "-t";
    if (o->verbose)
        args[na++] = "-v";
    args[na++] = "--";
    for (size_t i = 0; i < nrcpt; i++)
        args[na++] = rcpt[i];
    args[na] = NULL;

    if (pipe(pipefd) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        if (dup2(pipefd[0], 0) < 0)
            _exit(EX_OSERR);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(buf_str(&path), args);
        fprintf(stderr, "sendmail: execute %s: %s\n", buf_str(&path), strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(pipefd[0]);
    signal(SIGPIPE, SIG_IGN);
    if ((out = fdopen(pipefd[1], "w")) == NULL)
        msg_fatal("fdopen: %s", strerror(errno));
    if (copy_message(in, out, o->dot_ends) < 0 || fflush(out) == EOF) {
        /* postdrop must not commit a partial message: kill it first. */
        kill(pid, SIGTERM);
        fclose(out);
        (void)waitpid(pid, &status, 0);
        msg_error("message not queued: %s", strerror(errno));
        return EX_TEMPFAIL;
    }
    fclose(out);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal("waitpid: %s", strerror(errno));
    free(args);
    free(gecos);
    buf_free(&path);
    buf_free(&notify);
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0 ? 0
            : WEXITSTATUS(status) == EX_DATAERR ? EX_DATAERR : EX_TEMPFAIL;
    msg_error("postdrop was killed by signal %d", WTERMSIG(status));
    return EX_TEMPFAIL;
}

/* sendmail -bs: each message of the SMTP conversation goes to postdrop. */
struct bs_ctx {
    const struct config *cfg;
    struct opts *o;
};

static int bs_submit(void *arg, const char *sender, char **rcpt, size_t nrcpt, FILE *msg)
{
    struct bs_ctx *ctx = arg;
    struct opts o = *ctx->o;

    o.sender = sender;
    o.extract = 0;
    o.dot_ends = 0;         /* the DATA reader already found the end */
    return submit(ctx->cfg, &o, rcpt, nrcpt, msg);
}

/*
 * -C names the configuration directory, or (as Postfix accepts) the
 * main.cf file in it.
 */
static const char *config_dir_arg(const char *val)
{
    struct stat st;
    const char *slash;

    if (stat(val, &st) == 0 && S_ISREG(st.st_mode) && (slash = strrchr(val, '/')) != NULL)
        return slash == val ? "/" : xstrndup(val, (size_t)(slash - val));
    if (stat(val, &st) == 0 && S_ISREG(st.st_mode))
        return ".";
    return val;
}

/* Options that take a value, Sendmail's and ours. */
static int takes_value(int ch)
{
    return strchr("ABCFLNORVXbcefhopr", ch) != NULL;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct bs_ctx bs_ctx;
    struct config *cfg;
    const char *base;
    char **rcpt = NULL;
    size_t nrcpt = 0, cap = 0;
    int i, rc;

    memset(&o, 0, sizeof(o));
    o.dot_ends = 1;
    base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "mailq") == 0)
        o.mode = MODE_QUEUE;
    else if (strcmp(base, "newaliases") == 0)
        o.mode = MODE_ALIASES;
    log_init(o.mode == MODE_QUEUE ? "mailq" : o.mode == MODE_ALIASES ? "newaliases"
             : "sendmail");
    log_set_fatal_hook(tempfail_exit);

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *arg = argv[i];
        int ch = arg[1];
        const char *val = NULL;

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (ch == 'q') {                /* -q, -qTIME, -qRsite ...: flush */
            o.mode = MODE_FLUSH;
            continue;
        }
        if (takes_value(ch)) {
            if (arg[2])
                val = arg + 2;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                usage();
        } else if (arg[2]) {
            /* Flags bundled as in -ti: take them one by one. */
            for (const char *p = arg + 1; *p; p++) {
                switch (*p) {
                case 't': o.extract = 1; break;
                case 'i': o.dot_ends = 0; break;
                case 'v': o.verbose++; break;
                case 'G': case 'U': case 'm': case 'n': case 'x': break;
                case 'I': o.mode = MODE_ALIASES; break;
                default: usage();
                }
            }
            continue;
        }
        switch (ch) {
        case 't': o.extract = 1; break;
        case 'i': o.dot_ends = 0; break;
        case 'v': o.verbose++; log_set_verbose(msg_verbose + 1); break;
        case 'I': o.mode = MODE_ALIASES; break;
        case 'G': case 'U': case 'm': case 'n': case 'x': break;
        case 'f': case 'r': o.sender = val; break;
        case 'F': o.full_name = val; break;
        case 'N': o.notify = parse_notify(val); break;
        case 'R':
            if (strcasecmp(val, "full") != 0 && strcasecmp(val, "hdrs") != 0) {
                msg_error("bad -R option value: %s", val);
                exit(EX_USAGE);
            }
            o.ret = val;
            break;
        case 'V': o.envid = val; break;
        case 'C': case 'c': o.confdir = config_dir_arg(val); break;
        case 'o':
            if (val[0] == 'i')
                o.dot_ends = 0;
            /* -oem, -odi, -om, -o7 ... harmless, ignored as in Postfix */
            break;
        case 'b':
            switch (val[0]) {
            case 'm': o.mode = MODE_MAIL; break;
            case 'p': o.mode = MODE_QUEUE; break;
            case 'i': o.mode = MODE_ALIASES; break;
            case 's': o.mode = MODE_SMTP; break;
            case 'v': unsupported("-bv (address verification)");
            case 'd': case 'D': case 'l': unsupported("daemon mode (-bd); use postern start");
            default:
                msg_error("unsupported option -b%s", val);
                exit(EX_USAGE);
            }
            break;
        case 'A': case 'B': case 'L': case 'O': case 'X': case 'e': case 'h': case 'p':
            break;
        default:
            usage();
        }
    }

    cfg = tool_load_config(confdir_resolve(o.confdir));
    switch (o.mode) {
    case MODE_QUEUE:
        run_tool(cfg, "postqueue", "postqueue", "-p");
    case MODE_ALIASES:
        run_tool(cfg, "postalias", "newaliases", NULL);
    case MODE_FLUSH:
        run_tool(cfg, "postqueue", "postqueue", "-f");
    case MODE_SMTP:
        bs_ctx.cfg = cfg;
        bs_ctx.o = &o;
        return sendmail_bs(cfg, bs_submit, &bs_ctx);
    case MODE_MAIL:
        break;
    }
    for (; i < argc; i++)
        add_recipients(argv[i], &rcpt, &nrcpt, &cap);
    if (nrcpt == 0 && !o.extract) {
        msg_error("Recipient addresses must be specified on the command line"
                  " or via the -t option");
        exit(EX_USAGE);
    }
    if (o.sender) {
        char *s = bare_address(o.sender, strlen(o.sender));

        o.sender = s;                   /* "<>" becomes "" */
    }
    rc = submit(cfg, &o, rcpt, nrcpt, stdin);
    for (size_t k = 0; k < nrcpt; k++)
        free(rcpt[k]);
    free(rcpt);
    free((char *)o.sender);
    config_free(cfg);
    return rc;
}
