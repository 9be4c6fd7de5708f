/*
 * eugid - run a piece of a root-owned delivery agent as the recipient,
 * the way Postfix's local and virtual do: switch the effective uid and
 * gid (and the supplementary groups) for one delivery, then switch back.
 *
 * eugid_set(uid, gid) as root: setgroups({gid}), setegid(gid),
 * seteuid(uid). eugid_restore(): seteuid(0), setegid(0), setgroups of
 * the original list. A failure of either is fatal for the delivery: set
 * returns -1 with errno (the caller defers), restore that fails is a
 * msg_fatal (the process must not go on with the wrong identity).
 *
 * Not root (an unprivileged instance): no identity can change. eugid_set
 * succeeds when uid is the process's own uid (gid is ignored) and fails
 * with EPERM otherwise; eugid_restore does nothing. eugid_privileged()
 * says which case applies.
 *
 * Fork-and-exec helpers (mailbox_command, |command, /file) drop
 * identity for good in the child with eugid_drop_forever(uid, gid):
 * setgroups, setgid, setuid (real and saved ids too), checked.
 */
#ifndef POSTERN_EUGID_H
#define POSTERN_EUGID_H

#include <sys/types.h>

int eugid_privileged(void);
int eugid_set(uid_t uid, gid_t gid);
void eugid_restore(void);
int eugid_drop_forever(uid_t uid, gid_t gid);

#endif
