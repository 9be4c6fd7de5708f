/*
 * queue_tree - the directories under queue_directory, with the owner and
 * mode each must have, in one table (Postfix's postfix-files, in small).
 *
 * Started as root, queue directories belong to mail_owner, maildrop/ and
 * public/ to group setgid_group so that postdrop can reach them, and pid/
 * to root. Started as a normal user (an unprivileged instance), every
 * directory belongs to that user; the modes are the same.
 */
#ifndef POSTERN_QUEUE_TREE_H
#define POSTERN_QUEUE_TREE_H

#include <sys/types.h>

#include "buf.h"
#include "maincf.h"

struct queue_owner {
    uid_t mail_uid;
    gid_t mail_gid;
    gid_t setgid_gid;
    int privileged;     /* uid 0: ownership matters */
};

/* Who should own what, from main.cf and who we are. -1 with err. */
int queue_owner_resolve(const struct config *cfg, struct queue_owner *own,
                        struct buf *err);
/* Create missing directories, fix owner and mode of existing ones. */
int queue_tree_create(const struct config *cfg, const struct queue_owner *own,
                      struct buf *err);
/*
 * Append one line per problem to problems ("DIR: mode 0755, should be
 * 0700"); returns the number of problems.
 */
int queue_tree_check(const struct config *cfg, const struct queue_owner *own,
                     struct buf *problems);

#endif
