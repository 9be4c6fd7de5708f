/*
 * trigger - wake a service by writing a few bytes to its UNIX socket,
 * the way master's wakeups, postdrop, pickup, smtpd, local and bounce
 * wake each other (Postfix's mail_trigger).
 *
 * trigger_send() connects without blocking, writes the bytes in one
 * write with SIGPIPE ignored, and closes. A service that is not running
 * is not an error for the caller to handle: the queue is durable and
 * master's periodic wakeup picks the work up; the -1 is for tools that
 * want to say "the mail system is down".
 */
#ifndef POSTERN_TRIGGER_H
#define POSTERN_TRIGGER_H

#include <stddef.h>

/* qmgr's trigger socket, relative to queue_directory. */
#define QMGR_TRIGGER_SOCKET "public/qmgr"
/* "new mail in incoming/" */
#define QMGR_TRIGGER_WAKEUP "W"

/* 0 when the bytes were written; -1 with errno otherwise. */
int trigger_send(const char *socket_path, const char *data, size_t len);

/* Tell qmgr (cwd = queue_directory) that incoming/ has new mail. */
void trigger_qmgr(void);

#endif
