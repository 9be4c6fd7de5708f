/*
 * mail_date - the RFC 5322 date of Date:, Received: and bounce headers,
 * in local time, as Postfix's mail_date() writes it:
 *
 *   "Mon, 23 Nov 2026 18:26:17 +0000 (UTC)"
 *
 * The zone name in parentheses is left out when it is not plain
 * letters, digits, '+' or '-'.
 */
#ifndef POSTERN_MAIL_DATE_H
#define POSTERN_MAIL_DATE_H

#include <time.h>

#include "buf.h"

/* Append the date of when to out. */
void mail_date(struct buf *out, time_t when);

#endif
