/*
 * delivery_log - the one log line of a recipient's delivery outcome, in
 * Postfix's shape, for delivery agents and for the results the queue
 * manager decides itself (error:, discard:, dead transports, expiry):
 *
 *   ID: to=<bob@example.test>, orig_to=<bob>, relay=local, delay=0.21,
 *       delays=0.1/0.01/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)
 *
 * orig_to appears only when the ORCPT ("rfc822;addr", xtext-decoded)
 * names another address. delay = now - arrival; delays = a/b/c/d with
 * a = arrival..active, b = active..agent start (or now when no agent
 * took it), c = agent start..connection set-up, d = the rest; an unset
 * time stamp (tv_sec == 0) makes its parts 0. Numbers are printed as
 * Postfix prints them: two significant digits, at most two decimals,
 * whole seconds from 10 s on, "0" below 0.01 s.
 */
#ifndef POSTERN_DELIVERY_LOG_H
#define POSTERN_DELIVERY_LOG_H

#include <sys/time.h>

#include "buf.h"

struct delivery_times {
    struct timeval arrival;         /* message arrival */
    struct timeval active;          /* qmgr took it into active/ */
    struct timeval agent_start;     /* agent started on it (0: no agent) */
    struct timeval conn_done;       /* connection set up (0: none) */
};

/* Append the delay value to - from (clamped at 0) as Postfix logs it. */
void delivery_log_delta(struct buf *out, const struct timeval *to,
                        const struct timeval *from);

/*
 * Append "ID: to=<..>, ..., status=STATUS (TEXT)" (no newline) to out,
 * with now as the end time. orcpt may be NULL or "".
 */
void delivery_log_format(struct buf *out, const char *queue_id, const char *rcpt,
                         const char *orcpt, const char *relay,
                         const struct delivery_times *t, const struct timeval *now,
                         const char *dsn, const char *status, const char *text);

/* Format as above with now = the current time, and log it with msg_info. */
void delivery_log(const char *queue_id, const char *rcpt, const char *orcpt,
                  const char *relay, const struct delivery_times *t,
                  const char *dsn, const char *status, const char *text);

#endif
