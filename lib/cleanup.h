/*
 * cleanup - the one place where new mail is made ready for the queue,
 * used by smtpd (mail from the network) and pickup (local submission),
 * as DESIGN.md says: "Header and envelope clean-up happens once, on the
 * way into incoming/".
 *
 * What it does, with Postfix's parameters:
 *
 *   - envelope: unqualified addresses get @$myorigin (append_at_myorigin)
 *     and user@host gets .$mydomain when append_dot_mydomain = yes;
 *     canonical_maps, sender_canonical_maps, recipient_canonical_maps;
 *     masquerade_domains with masquerade_exceptions and
 *     masquerade_classes (envelope_sender, envelope_recipient,
 *     header_sender, header_recipient); virtual_alias_maps expansion of
 *     each recipient (recursive, at most virtual_alias_recursion_limit
 *     deep and virtual_alias_expansion_limit wide, loops detected: an
 *     address that expands to itself is kept), duplicates removed;
 *   - headers: the same rewriting of From:, Sender:, Reply-To:, To:,
 *     Cc:, Bcc: ...; a Received: header on top; Message-ID:, Date: and
 *     (local submission only) From: added when missing; Bcc: removed for
 *     local submission; Received: headers counted against
 *     hopcount_limit (554 5.4.6 "too many hops"); the header block
 *     bounded by header_size_limit (552 5.3.4 "message header size
 *     exceeds limit"), folded headers joined for parsing but written as
 *     they came;
 *   - sendmail -t: recipients taken from To:, Cc:, Bcc: (cleanup_opts.
 *     extract_recipients).
 *
 * Content arrives a line at a time (as smtp_data.h delivers it, or as
 * pickup reads it from maildrop/): lines without their line ending,
 * possibly in several pieces per line. cleanup buffers only the header
 * block (bounded); the body is streamed straight into the queue file.
 * The queue file (queue_file.h) gets its envelope before any content,
 * which is why recipients are written when the header block ends.
 *
 * Every function returns a struct cleanup_status: CLEANUP_OK, or a
 * temporary failure (a table lookup failed: 451 4.3.0, the caller
 * answers 4xx and the client retries) or a permanent rejection (5xx),
 * with the SMTP reply code, the RFC 3463 code and a text the caller can
 * send as is. A failure of cleanup_rcpt concerns that recipient only (the
 * caller refuses that RCPT); any other failure abandons the message: the
 * caller calls cleanup_free() and queue_file_abort(). cleanup_begin
 * returns NULL on failure, with *st filled in.
 */
#ifndef POSTERN_CLEANUP_H
#define POSTERN_CLEANUP_H

#include <stddef.h>
#include <sys/time.h>

#include "buf.h"
#include "maincf.h"
#include "queue_file.h"

enum cleanup_result {
    CLEANUP_OK = 0,
    CLEANUP_TEMPFAIL = 1,       /* 4xx: try again later */
    CLEANUP_REJECT = 2,         /* 5xx: never */
};

struct cleanup_status {
    enum cleanup_result result;
    int code;                   /* SMTP reply code, e.g. 451, 554 */
    char enh[16];               /* RFC 3463, e.g. "4.3.0" */
    char text[512];             /* e.g. "Error: too many hops" */
};

/* Per process: main.cf settings and the tables cleanup uses, opened once. */
struct cleanup;

/* Open every table cleanup needs (canonical, masquerade, virtual alias). */
struct cleanup *cleanup_open(const struct config *cfg, struct buf *err);
void cleanup_close(struct cleanup *c);

struct cleanup_envelope {
    const char *sender;         /* as given: "" for <>, may be unqualified */
    const char *client_name;    /* "localhost" or "unknown"; NULL for local submission */
    const char *client_addr;    /* "127.0.0.1"; NULL for local */
    const char *helo;           /* HELO/EHLO argument, NULL if none */
    const char *protocol;       /* "SMTP", "ESMTP", "ESMTPS", "ESMTPSA", "LOCAL" */
    const char *login_user;     /* local submission: the submitting user (Received:) */
    const char *full_name;      /* sendmail -F, for an added From: */
    const char *envid;          /* DSN ENVID or NULL */
    int ret;                    /* 0, QF_RET_FULL, QF_RET_HDRS (queue_file.h) */
    /* MAIL FROM BODY=: "7bit", "8bit" (8BITMIME) or NULL; kept as the queue
     * file attribute "encoding", so the smtp client can send BODY=8BITMIME. */
    const char *encoding;
    int local_submission;       /* add From: when missing, remove Bcc: */
    int extract_recipients;     /* sendmail -t */
};

/* One message in progress. */
struct cleanup_msg;

/*
 * Start a message that will be written through w (created by the caller
 * with queue_file_create, committed by the caller after cleanup_finish).
 * env and the strings it points to are used until cleanup_free: they
 * must live as long as the message.
 */
struct cleanup_msg *cleanup_begin(struct cleanup *c, struct queue_file_writer *w,
                                  const struct cleanup_envelope *env,
                                  struct cleanup_status *st);
/*
 * Add an envelope recipient: rewritten, canonicalised and virtual-alias
 * expanded; the results are kept until the header block ends. orcpt is
 * the DSN ORCPT as given ("rfc822;a@b"), or NULL, in which case the
 * original address is recorded as ORCPT when expansion changed it.
 */
struct cleanup_status cleanup_rcpt(struct cleanup_msg *m, const char *rcpt,
                                   const char *orcpt, unsigned notify);
/* One piece of a content line (line_end 1 ends the line). */
struct cleanup_status cleanup_content(struct cleanup_msg *m, const char *data, size_t len,
                                      int line_end);
/*
 * End of content: flush headers (adding what is missing) if the message
 * had no body, write the size. The caller then commits the queue file
 * and only then answers 250. Fails if no recipient remains.
 */
struct cleanup_status cleanup_finish(struct cleanup_msg *m);
/* Recipients after expansion (valid after cleanup_finish), for logging. */
size_t cleanup_rcpt_count(const struct cleanup_msg *m);
void cleanup_free(struct cleanup_msg *m);

#endif
