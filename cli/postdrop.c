/*
 * postdrop - put one message into maildrop/, for sendmail.
 *
 *   postdrop [-c DIR] [-v] [-f sender] [-F full_name] [-N notify]
 *            [-V envid] [-R full|hdrs] [-t] [--] [recipient ...]
 *
 * The message content (LF line endings, as sendmail prepared it) comes
 * on standard input; the envelope comes as arguments. postdrop writes a
 * maildrop file (lib/maildrop.h: temporary name, fsync, rename, fsync of
 * maildrop/) and exits 0 only when the file is durable; with -v it prints
 * the maildrop file's name. It never talks to a daemon, so submission
 * works while the mail system is stopped; pickup moves the file on.
 *
 * Installed setgid setgid_group (maildrop/ is mode 1730 mail_owner:
 * setgid_group), postdrop is the only program that needs that group. It
 * then refuses a configuration directory other than the default (-c or
 * MAIL_CONFIG) unless run by root, so a user cannot point it at a
 * main.cf of their own. The maildrop file belongs to the real user, which
 * is how pickup learns who submitted it.
 *
 * Exit status: 0 success, 64 usage, 75 (EX_TEMPFAIL) could not queue.
 * Unlike Postfix's postdrop, which reads a record stream from sendmail,
 * this one takes the envelope as arguments: simpler, and every value is
 * checked against the queue file limits before anything is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "confdir.h"
#include "log.h"
#include "maildrop.h"
#include "mail_tool.h"
#include "trigger.h"
#include "maincf.h"

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: postdrop [-c config_dir] [-v] [-f sender] [-F full_name]"
            " [-N notify] [-V envid] [-R full|hdrs] [-t] [--] [recipient ...]\n");
    exit(EX_USAGE);
}

static void tempfail_exit(void)
{
    exit(EX_TEMPFAIL);
}

int main(int argc, char **argv)
{
    struct maildrop_env env;
    struct maildrop_writer *w;
    struct buf err = BUF_INIT, dir = BUF_INIT;
    struct config *cfg;
    const char *opt_dir = NULL;
    char id[QUEUE_ID_SIZE], data[65536];
    uint64_t limit, total = 0;
    unsigned long u;
    ssize_t n;
    int ch, verbose = 0;
    char *end;

    log_init("postdrop");
    log_set_fatal_hook(tempfail_exit);
    umask(077);
    memset(&env, 0, sizeof(env));
    env.sender = NULL;
    while ((ch = getopt(argc, argv, "c:f:F:N:R:V:tv")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'f': env.sender = optarg; break;
        case 'F': env.full_name = optarg; break;
        case 'N':
            errno = 0;
            u = strtoul(optarg, &end, 10);
            if (errno || *end || u > 15)
                usage();
            env.notify = (unsigned)u;
            break;
        case 'R':
            if (strcasecmp(optarg, "full") == 0)
                env.ret = QF_RET_FULL;
            else if (strcasecmp(optarg, "hdrs") == 0)
                env.ret = QF_RET_HDRS;
            else
                usage();
            break;
        case 'V': env.envid = optarg; break;
        case 't': env.extract = 1; break;
        case 'v': verbose++; log_set_verbose(msg_verbose + 1); break;
        default: usage();
        }
    }
    if (env.sender == NULL)
        usage();
    env.rcpt = (const char *const *)argv + optind;
    env.nrcpt = (size_t)(argc - optind);

    /* A setgid postdrop trusts only the default configuration. */
    if (getegid() != getgid() && getuid() != 0) {
        const char *mc = getenv("MAIL_CONFIG");

        if ((opt_dir && strcmp(opt_dir, DEF_CONFIG_DIR) != 0)
            || (mc && strcmp(mc, DEF_CONFIG_DIR) != 0))
            msg_fatal("-c or MAIL_CONFIG is only for root when postdrop is set-group-ID");
        (void)unsetenv("MAIL_CONFIG");
        opt_dir = DEF_CONFIG_DIR;
    }
    cfg = tool_load_config(confdir_resolve(opt_dir));
    limit = config_size(cfg, "message_size_limit");

    buf_printf(&dir, "%s/maildrop", config_str(cfg, "queue_directory"));
    if ((w = maildrop_create(buf_str(&dir), &env, &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    for (;;) {
        n = read(0, data, sizeof(data));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            maildrop_abort(w);
            msg_fatal("read standard input: %s", strerror(errno));
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (limit && total > limit) {
            maildrop_abort(w);
            msg_error("message too large (message_size_limit = %llu)",
                      (unsigned long long)limit);
            exit(EX_DATAERR);
        }
        if (maildrop_write(w, data, (size_t)n, &err) < 0) {
            maildrop_abort(w);
            msg_fatal("%s", buf_str(&err));
        }
    }
    if (maildrop_commit(w, id, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    /* Tell pickup; when the mail system is down the file simply waits. */
    buf_reset(&dir);
    buf_printf(&dir, "%s/public/pickup", config_str(cfg, "queue_directory"));
    (void)trigger_send(buf_str(&dir), "W", 1);
    if (verbose)
        printf("%s\n", id);
    buf_free(&err);
    buf_free(&dir);
    config_free(cfg);
    return 0;
}
