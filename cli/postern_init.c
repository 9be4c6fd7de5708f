/*
 * postern_init - create a self-contained instance (see postern_init.h).
 *
 * The instance runs from the build tree: daemon_directory is the libexec/
 * directory next to this program's bin/. Started by a normal user it runs
 * as that user (unprivileged mode); started by root it runs its services
 * as mail_owner "postern", which must exist (useradd --system postern).
 * Services listen on 127.0.0.1 at port-base plus the standard port. A
 * master.cf entry is written active only when its program has been built;
 * the others are written commented out, so the file shows the whole
 * suite.
 */
#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maincf.h"
#include "mem.h"
#include "numparse.h"
#include "postern_init.h"
#include "queue_tree.h"
#include "safe_file.h"

#define MAX_USERS 256

struct init_opts {
    const char *dir;
    const char *domain;
    const char *hostname;
    long port_base;
    const char *users[MAX_USERS];
    int nusers;
    int force;
    char bindir[PATH_MAX];
    char libexec[PATH_MAX];
    const char *owner;
    const char *group;
    uid_t vuid;                 /* owner of the virtual mailboxes */
    gid_t vgid;
};

/* The suite's services, as an instance's master.cf lists them. */
static const struct {
    int port;               /* 0: a unix service named name */
    const char *name;
    const char *cols;       /* type private unpriv chroot wakeup maxproc */
    const char *command;    /* program and arguments */
    const char *comment;
} services[] = {
    {25, "smtp", "inet  n       -       y       -       -", "smtpd", "SMTP server"},
    {587, "submission", "inet  n       -       y       -       -",
     "smtpd -o syslog_name=postern/submission", "message submission"},
    {465, "smtps", "inet  n       -       y       -       -",
     "smtpd -o syslog_name=postern/smtps", "SMTP over TLS (when TLS arrives)"},
    {24, "lmtp", "inet  n       -       y       -       -", "lmtpd", "LMTP server"},
    {110, "pop3", "inet  n       -       y       -       -", "pop3d", "POP3"},
    {995, "pop3s", "inet  n       -       y       -       -", "pop3d", "POP3 over TLS (when TLS arrives)"},
    {143, "imap", "inet  n       -       y       -       -", "imapd", "IMAP"},
    {993, "imaps", "inet  n       -       y       -       -", "imapd", "IMAP over TLS (when TLS arrives)"},
    {0, "pickup", "unix  n       -       y       60      1", "pickup", "maildrop/ to the queue"},
    {0, "qmgr", "unix  n       -       y       300     1", "qmgr", "queue manager"},
    {0, "bounce", "unix  -       -       y       -       0", "bounce", "delivery status notifications"},
    {0, "defer", "unix  -       -       y       -       0", "bounce", "delay notifications"},
    {0, "smtp", "unix  -       -       y       -       -", "smtp", "outbound SMTP"},
    {0, "relay", "unix  -       -       y       -       -",
     "smtp -o syslog_name=postern/relay", "outbound SMTP for relay_domains"},
    {0, "lmtp", "unix  -       -       y       -       -", "smtp", "outbound LMTP"},
    {0, "local", "unix  -       n       n       -       -", "local", "local delivery"},
    {0, "virtual", "unix  -       n       n       -       -", "virtual", "virtual mailboxes"},
    {0, "lookupd", "unix  -       -       n       -       -", "lookupd", "table lookups"},
    {0, "authd", "unix  -       n       n       -       -", "authd", "password checks"},
    {0, "anvil", "unix  -       -       y       -       1", "anvil", "connection counters"},
};

/* bin/ holds this program; libexec/ beside it holds the daemons. */
static void find_build_dirs(struct init_opts *o)
{
    char exe[PATH_MAX], guess[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n < 0)
        msg_fatal("readlink /proc/self/exe: %s", strerror(errno));
    exe[n] = 0;
    snprintf(o->bindir, sizeof(o->bindir), "%s", dirname(exe));
    snprintf(guess, sizeof(guess), "%s/../libexec", o->bindir);
    if (realpath(guess, o->libexec) == NULL)
        msg_fatal("no daemon directory %s beside %s (run postern from the build tree)",
                  guess, o->bindir);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    struct buf err = BUF_INIT;

    if (atomic_replace_file(path, text, strlen(text), mode, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    buf_free(&err);
}

static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        msg_fatal("mkdir %s: %s", path, strerror(errno));
}

/* A directory of the mailbox tree, owned by the virtual mail uid. */
static void make_mail_dir(const struct init_opts *o, const char *path)
{
    make_dir(path, 0700);
    if (geteuid() == 0 && chown(path, o->vuid, o->vgid) < 0)
        msg_fatal("chown %s: %s", path, strerror(errno));
}

static void write_main_cf(const struct init_opts *o)
{
    struct buf text = BUF_INIT, path = BUF_INIT;
    time_t now = time(NULL);
    char stamp[64];

    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&now));
    buf_printf(&text,
        "# postern instance written by `postern init` on %s.\n"
        "# Every parameter, with its default and meaning: `postconf -d`, and the\n"
        "# commented conf/main.cf in the source tree.\n"
        "\n"
        "# Where things are. The programs run straight from the build tree.\n"
        "queue_directory = %s/queue\n"
        "data_directory = %s/data\n"
        "daemon_directory = %s\n"
        "command_directory = %s\n"
        "maillog_file = %s/log/maillog\n"
        "\n"
        "# Who runs it. Started by root, services drop to mail_owner.\n"
        "mail_owner = %s\n"
        "setgid_group = %s\n"
        "\n"
        "# Identity.\n"
        "myhostname = %s\n"
        "mydomain = %s\n"
        "myorigin = $mydomain\n"
        "mydestination = $myhostname, localhost.$mydomain, localhost\n"
        "\n"
        "# Network: loopback only; the ports are in master.cf.\n"
        "inet_interfaces = loopback-only\n"
        "inet_protocols = ipv4\n"
        "mynetworks = 127.0.0.0/8\n"
        "\n"
        "# Local delivery (mydestination) stays inside the instance: its own\n"
        "# aliases (edit, then `newaliases -c %s`) and its own mbox spool.\n"
        "alias_maps = lmdb:%s/aliases\n"
        "alias_database = lmdb:%s/aliases\n"
        "mail_spool_directory = %s/spool\n"
        "\n"
        "# The demo domain is a virtual mailbox domain; its users are in\n"
        "# vmailbox (mailboxes) and passwd (passwords, Dovecot passwd-file format).\n"
        "virtual_mailbox_domains = %s\n"
        "virtual_mailbox_base = %s/mail\n"
        "virtual_mailbox_maps = texthash:%s/vmailbox\n"
        "virtual_uid_maps = static:%ld\n"
        "virtual_gid_maps = static:%ld\n",
        stamp, o->dir, o->dir, o->libexec, o->bindir, o->dir, o->owner, o->group,
        o->hostname, o->domain, o->dir, o->dir, o->dir, o->dir, o->domain, o->dir, o->dir,
        (long)o->vuid, (long)o->vgid);
    buf_printf(&path, "%s/main.cf", o->dir);
    write_file(buf_str(&path), buf_str(&text), 0644);
    buf_free(&text);
    buf_free(&path);
}

static void write_master_cf(const struct init_opts *o)
{
    struct buf text = BUF_INIT, path = BUF_INIT, name = BUF_INIT, prog = BUF_INIT;
    char cmd[64];

    buf_puts(&text,
        "# postern master.cf written by `postern init`.\n"
        "# Entries whose program is not built yet are commented out; they\n"
        "# start working when the program exists (run `postern init` again).\n"
        "#\n"
        "# ==========================================================================\n"
        "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
        "#               (yes)   (yes)   (no)    (never) (100)\n"
        "# ==========================================================================\n");
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        buf_reset(&name);
        if (services[i].port)
            buf_printf(&name, "127.0.0.1:%ld", o->port_base + services[i].port);
        else
            buf_puts(&name, services[i].name);
        sscanf(services[i].command, "%63s", cmd);
        buf_reset(&prog);
        buf_printf(&prog, "%s/%s", o->libexec, cmd);
        /* Implicit-TLS ports stay off until TLS exists: plain text there would mislead. */
        buf_printf(&text, "# %s\n%s%-15s %s %s\n", services[i].comment,
                   access(buf_str(&prog), X_OK) == 0
                   && strstr(services[i].comment, "when TLS arrives") == NULL ? "" : "#",
                   buf_str(&name), services[i].cols, services[i].command);
    }
    buf_printf(&path, "%s/master.cf", o->dir);
    write_file(buf_str(&path), buf_str(&text), 0644);
    buf_free(&text);
    buf_free(&path);
    buf_free(&name);
    buf_free(&prog);
}

/* One mailbox per --user, and its password hash (SHA-512 crypt). */
static void write_users(const struct init_opts *o)
{
    struct buf vmailbox = BUF_INIT, passwd = BUF_INIT, path = BUF_INIT, user = BUF_INIT;
    static const char *sub[] = {"", "/cur", "/new", "/tmp"};

    buf_printf(&path, "%s/mail", o->dir);
    make_mail_dir(o, buf_str(&path));
    buf_reset(&path);
    buf_printf(&path, "%s/mail/%s", o->dir, o->domain);
    make_mail_dir(o, buf_str(&path));
    for (int i = 0; i < o->nusers; i++) {
        const char *colon = strchr(o->users[i], ':');
        const char *hash;
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];

        buf_reset(&user);
        buf_append(&user, o->users[i], (size_t)(colon - o->users[i]));
        if (strchr(buf_str(&user), '@'))
            buf_truncate(&user, (size_t)(strchr(buf_str(&user), '@') - user.data));
        if (crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)) == NULL
            || (hash = crypt(colon + 1, salt)) == NULL || hash[0] == '*')
            msg_fatal("cannot hash the password of %s", buf_str(&user));
        buf_printf(&vmailbox, "%s@%s %s/%s/\n", buf_str(&user), o->domain, o->domain,
                   buf_str(&user));
        buf_printf(&passwd, "%s@%s:{SHA512-CRYPT}%s::::::\n", buf_str(&user), o->domain,
                   hash);
        for (size_t s = 0; s < sizeof(sub) / sizeof(sub[0]); s++) {
            buf_reset(&path);
            buf_printf(&path, "%s/mail/%s/%s%s", o->dir, o->domain, buf_str(&user), sub[s]);
            make_mail_dir(o, buf_str(&path));
        }
    }
    buf_reset(&path);
    buf_printf(&path, "%s/vmailbox", o->dir);
    write_file(buf_str(&path), buf_str(&vmailbox), 0644);
    buf_reset(&path);
    buf_printf(&path, "%s/passwd", o->dir);
    write_file(buf_str(&path), buf_str(&passwd), 0600);
    buf_free(&vmailbox);
    buf_free(&passwd);
    buf_free(&path);
    buf_free(&user);
}

/*
 * The instance's own aliases(5) file, compiled with this build's postalias
 * into lmdb:DIR/aliases: postmaster and MAILER-DAEMON reach the first
 * --user mailbox, else the invoking user (root's mbox is DIR/spool/root).
 */
static void write_aliases(const struct init_opts *o)
{
    struct buf text = BUF_INIT, path = BUF_INIT, prog = BUF_INIT, who = BUF_INIT;
    pid_t pid;
    int status;

    if (o->nusers > 0) {
        buf_append(&who, o->users[0], strcspn(o->users[0], ":@"));
        buf_printf(&who, "@%s", o->domain);
    } else {
        buf_puts(&who, geteuid() == 0 ? "root" : o->owner);
    }
    buf_printf(&text,
        "# Aliases of this postern instance, aliases(5) format. After a change\n"
        "# run: %s/newaliases -c %s\n"
        "postmaster: %s\n"
        "MAILER-DAEMON: postmaster\n"
        "abuse: postmaster\n"
        "hostmaster: postmaster\n"
        "webmaster: postmaster\n",
        o->bindir, o->dir, buf_str(&who));
    buf_printf(&path, "%s/aliases", o->dir);
    write_file(buf_str(&path), buf_str(&text), 0644);
    buf_printf(&prog, "%s/postalias", o->bindir);
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        execl(buf_str(&prog), "postalias", "-c", o->dir, buf_str(&path), (char *)NULL);
        msg_fatal("exec %s: %s", buf_str(&prog), strerror(errno));
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        msg_fatal("%s -c %s %s failed", buf_str(&prog), o->dir, buf_str(&path));
    buf_free(&text);
    buf_free(&path);
    buf_free(&prog);
    buf_free(&who);
}

/* mail_spool_directory: world-writable and sticky, like /var/mail. */
static void make_spool(const struct init_opts *o)
{
    struct buf path = BUF_INIT;

    buf_printf(&path, "%s/spool", o->dir);
    make_dir(buf_str(&path), 01777);
    if (chmod(buf_str(&path), 01777) < 0)
        msg_fatal("chmod %s: %s", buf_str(&path), strerror(errno));
    buf_free(&path);
}

/* Who the instance runs as: the invoking user, or mail_owner postern for root. */
static void choose_owner(struct init_opts *o)
{
    struct passwd *pw;
    struct group *gr;

    if (geteuid() == 0) {
        if ((pw = getpwnam("postern")) == NULL)
            msg_fatal("running as root: create the mail_owner user first "
                      "(useradd --system --no-create-home postern)");
        /* Virtual mailboxes belong to one unprivileged mail uid, never root. */
        o->vuid = pw->pw_uid;
        o->vgid = pw->pw_gid;
        if (getgrnam("postdrop") == NULL)
            msg_fatal("running as root: create the setgid_group first (groupadd --system postdrop)");
        o->owner = "postern";
        o->group = "postdrop";
        return;
    }
    if ((pw = getpwuid(geteuid())) == NULL || (gr = getgrgid(getegid())) == NULL)
        msg_fatal("cannot find the name of uid %ld or gid %ld", (long)geteuid(),
                  (long)getegid());
    o->vuid = pw->pw_uid;
    o->vgid = pw->pw_gid;
    o->owner = xstrdup(pw->pw_name);
    o->group = xstrdup(gr->gr_name);
}

static void parse_opts(int argc, char **argv, struct init_opts *o)
{
    static const struct option longopts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"hostname", required_argument, NULL, 'H'},
        {"port-base", required_argument, NULL, 'p'},
        {"user", required_argument, NULL, 'u'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->domain = "example.test";
    o->port_base = 2000;
    optind = 0;     /* glibc: full re-initialisation after main()'s getopt */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->domain = optarg; break;
        case 'H': o->hostname = optarg; break;
        case 'p':
            if (parse_long(optarg, 0, 65535 - 995, &o->port_base) < 0)
                msg_fatal("bad --port-base %s: want a number from 0 to %d", optarg, 65535 - 995);
            break;
        case 'u':
            if (o->nusers >= MAX_USERS)
                msg_fatal("too many --user options (at most %d)", MAX_USERS);
            if (strchr(optarg, ':') == NULL || optarg[0] == ':'
                || strcspn(optarg, "/ \t\n") != strlen(optarg))
                msg_fatal("bad --user %s: want NAME:PASSWORD", optarg);
            o->users[o->nusers++] = optarg;
            break;
        case 'f': o->force = 1; break;
        default:
            msg_fatal("usage: postern init DIR [--domain D] [--hostname H] "
                      "[--port-base N] [--user NAME:PASSWORD]... [--force]");
        }
    }
    if (optind + 1 != argc)
        msg_fatal("usage: postern init DIR [--domain D] [--hostname H] "
                  "[--port-base N] [--user NAME:PASSWORD]... [--force]");
    o->dir = argv[optind];
    if (strcspn(o->domain, "/ \t\n$,") != strlen(o->domain) || !*o->domain)
        msg_fatal("bad --domain %s", o->domain);
    if (o->hostname == NULL) {
        static char host[300];

        snprintf(host, sizeof(host), "mail.%s", o->domain);
        o->hostname = host;
    }
}

/*
 * Started as root, services that are not chrooted run as mail_owner and
 * must be able to reach the instance: say so now, not as a crash later.
 */
static void check_reachable(const struct init_opts *o)
{
    struct passwd *pw = getpwnam(o->owner);
    char prefix[PATH_MAX];
    struct stat st;

    if (geteuid() != 0 || pw == NULL)
        return;
    for (const char *p = o->dir; (p = strchr(p + 1, '/')) != NULL || 1; ) {
        size_t len = p ? (size_t)(p - o->dir) : strlen(o->dir);

        snprintf(prefix, sizeof(prefix), "%.*s", (int)len, o->dir);
        if (stat(prefix, &st) == 0 && !(st.st_mode & S_IXOTH) && st.st_uid != pw->pw_uid)
            msg_warn("%s is not searchable by mail_owner %s: services that run "
                     "unchrooted as %s (lookupd) cannot reach the instance; "
                     "use a directory outside it, or chmod o+x %s",
                     prefix, o->owner, o->owner, prefix);
        if (p == NULL)
            break;
    }
}

int postern_init(int argc, char **argv)
{
    struct init_opts o = {0};
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct config *cfg;
    struct queue_owner own;
    char abs[PATH_MAX];
    static const char *subdirs[] = {"log", "data"};

    parse_opts(argc, argv, &o);
    find_build_dirs(&o);
    choose_owner(&o);
    make_dir(o.dir, 0755);
    if (realpath(o.dir, abs) == NULL)
        msg_fatal("realpath %s: %s", o.dir, strerror(errno));
    o.dir = abs;
    buf_printf(&path, "%s/main.cf", o.dir);
    if (access(buf_str(&path), F_OK) == 0 && !o.force)
        msg_fatal("%s exists: not overwriting it (use --force to write a new instance)",
                  buf_str(&path));
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", o.dir, subdirs[i]);
        make_dir(buf_str(&path), 0755);
    }
    check_reachable(&o);
    write_main_cf(&o);
    write_master_cf(&o);
    write_users(&o);
    make_spool(&o);
    write_aliases(&o);

    /* Read back what we wrote: init never leaves an instance that does not load. */
    if ((cfg = config_load(o.dir, &err)) == NULL)
        msg_fatal("the new main.cf does not load: %s", buf_str(&err));
    if (queue_owner_resolve(cfg, &own, &err) < 0 || queue_tree_create(cfg, &own, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    config_free(cfg);
    printf("postern instance in %s: smtp on 127.0.0.1:%ld, %d user(s) in %s\n"
           "start it with: %s/postern -c %s start\n",
           o.dir, o.port_base + 25, o.nusers, o.domain, o.bindir, o.dir);
    buf_free(&path);
    buf_free(&err);
    return 0;
}
