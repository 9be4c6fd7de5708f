/*
 * bounce - the parts of the bounce service (lib/bounce_proto.h) that
 * its files share.
 */
#ifndef POSTERN_BOUNCE_H
#define POSTERN_BOUNCE_H

#include "buf.h"
#include "dsn_log.h"
#include "dsn_notify.h"
#include "ipc_frame.h"
#include "maincf.h"
#include "queue_file.h"

/*
 * Serve one request (flush, warn or trace) and fill the reply:
 * status=ok [queue_id=NEWID] or status=fail reason=TEXT. Works in the
 * current directory, which is queue_directory.
 */
void bounce_serve(const struct config *cfg, const struct ipc_record *req,
                  struct ipc_record *reply);

/*
 * Queue one notification about orig (the n entries of v) in incoming/
 * from env_sender to opts->to, durably, and wake qmgr. opts->kind,
 * postmaster_copy and headers_only are the caller's; the rest is filled
 * in from cfg and the new file. 0 with its ID in newid, or -1 with why
 * (nothing is left in incoming/ then).
 */
int bounce_queue_notice(const struct config *cfg, struct queue_file *orig,
                        const struct dsn_entry *v, size_t n,
                        struct dsn_notify_opts *opts, const char *env_sender,
                        char newid[QUEUE_ID_SIZE], struct buf *why);

#endif
