/*
 * bounce_proto - the conversation between qmgr and the bounce service
 * (queue_directory/private/bounce), one request and one reply per
 * connection, in ipc_frame.h frames.
 *
 *   request=flush   queue_id=ID  queue_name=active|deferred
 *       Build the non-delivery notification for message ID from
 *       bounce/ID (dsn_log.h) and the queue file QUEUE_NAME/ID, queue it
 *       in incoming/ (durably, as a new message from <> ), wake qmgr,
 *       then remove bounce/ID. Recipients with NOTIFY=NEVER, or with a
 *       NOTIFY that leaves out FAILURE, are left out of the report; when
 *       none is left, nothing is sent.
 *
 *   request=warn    queue_id=ID  queue_name=...
 *       A delay warning from defer/ID (only recipients whose NOTIFY
 *       allows DELAY, or did not say); defer/ID stays.
 *
 *   request=trace   queue_id=ID  queue_name=...
 *       A success notification (NOTIFY=SUCCESS) from trace/ID; then
 *       trace/ID is removed.
 *
 *   reply: status=ok [queue_id=NEWID]     (NEWID of the notification, if any)
 *          status=fail reason=TEXT        qmgr keeps the message and
 *                                         tries again later
 *
 * Who gets what (Postfix's rules):
 *   - sender not <>: the notification goes to the sender, from <>;
 *     with notify_classes containing "bounce" (or "delay" for warnings)
 *     a copy with headers only goes to bounce_notice_recipient
 *     (delay_notice_recipient);
 *   - sender <> (a bounce that bounced): a double bounce to
 *     2bounce_notice_recipient when notify_classes has "2bounce",
 *     from double_bounce_sender; otherwise it is dropped and logged;
 *   - sender is double_bounce_sender@...: dropped and logged
 *     ("undeliverable postmaster notification discarded").
 *
 * The notification is RFC 3464 multipart/report; report-type=
 * delivery-status: a human part, a message/delivery-status part and the
 * original message (RET=FULL) or its headers (RET=HDRS, or the message
 * is larger than bounce_size_limit) as message/rfc822 or
 * text/rfc822-headers.
 */
#ifndef POSTERN_BOUNCE_PROTO_H
#define POSTERN_BOUNCE_PROTO_H

#define BOUNCE_SERVICE      "bounce"
#define BOUNCE_SOCKET       "private/" BOUNCE_SERVICE

#define BOUNCE_REQ_FLUSH    "flush"
#define BOUNCE_REQ_WARN     "warn"
#define BOUNCE_REQ_TRACE    "trace"

#define BOUNCE_STAT_OK      "ok"
#define BOUNCE_STAT_FAIL    "fail"

#endif
