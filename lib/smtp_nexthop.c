/*
 * smtp_nexthop - parse the smtp/lmtp client's next hop (see smtp_nexthop.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_nexthop.h"

/* A port number or known service name; 0 if bad. */
static unsigned parse_port(const char *s)
{
    char *end;
    unsigned long v;

    if (strcasecmp(s, "smtp") == 0)
        return 25;
    if (strcasecmp(s, "lmtp") == 0)
        return 24;
    if (*s < '0' || *s > '9' || strlen(s) > 5)
        return 0;
    v = strtoul(s, &end, 10);
    return *end == 0 && v >= 1 && v <= 65535 ? (unsigned)v : 0;
}

/* Is this a host name, IPv4 or (in brackets) IPv6 address we may look up? */
static int host_ok(const char *h, int bracketed)
{
    if (*h == 0 || strlen(h) > 1025)
        return 0;
    for (; *h; h++) {
        unsigned char c = (unsigned char)*h;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '-' || c == '_' || (bracketed && c == ':')))
            return 0;
    }
    return 1;
}

/* Parse a next hop. */
int smtp_nexthop_parse(const char *text, int lmtp, struct smtp_nexthop *hop,
                       struct buf *why)
{
    char tmp[1100];
    char *host, *port = NULL;
    int bracketed = 0;

    memset(hop, 0, sizeof(*hop));
    hop->port = lmtp ? 24 : 25;
    buf_reset(why);
    if (lmtp && strncmp(text, "unix:", 5) == 0) {
        if (text[5] == 0 || strlen(text + 5) >= sizeof(hop->path)) {
            buf_printf(why, "bad LMTP destination: %s", text);
            return -1;
        }
        hop->is_unix = 1;
        snprintf(hop->path, sizeof(hop->path), "%s", text + 5);
        snprintf(hop->host, sizeof(hop->host), "%s", text + 5);
        return 0;
    }
    if (strncmp(text, "inet:", 5) == 0)
        text += 5;
    if (strlen(text) >= sizeof(tmp)) {
        buf_printf(why, "next-hop name too long");
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s", text);
    host = tmp;
    if (*host == '[') {
        char *close = strchr(host, ']');

        if (close == NULL || (close[1] != 0 && close[1] != ':'))
            goto bad;
        *close = 0;
        host++;
        if (close[1] == ':')
            port = close + 2;
        bracketed = 1;
        if (strncasecmp(host, "ipv6:", 5) == 0)
            host += 5;
    } else if ((port = strchr(host, ':')) != NULL) {
        *port++ = 0;
    }
    if (port && (hop->port = parse_port(port)) == 0)
        goto bad;
    if (!host_ok(host, bracketed))
        goto bad;
    snprintf(hop->host, sizeof(hop->host), "%s", host);
    hop->use_mx = !lmtp && !bracketed;
    return 0;

bad:
    buf_printf(why, "bad next-hop syntax: %s", text);
    return -1;
}
