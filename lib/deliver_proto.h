/*
 * deliver_proto - the conversation between qmgr and a delivery agent
 * (local, virtual, smtp, lmtp, relay, ...), the way Postfix's qmgr talks
 * to its agents: one request, one reply, per connection.
 *
 * qmgr connects to queue_directory/private/TRANSPORT (the master.cf
 * service named by the transport), sends one request frame (ipc_frame.h)
 * and waits up to daemon_timeout for one reply frame; then both sides
 * close. An agent process takes one request at a time (master starts up
 * to maxproc of them), so qmgr's parallelism is the number of open
 * connections.
 *
 * REQUEST (qmgr -> agent)
 *
 *   request=deliver
 *   queue_id=ID                 the message
 *   queue_name=active           its queue; the file is QUEUE_NAME/ID
 *                               relative to queue_directory (hash depth 0)
 *   nexthop=NEXTHOP             from the transport: "example.com",
 *                               "[192.0.2.1]:2525", "unix:/path" (lmtp),
 *                               the host name for local, or the text for
 *                               a transport that needs none
 *   sender=ADDR                 envelope sender, "" for <>
 *   arrival=USEC                message arrival, microseconds since epoch
 *   active=USEC                 when qmgr moved it into active/
 *   dispatch=USEC               when qmgr sent this request
 *   rcpt_count=N                1..DELIVER_MAX_RCPT
 *   rcpt_I=OFFSET               for I = 0..N-1: the byte offset of recipient
 *                               I's R record in the queue file (qf_rcpt.offset);
 *                               it names the recipient. The agent reads the
 *                               address, ORCPT and NOTIFY from the queue file.
 *
 * The agent opens QUEUE_NAME/ID read-only (queue_file_open), finds each
 * offset among the file's recipients, and delivers. An offset that names
 * no recipient, or one already marked done, is a protocol error for that
 * recipient (result deferred, text "bad recipient offset").
 *
 * REPLY (agent -> qmgr)
 *
 *   status=ok                   every recipient has a result below
 *   status=fail reason=TEXT     the request itself failed (unreadable
 *                               queue file, malformed request): qmgr defers
 *                               every recipient with TEXT
 *   dest_failed=1               optional: the destination itself failed
 *                               (no MX answered, connection refused, 421
 *                               greeting); qmgr defers the destination's
 *                               other pending mail without trying it, for
 *                               minimal_backoff_time
 *   and for I = 0..N-1, in request order:
 *   result_I=sent|deferred|bounced
 *   dsn_I=X.Y.Z                 RFC 3463 status (2.x.x, 4.x.x, 5.x.x)
 *   text_I=TEXT                 the reason, as logged in "status=... (TEXT)"
 *   diag_I=TYPE; TEXT           optional: RFC 3464 Diagnostic-Code, e.g.
 *                               "smtp; 550 5.1.1 <bob@x>: user unknown"
 *   mta_I=TYPE; NAME            optional: RFC 3464 Remote-MTA, "dns; mx.x.org"
 *   action_I=ACTION             optional: RFC 3464 action for a sent
 *                               recipient: delivered (default), relayed
 *                               (handed to a peer that does no DSN) or
 *                               expanded (alias to several addresses)
 *
 * A result_I that is missing or not one of the three words means
 * deferred. The agent logs each recipient's outcome itself, in Postfix's
 * shape (deliver_agent.h); qmgr marks a recipient done in the queue file
 * only for sent and bounced results, after it has recorded a bounced
 * result in bounce/ID (dsn_log.h). A connection that closes without a
 * reply, or a reply that does not decode, defers every recipient of the
 * request ("unknown delivery status"): delivery may then happen twice,
 * never zero times.
 */
#ifndef POSTERN_DELIVER_PROTO_H
#define POSTERN_DELIVER_PROTO_H

#define DELIVER_REQ_DELIVER     "deliver"
#define DELIVER_STAT_OK         "ok"
#define DELIVER_STAT_FAIL       "fail"

#define DELIVER_RES_SENT        "sent"
#define DELIVER_RES_DEFERRED    "deferred"
#define DELIVER_RES_BOUNCED     "bounced"

/* Recipients per request: keeps a reply (up to 6 attributes each) far
 * below IPC_MAX_ATTRS. qmgr never sends more. */
#define DELIVER_MAX_RCPT        150

/* Longest text_I / diag_I / mta_I value an agent sends (longer is cut). */
#define DELIVER_MAX_TEXT        1000

#endif
