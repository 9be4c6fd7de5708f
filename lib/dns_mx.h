/*
 * dns_mx - find the addresses to deliver a domain's mail to, the way
 * Postfix's smtp client does, over the system resolver (libresolv).
 *
 * With MX lookup: the domain's MX records, sorted by preference with
 * equal preferences in random order; then each MX host's A and AAAA
 * records, in that order, up to a limit. No MX records (NOERROR without
 * data): the domain's own A/AAAA records. A null MX (RFC 7505: one MX
 * "." of preference 0) bounces 5.1.0. When one of the MX hosts is this
 * machine (its name is myhostname, or one of its addresses is an
 * address of this machine), MX hosts of that preference and worse are
 * dropped; none left bounces 5.4.6 "mail for DOMAIN loops back to
 * myself". Without MX lookup ("[host]" next hops): the host's A/AAAA
 * records, or the address itself when it is an IP literal.
 *
 * Failures come back as an RFC 3463 code and Postfix's text: NXDOMAIN
 * (and a name without any address) bounces 5.4.4 "Host or domain name not
 * found. Name service error for name=N type=T: Host not found"; SERVFAIL,
 * timeouts and malformed answers defer 4.4.3 ("..., try again").
 *
 * The answer parsers take raw DNS messages and are bounded by the
 * message: every name and record is checked against its end (ns_initparse
 * / ns_parserr / ns_name_uncompress), so crafted answers are safe input.
 */
#ifndef POSTERN_DNS_MX_H
#define POSTERN_DNS_MX_H

#include <stddef.h>

#include "buf.h"

#define DNS_MAX_NAME    1025            /* NS_MAXDNAME */
#define DNS_MAX_RECORDS 100             /* MX or address records kept per answer */
#define DNS_MAX_ADDRS   100             /* addresses per delivery, whatever the limit */

enum dns_status {
    DNS_OK = 0,
    DNS_NODATA,                 /* the name exists, no record of that type */
    DNS_NOTFOUND,               /* NXDOMAIN */
    DNS_RETRY,                  /* SERVFAIL, timeout, malformed: try later */
};

struct dns_mx {
    char name[DNS_MAX_NAME];    /* "" for the root (null MX) */
    unsigned pref;
};

struct dns_mx_list {
    struct dns_mx *mx;
    size_t count;
};

struct dns_addr {
    char host[DNS_MAX_NAME];    /* the name it came from */
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    char ip[46];                /* printable */
    unsigned pref;              /* of its MX (0 without MX) */
};

struct dns_addr_list {
    struct dns_addr *a;
    size_t count;
    size_t cap;
};

/* The query function: like res_query(); on -1, *herr holds an h_errno value. */
typedef int (*dns_query_fn)(void *ctx, const char *name, int type,
                            unsigned char *answer, int anslen, int *herr);

struct dns_resolver {
    dns_query_fn query;         /* NULL: res_query() */
    void *ctx;
    unsigned (*random)(void *ctx);  /* NULL: random() */
    /* Is this address one of ours? NULL: this machine's interface addresses. */
    int (*is_local)(void *ctx, int family, const unsigned char *addr);
    int want_ipv4;
    int want_ipv6;
};

/*
 * Parse a DNS answer to an MX query: records of type MX in the answer
 * section (at most DNS_MAX_RECORDS, unsorted). The header's RCODE
 * decides NOTFOUND (NXDOMAIN) and RETRY (anything else but NOERROR).
 * why says what was wrong for RETRY.
 */
enum dns_status dns_parse_mx(const unsigned char *ans, size_t len,
                             struct dns_mx_list *out, struct buf *why);
/* Parse an A (type 1) or AAAA (type 28) answer, appending to out. */
enum dns_status dns_parse_addr(const unsigned char *ans, size_t len, int type,
                               const char *host, unsigned pref,
                               struct dns_addr_list *out, struct buf *why);

/* Sort by preference; equal preferences in random order. */
void dns_mx_sort(struct dns_mx_list *list, const struct dns_resolver *res);

void dns_mx_list_free(struct dns_mx_list *list);
void dns_addr_list_init(struct dns_addr_list *list);
void dns_addr_list_free(struct dns_addr_list *list);

/*
 * The addresses for name (see the top). limit: most addresses to return
 * (0: DNS_MAX_ADDRS). myhostname: for the "MX points to myself" check
 * (may be NULL). Returns 0 with at least one address, or -1 with dsn
 * (at least 8 bytes) and why set.
 */
int dns_mx_resolve(const struct dns_resolver *res, const char *name, int use_mx,
                   const char *myhostname, size_t limit, struct dns_addr_list *out,
                   char *dsn, struct buf *why);

#endif
