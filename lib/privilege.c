/*
 * privilege - user and group look-ups, and the one-way privilege drop
 * every root-started service makes before it reads network input (see
 * privilege.h): chroot, groups, gid, uid, capabilities (libcap),
 * NO_NEW_PRIVS, and a check that none of it can be undone.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "privilege.h"

/* Initial size of the getpw*_r / getgr*_r scratch buffer. */
#define PRIV_LOOKUP_BUF     1024
/* Give up growing the scratch buffer past this. */
#define PRIV_LOOKUP_MAX     (1024 * 1024)

/* Look up a user by name: uid and primary gid. */
int priv_lookup_user(const char *name, uid_t *uid, gid_t *gid, struct buf *err)
{
    struct passwd pw, *res = NULL;
    size_t size = PRIV_LOOKUP_BUF;
    char *scratch = NULL;
    int rc;

    do {
        scratch = xrealloc(scratch, size);
        rc = getpwnam_r(name, &pw, scratch, size, &res);
        size *= 2;
    } while (rc == ERANGE && size <= PRIV_LOOKUP_MAX);
    if (res == NULL) {
        if (rc != 0 && rc != ENOENT && rc != ESRCH)
            buf_printf(err, "look up user %s: %s", name, strerror(rc));
        else
            buf_printf(err, "unknown user: %s", name);
        free(scratch);
        return -1;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    free(scratch);
    return 0;
}

/* Look up a group by name. */
int priv_lookup_group(const char *name, gid_t *gid, struct buf *err)
{
    struct group gr, *res = NULL;
    size_t size = PRIV_LOOKUP_BUF;
    char *scratch = NULL;
    int rc;

    do {
        scratch = xrealloc(scratch, size);
        rc = getgrnam_r(name, &gr, scratch, size, &res);
        size *= 2;
    } while (rc == ERANGE && size <= PRIV_LOOKUP_MAX);
    if (res == NULL) {
        if (rc != 0 && rc != ENOENT && rc != ESRCH)
            buf_printf(err, "look up group %s: %s", name, strerror(rc));
        else
            buf_printf(err, "unknown group: %s", name);
        free(scratch);
        return -1;
    }
    *gid = gr.gr_gid;
    free(scratch);
    return 0;
}

/* Is every capability flag of this process clear? 1, 0, or -1 on error. */
static int caps_all_clear(void)
{
    cap_t now = cap_get_proc(), none = cap_init();
    int ret;

    if (now == NULL || none == NULL)
        ret = -1;
    else
        ret = cap_compare(now, none) == 0;
    cap_free(now);
    cap_free(none);
    return ret;
}

/* Clear the effective, permitted and inheritable sets, and ambient ones. */
int priv_clear_caps(struct buf *err)
{
    cap_t none = cap_init();

    if (none == NULL) {
        buf_printf(err, "cap_init: %s", strerror(errno));
        return -1;
    }
    if (cap_set_proc(none) < 0) {
        buf_printf(err, "cap_set_proc: %s", strerror(errno));
        cap_free(none);
        return -1;
    }
    cap_free(none);
    /* Ambient capabilities may be absent from old kernels: ignore EINVAL. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
        && errno != EINVAL) {
        buf_printf(err, "clear ambient capabilities: %s", strerror(errno));
        return -1;
    }
    if (caps_all_clear() != 1) {
        buf_puts(err, "capabilities still set after clearing them");
        return -1;
    }
    return 0;
}

/* Set PR_SET_NO_NEW_PRIVS and check that it took. */
int priv_no_new_privs(struct buf *err)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        buf_printf(err, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        buf_puts(err, "PR_SET_NO_NEW_PRIVS did not take effect");
        return -1;
    }
    return 0;
}

/*
 * Remove every capability from the bounding set. Without CAP_SETPCAP (a
 * restricted container) this is only logged: after the uid change,
 * NO_NEW_PRIVS already stops exec from regaining anything.
 */
static int drop_bounding_set(struct buf *err)
{
    cap_value_t c;

    for (c = 0; CAP_IS_SUPPORTED(c); c++) {
        if (cap_drop_bound(c) < 0) {
            if (errno == EPERM) {
                msg_warn("cannot clear the capability bounding set: %s",
                         strerror(errno));
                return 0;
            }
            buf_printf(err, "drop capability %d from the bounding set: %s",
                       (int)c, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* chroot to dir and make it the working directory. */
static int enter_chroot(const char *dir, struct buf *err)
{
    if (chdir(dir) < 0 || chroot(dir) < 0 || chdir("/") < 0) {
        buf_printf(err, "chroot %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Set groups, gid and uid (real, effective and saved). */
static int set_ids(uid_t uid, gid_t gid, struct buf *err)
{
    if (setgroups(1, &gid) < 0) {
        buf_printf(err, "setgroups(%ld): %s", (long)gid, strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        buf_printf(err, "setgid(%ld): %s", (long)gid, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        buf_printf(err, "setuid(%ld): %s", (long)uid, strerror(errno));
        return -1;
    }
    return 0;
}

/* Check that the drop to uid/gid holds and cannot be undone. */
static int verify_drop(uid_t uid, gid_t gid, struct buf *err)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0
        || ru != uid || eu != uid || su != uid
        || rg != gid || eg != gid || sg != gid) {
        buf_puts(err, "user or group ids did not change as asked");
        return -1;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        buf_puts(err, "setuid(0) still works after dropping privileges");
        return -1;
    }
    if (caps_all_clear() != 1) {
        buf_puts(err, "capabilities remain after dropping privileges");
        return -1;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        buf_puts(err, "NO_NEW_PRIVS is not set");
        return -1;
    }
    return 0;
}

/* Give up root for good (see privilege.h). */
int priv_drop(uid_t uid, gid_t gid, const char *chroot_dir, struct buf *err)
{
    if (geteuid() != 0) {
        if (msg_verbose)
            msg_debug("not root: no user change%s", chroot_dir ? " and no chroot" : "");
        return priv_no_new_privs(err);
    }
    if (uid == 0) {
        buf_puts(err, "refusing to drop privileges to uid 0");
        return -1;
    }
    if (chroot_dir != NULL && enter_chroot(chroot_dir, err) < 0)
        return -1;
    if (drop_bounding_set(err) < 0 || set_ids(uid, gid, err) < 0
        || priv_clear_caps(err) < 0 || priv_no_new_privs(err) < 0)
        return -1;
    return verify_drop(uid, gid, err);
}
