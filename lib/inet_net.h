/*
 * inet_net - IPv4/IPv6 addresses and networks, for mynetworks-style
 * lists ("127.0.0.0/8", "[::1]/128", "::1/128", "[2001:db8::]/32",
 * "192.0.2.1", "[192.0.2.1]").
 *
 * A network must not have bits set past its prefix length
 * ("10.0.0.1/8" is an error, as in Postfix), and the prefix length must
 * be a decimal number up to 32 (IPv4) or 128 (IPv6). Zone ids
 * ("fe80::1%eth0") are refused. An IPv4-mapped IPv6 address
 * ("::ffff:192.0.2.1") given as a client address is matched as the IPv4
 * address it carries, as Postfix's smtpd does.
 */
#ifndef POSTERN_INET_NET_H
#define POSTERN_INET_NET_H

#include "buf.h"

struct inet_net {
    int family;                     /* AF_INET or AF_INET6 */
    unsigned prefix;                /* 0..32 or 0..128 */
    unsigned char net[16];          /* network bits (host bits zero) */
    unsigned char mask[16];
};

struct inet_addr {
    int family;                     /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
};

/*
 * Parse "addr", "addr/len", "[addr]", "[addr]/len" or "[addr/len]".
 * Returns 0, or -1 with a message (naming the text) in err.
 */
int inet_net_parse(const char *text, struct inet_net *net, struct buf *err);

/*
 * Parse a client address ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"
 * which becomes IPv4; optional brackets allowed). 0 or -1.
 */
int inet_addr_parse(const char *text, struct inet_addr *addr);

/* Is addr inside net (same family only)? 1 or 0. */
int inet_net_match(const struct inet_net *net, const struct inet_addr *addr);

/*
 * The normal printable form of a client address (IPv4-mapped IPv6 made
 * IPv4, IPv6 in inet_ntop's compressed form) into out (at least 46
 * bytes). -1 when text is not an address (out is then a copy of text,
 * truncated).
 */
int inet_addr_normalize(const char *text, char *out, size_t outlen);

#endif
