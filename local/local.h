/*
 * local - the parts of the local delivery agent that share state: one
 * struct local_ctx per recipient being delivered, the identities that
 * deliveries run as, and the outcome that becomes the recipient's one
 * result (deliver_agent.h).
 *
 * A recipient may fan out (alias to several destinations, .forward): each
 * destination adds to the outcome with local_note(); the worst status
 * wins (defer over bounce over sent: a destination that failed for now
 * must be tried again, so the whole recipient is deferred even when
 * another destination bounced) and its text is the reason, while
 * successful texts are joined ("delivered to file: /x, forwarded as ID").
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "deliver_agent.h"
#include "local_alias.h"
#include "local_rcpt.h"
#include "maincf.h"

/* Ordered: a higher status wins (local_note). */
enum local_status { LOCAL_OK = 0, LOCAL_BOUNCE = 1, LOCAL_DEFER = 2 };

/* Where a |command or /file came from: allow_mail_to_commands/files. */
enum local_source { LOCAL_SRC_ALIAS, LOCAL_SRC_FORWARD, LOCAL_SRC_INCLUDE };

/* An identity to run as, with the attributes commands see. */
struct local_user {
    char *name;
    uid_t uid;
    gid_t gid;
    char *home;
    char *shell;
    int is_default_privs;           /* chosen for a root-owned alias database */
};

#define LOCAL_MAX_DEPTH     10      /* :include: nesting */
#define LOCAL_MAX_FORWARD   1000    /* addresses one recipient may re-queue */
#define LOCAL_MAX_OUTPUT    1000    /* command output kept for the reason */

struct local_ctx {
    struct delivery_request *req;
    size_t i;                       /* recipient index in req */
    const struct config *cfg;
    struct local_rcpt rcpt;
    char *delivered_to;             /* folded address for Delivered-To: */
    const char *original_to;        /* X-Original-To: or NULL */
    /* Outcome so far. */
    enum local_status status;
    char dsn[16];
    struct buf fail_text;           /* reason of the worst failure */
    struct buf ok_text;             /* joined success texts */
    int delivered;                  /* some destination was handled */
    /* Addresses to re-queue, and the sender for them. */
    char **fwd;
    size_t nfwd;
    char *fwd_sender;               /* NULL: the message's sender */
    int to_mailbox;                 /* deliver to the user's own mailbox too */
    /* :include: paths read and |command or /file destinations done (once each). */
    char **seen;
    size_t nseen;
};

/* Add one destination's outcome (see above). */
void local_note(struct local_ctx *c, enum local_status st, const char *dsn,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Look a user up (getpwnam); 1 found, 0 unknown, -1 error (why). A uid
 * without a passwd entry is -1 in a privileged instance (no safe group).
 */
int local_user_byname(const char *name, struct local_user *u, struct buf *why);
int local_user_byuid(uid_t uid, struct local_user *u, struct buf *why);
void local_user_free(struct local_user *u);
/* Can this process act as uid? 0, or -1 with a deferral reason in why. */
int local_can_become(uid_t uid, const char *name, struct buf *why);

/*
 * Commands and files never run as root: for uid 0 (root's .forward or
 * mailbox_command) fill tmp with default_privs and return it, else
 * return as. NULL (noted as a deferral) when default_privs is unusable
 * or, in a privileged instance, the identity has gid 0.
 */
const struct local_user *local_not_root(struct local_ctx *c, const struct local_user *as,
                                        struct local_user *tmp);

/* Is word in the list parameter name (allow_mail_to_*, prepend_...)? */
int local_param_has(const struct config *cfg, const char *name, const char *word);

/* local_command.c: pipe the message to cmd as user `as`; env from `rcpt_user`. */
void local_deliver_command(struct local_ctx *c, const char *cmd, const struct local_user *as,
                           const struct local_user *rcpt_user, int is_mailbox_command);
/* local_file.c: append to a file (or Maildir when it ends in '/') as `as`. */
void local_deliver_file(struct local_ctx *c, const char *path, const struct local_user *as);
/* local_mailbox.c: the user's own mailbox (mailbox_command, home_mailbox, spool). */
void local_deliver_mailbox(struct local_ctx *c, const struct local_user *u);
/* local_forward.c: queue the collected addresses as a new message. */
void local_forward_flush(struct local_ctx *c);
/* Collect an address for local_forward_flush(). */
void local_forward_add(struct local_ctx *c, const char *addr);

/*
 * local_dests.c: deliver a list of alias/.forward destinations: commands
 * and files as `as` (if src allows them; each distinct one once per
 * recipient), :include: files (depth-bounded, each path read once per
 * recipient, run as the file's owner only under default_privs),
 * addresses collected for re-queueing (ext appended when not NULL), and
 * the recipient's own name noted in c->to_mailbox. *no_forward is set
 * by a \user entry for the recipient itself.
 */
void local_dests(struct local_ctx *c, const struct local_dest_list *l,
                 enum local_source src, const struct local_user *as,
                 const struct local_user *rcpt_user, int depth, const char *ext,
                 int *no_forward);

/* local_aliases.c: open alias_maps once per process. */
void local_aliases_open(const struct config *cfg);
/* Expand the recipient through alias_maps: 1 expanded, 0 no alias, -1 deferred. */
int local_aliases(struct local_ctx *c, int *no_forward);

/* local_dotforward.c: the user's .forward: 1 used, 0 none (or deferred). */
int local_dotforward(struct local_ctx *c, const struct local_user *u);

#endif
