/*
 * virtual - the virtual(8) delivery agent: mail for virtual mailbox
 * domains into Maildirs and mbox files under virtual_mailbox_base, each
 * written as the uid/gid the tables name. Shared declarations of its
 * files (virtual.c main, virtual_lookup.c tables and paths,
 * virtual_deliver.c one recipient).
 */
#ifndef POSTERN_VIRTUAL_H
#define POSTERN_VIRTUAL_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "deliver_agent.h"
#include "dict.h"
#include "maincf.h"
#include "resolve.h"

/* What virtual reads from main.cf once, and its open tables. */
struct virtual_ctx {
    struct dict **mailbox_maps, **uid_maps, **gid_maps;
    int nmailbox, nuid, ngid;
    struct resolver *resolver;      /* is the domain a virtual mailbox domain? */
    const char *base;               /* virtual_mailbox_base */
    const char *delimiters;         /* recipient_delimiter */
    long minimum_uid;
    uint64_t size_limit;            /* virtual_mailbox_limit */
    unsigned lock_flags;            /* MAILBOX_LOCK_* from virtual_mailbox_lock */
};

/* The outcome of one lookup step. */
enum virtual_status {
    VIRTUAL_OK = 0,
    VIRTUAL_UNKNOWN,                /* no such user: bounce 5.1.1 */
    VIRTUAL_TEMP,                   /* table failure: defer 4.3.0 */
    VIRTUAL_CONFIG,                 /* bad table content: defer 4.3.5 */
};

/* A recipient's mailbox, as the tables say. */
struct virtual_user {
    struct buf path;                /* base + table value */
    int maildir;                    /* value ended in '/' */
    uid_t uid;
    gid_t gid;
};

/* Open the tables and read the parameters; NULL with err (a config error). */
struct virtual_ctx *virtual_open(const struct config *cfg, struct buf *err);
void virtual_close(struct virtual_ctx *vc);

/*
 * Look the recipient up: domain class, mailbox, uid, gid. VIRTUAL_OK
 * fills u (path, maildir, uid, gid); otherwise why says what went wrong.
 */
enum virtual_status virtual_lookup_user(struct virtual_ctx *vc, const char *address,
                                        struct virtual_user *u, struct buf *why);

/*
 * base + "/" + value as the mailbox path (value may be absolute when base
 * is empty); *maildir when value ends in '/'. -1 with why for a value
 * that is empty or climbs out with a ".." component.
 */
int virtual_mailbox_path(const char *base, const char *value, struct buf *out,
                         int *maildir, struct buf *why);

/* Deliver every recipient of req (struct deliver_agent.deliver). */
void virtual_deliver_request(struct virtual_ctx *vc, struct delivery_request *req);

#endif
