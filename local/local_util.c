/*
 * local_util - small helpers the local delivery agent's modules share:
 * the per-recipient outcome, user look-ups, identity checks and list
 * parameters (see local.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "eugid.h"
#include "local.h"
#include "mem.h"

void local_note(struct local_ctx *c, enum local_status st, const char *dsn,
                const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&text, fmt, ap);
    va_end(ap);
    if (st == LOCAL_OK) {
        c->delivered = 1;
        if (c->ok_text.len)
            buf_puts(&c->ok_text, ", ");
        buf_puts(&c->ok_text, buf_str(&text));
    } else if (st > c->status) {
        /* The worst failure so far is the reason. */
        c->status = st;
        snprintf(c->dsn, sizeof(c->dsn), "%s", dsn);
        buf_set(&c->fail_text, buf_str(&text));
    }
    buf_free(&text);
}

/* Fill u from a passwd entry. */
static void from_pw(const struct passwd *pw, struct local_user *u)
{
    u->name = xstrdup(pw->pw_name);
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->home = xstrdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
    u->shell = xstrdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
}

int local_user_byname(const char *name, struct local_user *u, struct buf *why)
{
    struct passwd *pw;

    memset(u, 0, sizeof(*u));
    errno = 0;
    if ((pw = getpwnam(name)) == NULL) {
        if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM)
            return 0;
        buf_printf(why, "user lookup of %s: %s", name, strerror(errno));
        return -1;
    }
    from_pw(pw, u);
    return 1;
}

int local_user_byuid(uid_t uid, struct local_user *u, struct buf *why)
{
    struct passwd *pw;

    memset(u, 0, sizeof(*u));
    errno = 0;
    if ((pw = getpwuid(uid)) == NULL) {
        if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM) {
            char num[32];

            /* Privileged, a nameless uid has no safe group: refuse it. */
            if (eugid_privileged()) {
                buf_printf(why, "no passwd entry for uid %ld", (long)uid);
                return -1;
            }
            /* Unprivileged, it is this instance's own identity. */
            snprintf(num, sizeof(num), "%ld", (long)uid);
            u->name = xstrdup(num);
            u->uid = uid;
            u->gid = getgid();
            u->home = xstrdup("/");
            u->shell = xstrdup("/bin/sh");
            return 1;
        }
        buf_printf(why, "user lookup of uid %ld: %s", (long)uid, strerror(errno));
        return -1;
    }
    from_pw(pw, u);
    return 1;
}

void local_user_free(struct local_user *u)
{
    free(u->name);
    free(u->home);
    free(u->shell);
    memset(u, 0, sizeof(*u));
}

int local_can_become(uid_t uid, const char *name, struct buf *why)
{
    if (eugid_privileged() || uid == getuid())
        return 0;
    buf_printf(why, "cannot deliver as user %s (uid %ld): this unprivileged instance "
               "runs as uid %ld and can deliver only as itself", name, (long)uid,
               (long)getuid());
    return -1;
}

int local_param_has(const struct config *cfg, const char *name, const char *word)
{
    for (char *const *v = config_list(cfg, name); *v; v++)
        if (strcasecmp(*v, word) == 0)
            return 1;
    return 0;
}

const struct local_user *local_not_root(struct local_ctx *c, const struct local_user *as,
                                        struct local_user *tmp)
{
    const char *privs = config_str(c->cfg, "default_privs");
    struct buf why = BUF_INIT;
    int rc;

    memset(tmp, 0, sizeof(*tmp));
    if (!eugid_privileged())
        return as;
    if (as->uid != 0 && as->gid == 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "user %s has gid 0", as->name);
        return NULL;
    }
    if (as->uid != 0)
        return as;
    if ((rc = local_user_byname(privs, tmp, &why)) <= 0 || tmp->uid == 0 || tmp->gid == 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "default_privs user %s %s", privs,
                   rc < 0 ? buf_str(&why) : rc == 0 ? "does not exist"
                   : tmp->uid == 0 ? "has uid 0" : "has gid 0");
        local_user_free(tmp);
        buf_free(&why);
        return NULL;
    }
    buf_free(&why);
    return tmp;
}
