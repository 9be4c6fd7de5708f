/*
 * privilege - giving up what a service does not need, for good.
 *
 * priv_drop() is the one place where a root-started service chroots,
 * changes user and group, clears its capabilities (libcap) and sets
 * PR_SET_NO_NEW_PRIVS; it then verifies that none of it can be undone. A
 * process that is not root has nothing to drop and only gets
 * NO_NEW_PRIVS.
 */
#ifndef POSTERN_PRIVILEGE_H
#define POSTERN_PRIVILEGE_H

#include <sys/types.h>

#include "buf.h"

int priv_lookup_user(const char *name, uid_t *uid, gid_t *gid, struct buf *err);
int priv_lookup_group(const char *name, gid_t *gid, struct buf *err);

/*
 * chroot_dir may be NULL (no chroot). When running as root: chroot +
 * chdir("/"), setgroups to gid only, setgid, setuid, clear every
 * capability, NO_NEW_PRIVS, then check that setuid(0) fails and the
 * effective capability set is empty. 0 on success, -1 with err.
 */
int priv_drop(uid_t uid, gid_t gid, const char *chroot_dir, struct buf *err);
/* Clear the effective, permitted and inheritable capability sets. */
int priv_clear_caps(struct buf *err);
int priv_no_new_privs(struct buf *err);

#endif
