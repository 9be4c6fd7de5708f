/*
 * mailbox - writing one message into a mailbox, as local and virtual do:
 * the copy (with the headers a delivery agent prepends), Maildir
 * delivery and mbox delivery, each durable before it returns success.
 *
 * COPY. mail_copy() writes the queue file's content (LF line endings,
 * dot-unstuffed) to a descriptor, with, in this order and each on request:
 *
 *   From SENDER DATE        (MAIL_COPY_FROM_LINE, mbox; "MAILER-DAEMON"
 *                           for <>, asctime-style date)
 *   Return-Path: <SENDER>   (MAIL_COPY_RETURN_PATH)
 *   Delivered-To: ADDR      (MAIL_COPY_DELIVERED; ADDR = opts.delivered_to)
 *   X-Original-To: ADDR     (when opts.original_to is not NULL)
 *   the message             (">From " quoting of body lines that start with
 *                           "From " when MAIL_COPY_QUOTE; a missing final
 *                           newline added)
 *   an empty line           (MAIL_COPY_BLANK, mbox)
 *
 * Writes are buffered (never the whole message in memory). Returns 0, or
 * -1 with why and errno (ENOSPC, EDQUOT, EFBIG for the size limit ...).
 *
 * MAILDIR. maildir_deliver() writes DIR/tmp/UNIQUE with O_EXCL|O_NOFOLLOW,
 * mode 0600, fsyncs it, renames (link+unlink, never replacing) it to
 * DIR/new/UNIQUE and fsyncs new/. UNIQUE is Maildir's
 * "SEC.M<usec>P<pid>Q<count>.HOST,S=SIZE" (HOST with / and : escaped).
 * Missing DIR, DIR/tmp, DIR/new, DIR/cur are created (0700) when
 * MAILBOX_CREATE is set; every component is opened without following a
 * symlink at its last step. On any failure nothing is left in new/ and
 * the tmp file is removed.
 *
 * MBOX. mbox_deliver() opens PATH with O_APPEND|O_NOFOLLOW (created 0600
 * when missing and MAILBOX_CREATE), refuses a file that is not a regular
 * file, has more than one link, or is not owned by opts.owner (when
 * opts.check_owner), takes the locks asked for (MAILBOX_LOCK_DOTLOCK:
 * PATH.lock created O_EXCL, stale after 300 s; MAILBOX_LOCK_FCNTL: a
 * write lock on the whole file; both bounded: give up after 30 s with a
 * temporary error), appends with the mbox copy flags, fsyncs, and on any
 * error truncates the file back to its old size before it unlocks.
 *
 * Both honour opts.size_limit (mailbox_size_limit / virtual_mailbox_limit;
 * 0 = none): for mbox, old size + new message; for Maildir, the message.
 *
 * Callers run these with the recipient's effective uid/gid already set
 * (eugid.h); nothing here changes identity.
 *
 * RESULT. 0 delivered; -1 failed, with *is_temp 1 for a temporary problem
 * (I/O error, lock busy, disk full, an mbox owned by someone else when
 * check_owner: Postfix defers that too) or 0 for a permanent one (not a
 * regular file, symlink, over the size limit), and why set
 * to a text for the log ("cannot update mailbox /var/mail/bob: ...").
 * errno is left set, so that a caller can pick its DSN (EFBIG: over the
 * size limit, EDQUOT: over quota; both "5.2.2 mailbox full").
 */
#ifndef POSTERN_MAILBOX_H
#define POSTERN_MAILBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "queue_file.h"

#define MAIL_COPY_FROM_LINE     0x01
#define MAIL_COPY_RETURN_PATH   0x02
#define MAIL_COPY_DELIVERED     0x04
#define MAIL_COPY_QUOTE         0x08
#define MAIL_COPY_BLANK         0x10
#define MAIL_COPY_MBOX  (MAIL_COPY_FROM_LINE | MAIL_COPY_RETURN_PATH | \
                         MAIL_COPY_DELIVERED | MAIL_COPY_QUOTE | MAIL_COPY_BLANK)
#define MAIL_COPY_MAILDIR (MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED)

#define MAILBOX_CREATE          0x01
#define MAILBOX_LOCK_DOTLOCK    0x02
#define MAILBOX_LOCK_FCNTL      0x04
/* With DOTLOCK: go on without the dot-lock when PATH.lock cannot be
 * created at all (no write permission in the directory), as Postfix's
 * virtual does; a lock held by someone else is still waited for. */
#define MAILBOX_DOTLOCK_MAY_FAIL 0x08

struct mailbox_opts {
    unsigned copy_flags;        /* MAIL_COPY_* */
    unsigned flags;             /* MAILBOX_* */
    const char *sender;         /* "" for <> */
    const char *delivered_to;   /* for Delivered-To: */
    const char *original_to;    /* NULL: no X-Original-To: */
    uint64_t size_limit;        /* 0: none */
    int check_owner;            /* mbox: refuse a file not owned by owner */
    uid_t owner;
};

/* Copy the message to fd as described above; 0 or -1 with why. */
int mail_copy(struct queue_file *qf, int fd, const struct mailbox_opts *o,
              uint64_t *written, struct buf *why);

int maildir_deliver(const char *dir, struct queue_file *qf,
                    const struct mailbox_opts *o, int *is_temp, struct buf *why);

int mbox_deliver(const char *path, struct queue_file *qf,
                 const struct mailbox_opts *o, int *is_temp, struct buf *why);

/*
 * Does the message header already hold "Delivered-To: ADDR" (case-
 * insensitive, folded lines joined)? 1 yes, 0 no, -1 read error. Agents
 * bounce such mail as a loop (5.4.6 "mail forwarding loop for ADDR").
 * Reads the header block only.
 */
int mail_has_delivered_to(struct queue_file *qf, const char *addr, struct buf *why);

#endif
