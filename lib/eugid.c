/*
 * eugid - switch the effective identity to a recipient for one delivery
 * and back (eugid.h), or drop it for good in a child that runs a command.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "eugid.h"
#include "log.h"

#define MAX_SAVED_GROUPS 256

/* The identity eugid_set() left, for eugid_restore(). */
static struct {
    int saved;
    gid_t egid;
    gid_t groups[MAX_SAVED_GROUPS];
    int ngroups;
} orig;

/* Can this process change identity at all? */
int eugid_privileged(void)
{
    /* The real uid stays 0 while the effective one is a recipient's. */
    return getuid() == 0;
}

/* Remember the root identity the first time we leave it. */
static int save_identity(void)
{
    int n;

    if (orig.saved)
        return 0;
    if ((n = getgroups(MAX_SAVED_GROUPS, orig.groups)) < 0)
        return -1;
    orig.ngroups = n;
    orig.egid = getegid();
    orig.saved = 1;
    return 0;
}

/* Become uid/gid (effective ids and groups) for one delivery. */
int eugid_set(uid_t uid, gid_t gid)
{
    int saved_errno;

    if (!eugid_privileged()) {
        if (uid == geteuid())
            return 0;
        errno = EPERM;
        return -1;
    }
    if (geteuid() != 0)
        msg_panic("eugid_set: identity already switched to uid %ld", (long)geteuid());
    if (save_identity() < 0)
        return -1;
    if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0) {
        saved_errno = errno;
        eugid_restore();
        errno = saved_errno;
        return -1;
    }
    return 0;
}

/* Back to root after eugid_set(); fatal if that fails. */
void eugid_restore(void)
{
    if (!eugid_privileged() || !orig.saved)
        return;
    if (seteuid(0) < 0)
        msg_fatal("eugid_restore: seteuid(0): %s", strerror(errno));
    if (setegid(orig.egid) < 0)
        msg_fatal("eugid_restore: setegid(%ld): %s", (long)orig.egid, strerror(errno));
    if (setgroups((size_t)orig.ngroups, orig.groups) < 0)
        msg_fatal("eugid_restore: setgroups: %s", strerror(errno));
}

/* Become uid/gid for good (real, effective and saved ids), checked. */
int eugid_drop_forever(uid_t uid, gid_t gid)
{
    uid_t r, e, s;

    if (!eugid_privileged()) {
        if (uid == getuid() && uid == geteuid())
            return 0;
        errno = EPERM;
        return -1;
    }
    /* From a switched identity, regain root first (saved uid is 0). */
    if (geteuid() != 0 && seteuid(0) < 0)
        return -1;
    if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0
        || setresuid(uid, uid, uid) < 0)
        return -1;
    /* Trust, but verify: every id changed, and there is no way back. */
    if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid) {
        errno = EPERM;
        return -1;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        errno = EPERM;
        return -1;
    }
    return 0;
}
