/*
 * smtp_nexthop - the next hop that qmgr hands the smtp/lmtp client (from
 * relayhost, transport_maps or the recipient's domain), parsed:
 *
 *   SMTP:  domain   domain:port   [host]   [host]:port   [ipv6:addr]:port
 *   LMTP:  unix:/path   inet:host   inet:host:port   host   [host]:port
 *
 * Brackets turn MX lookup off (SMTP); LMTP never looks up MX records.
 * The port is a number 1..65535 or the service name smtp (25) or lmtp
 * (24); the default is 25 for SMTP and 24 for LMTP. A host is letters,
 * digits, '.', '-' and '_' (and ':' inside brackets, for IPv6), at most
 * 1025 bytes; anything else is a syntax error, never a lookup.
 */
#ifndef POSTERN_SMTP_NEXTHOP_H
#define POSTERN_SMTP_NEXTHOP_H

#include "buf.h"

struct smtp_nexthop {
    char host[1026];            /* host name or address, no brackets */
    char path[1024];            /* unix-domain socket path (LMTP) */
    unsigned port;
    int use_mx;                 /* look up MX records */
    int is_unix;
};

/* Parse a next hop for SMTP (lmtp 0) or LMTP; -1 with why for bad syntax. */
int smtp_nexthop_parse(const char *text, int lmtp, struct smtp_nexthop *hop,
                       struct buf *why);

#endif
