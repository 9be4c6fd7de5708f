/*
 * dns_mx - MX and address lookup for the smtp client over libresolv:
 * answer parsing, preference order, null MX, MX-points-to-myself, and
 * the Postfix-shaped failure texts (see dns_mx.h).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns_mx.h"
#include "mem.h"

#define ANSWER_SIZE 65536

/* Start parsing a message; map its RCODE and errors to a status. */
static enum dns_status open_msg(const unsigned char *ans, size_t len, ns_msg *msg,
                                struct buf *why)
{
    int rcode;

    if (len < NS_HFIXEDSZ || len > ANSWER_SIZE || ns_initparse(ans, (int)len, msg) < 0) {
        buf_set(why, "malformed name server reply");
        return DNS_RETRY;
    }
    rcode = ns_msg_getflag(*msg, ns_f_rcode);
    if (rcode == ns_r_nxdomain)
        return DNS_NOTFOUND;
    if (rcode != ns_r_noerror) {
        buf_set(why, rcode == ns_r_servfail ? "server failure" : "name server error");
        return DNS_RETRY;
    }
    return DNS_OK;
}

/* Parse an MX answer. */
enum dns_status dns_parse_mx(const unsigned char *ans, size_t len,
                             struct dns_mx_list *out, struct buf *why)
{
    ns_msg msg;
    ns_rr rr;
    enum dns_status st;
    int i, n;

    out->count = 0;
    if ((st = open_msg(ans, len, &msg, why)) != DNS_OK)
        return st;
    n = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < n; i++) {
        struct dns_mx *mx;
        const unsigned char *rd;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            buf_set(why, "malformed name server reply");
            return DNS_RETRY;
        }
        if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
            continue;
        if (out->count >= DNS_MAX_RECORDS)
            break;
        rd = ns_rr_rdata(rr);
        if (ns_rr_rdlen(rr) < 3) {
            buf_set(why, "malformed MX record");
            return DNS_RETRY;
        }
        if (out->mx == NULL)
            out->mx = xcalloc(DNS_MAX_RECORDS, sizeof(*out->mx));
        mx = &out->mx[out->count];
        mx->pref = ns_get16(rd);
        if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd + 2,
                               mx->name, sizeof(mx->name)) < 0) {
            buf_set(why, "malformed MX record");
            return DNS_RETRY;
        }
        if (strcmp(mx->name, ".") == 0)
            mx->name[0] = 0;
        out->count++;
    }
    return out->count ? DNS_OK : DNS_NODATA;
}

/* Append one address to a list (bounded). */
static void add_addr(struct dns_addr_list *out, const char *host, int family,
                     const void *addr, unsigned pref)
{
    struct dns_addr *a;

    if (out->count >= DNS_MAX_ADDRS)
        return;
    if (out->count == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        out->a = xreallocarray(out->a, out->cap, sizeof(*out->a));
    }
    a = &out->a[out->count++];
    memset(a, 0, sizeof(*a));
    snprintf(a->host, sizeof(a->host), "%s", host);
    a->family = family;
    memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
    inet_ntop(family, addr, a->ip, sizeof(a->ip));
    a->pref = pref;
}

/* Parse an A or AAAA answer. */
enum dns_status dns_parse_addr(const unsigned char *ans, size_t len, int type,
                               const char *host, unsigned pref,
                               struct dns_addr_list *out, struct buf *why)
{
    ns_msg msg;
    ns_rr rr;
    enum dns_status st;
    int i, n, found = 0;
    size_t want = type == ns_t_a ? 4 : 16;

    if ((st = open_msg(ans, len, &msg, why)) != DNS_OK)
        return st;
    n = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < n && found < DNS_MAX_RECORDS; i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            buf_set(why, "malformed name server reply");
            return DNS_RETRY;
        }
        if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
            continue;
        if (ns_rr_rdlen(rr) != want) {
            buf_set(why, "malformed address record");
            return DNS_RETRY;
        }
        add_addr(out, host, type == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr), pref);
        found++;
    }
    return found ? DNS_OK : DNS_NODATA;
}

/* A random number from the resolver's source. */
static unsigned rnd(const struct dns_resolver *res)
{
    return res->random ? res->random(res->ctx) : (unsigned)random();
}

/* Sort by preference (insertion sort: at most DNS_MAX_RECORDS), then shuffle ties. */
void dns_mx_sort(struct dns_mx_list *list, const struct dns_resolver *res)
{
    size_t i, j, start;
    struct dns_mx tmp;

    for (i = 1; i < list->count; i++) {
        tmp = list->mx[i];
        for (j = i; j > 0 && list->mx[j - 1].pref > tmp.pref; j--)
            list->mx[j] = list->mx[j - 1];
        list->mx[j] = tmp;
    }
    for (start = 0; start < list->count; start = j) {
        for (j = start + 1; j < list->count && list->mx[j].pref == list->mx[start].pref; j++)
            ;
        for (i = j - 1; i > start; i--) {       /* Fisher-Yates on [start, j) */
            size_t k = start + rnd(res) % (i - start + 1);

            tmp = list->mx[i];
            list->mx[i] = list->mx[k];
            list->mx[k] = tmp;
        }
    }
}

/* Free an MX list. */
void dns_mx_list_free(struct dns_mx_list *list)
{
    free(list->mx);
    list->mx = NULL;
    list->count = 0;
}

/* Set up an empty address list. */
void dns_addr_list_init(struct dns_addr_list *list)
{
    list->a = NULL;
    list->count = list->cap = 0;
}

/* Free an address list. */
void dns_addr_list_free(struct dns_addr_list *list)
{
    free(list->a);
    dns_addr_list_init(list);
}

/* Run one query through the resolver; the status and the answer. */
static enum dns_status query(const struct dns_resolver *res, const char *name, int type,
                             unsigned char *ans, size_t *len)
{
    int n, herr = 0;

    if (res->query)
        n = res->query(res->ctx, name, type, ans, ANSWER_SIZE, &herr);
    else {
        n = res_query(name, ns_c_in, type, ans, ANSWER_SIZE);
        herr = h_errno;
    }
    if (n < 0) {
        switch (herr) {
        case HOST_NOT_FOUND:
            return DNS_NOTFOUND;
        case NO_DATA:
            return DNS_NODATA;
        default:
            return DNS_RETRY;
        }
    }
    *len = n > ANSWER_SIZE ? ANSWER_SIZE : (size_t)n;
    return DNS_OK;
}

/* Postfix's name for a query type. */
static const char *type_name(int type)
{
    return type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : "AAAA";
}

/* Set dsn and the Postfix text for a failed lookup. */
static void lookup_error(enum dns_status st, const char *name, int type, const char *detail,
                         char *dsn, struct buf *why)
{
    buf_reset(why);
    if (st == DNS_RETRY) {
        strcpy(dsn, "4.4.3");
        buf_printf(why, "Host or domain name not found. Name service error for "
                   "name=%s type=%s: %s", name, type_name(type),
                   detail && *detail ? detail : "Host not found, try again");
    } else if (st == DNS_NOTFOUND) {
        strcpy(dsn, "5.4.4");
        buf_printf(why, "Host or domain name not found. Name service error for "
                   "name=%s type=%s: Host not found", name, type_name(type));
    } else {
        strcpy(dsn, "5.4.4");
        buf_printf(why, "Host or domain name not found. Name service error for "
                   "name=%s type=%s: Host found but no data record of requested type",
                   name, type_name(type));
    }
}

/* Query and parse one address type for host; appends to out. */
static enum dns_status lookup_addr(const struct dns_resolver *res, const char *host, int type,
                                   unsigned pref, unsigned char *ans,
                                   struct dns_addr_list *out, struct buf *detail)
{
    size_t len = 0;
    enum dns_status st = query(res, host, type, ans, &len);

    if (st != DNS_OK)
        return st;
    return dns_parse_addr(ans, len, type, host, pref, out, detail);
}

/*
 * Addresses of one host, A then AAAA as wanted. The worst failure is
 * kept in *worst (RETRY beats NOTFOUND beats NODATA) with its type.
 */
static void host_addrs(const struct dns_resolver *res, const char *host, unsigned pref,
                       unsigned char *ans, struct dns_addr_list *out,
                       enum dns_status *worst, int *worst_type, char *worst_host,
                       struct buf *detail)
{
    static const int types[2] = {ns_t_a, ns_t_aaaa};
    int i;

    for (i = 0; i < 2; i++) {
        enum dns_status st;
        struct buf d = BUF_INIT;

        if ((i == 0 && !res->want_ipv4) || (i == 1 && !res->want_ipv6))
            continue;
        st = lookup_addr(res, host, types[i], pref, ans, out, &d);
        if (st != DNS_OK && (*worst == DNS_OK || st == DNS_RETRY
                             || (st == DNS_NOTFOUND && *worst == DNS_NODATA))) {
            *worst = st;
            *worst_type = types[i];
            snprintf(worst_host, DNS_MAX_NAME, "%s", host);
            buf_set(detail, buf_str(&d));
        }
        buf_free(&d);
    }
}

/* Compare host names as DNS does: no case, no trailing dot. */
static int same_host(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* The address itself, when name is an IP literal; 1 if it was one. */
static int literal(const char *name, struct dns_addr_list *out)
{
    unsigned char addr[16];
    const char *p = name;

    if (strncasecmp(p, "ipv6:", 5) == 0)
        p += 5;
    if (inet_pton(AF_INET, name, addr) == 1) {
        add_addr(out, name, AF_INET, addr, 0);
        return 1;
    }
    if (inet_pton(AF_INET6, p, addr) == 1) {
        add_addr(out, p, AF_INET6, addr, 0);
        return 1;
    }
    return 0;
}

/* Is addr one of this machine's interface addresses (looked up once)? */
static int local_interface(void *ctx, int family, const unsigned char *addr)
{
    static struct dns_addr_list mine;
    static int loaded;
    size_t i;

    (void)ctx;
    if (!loaded) {
        struct ifaddrs *ifa = NULL, *p;

        loaded = 1;
        if (getifaddrs(&ifa) == 0) {
            for (p = ifa; p; p = p->ifa_next) {
                if (p->ifa_addr == NULL)
                    continue;
                if (p->ifa_addr->sa_family == AF_INET)
                    add_addr(&mine, "", AF_INET,
                             &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, 0);
                else if (p->ifa_addr->sa_family == AF_INET6)
                    add_addr(&mine, "", AF_INET6,
                             &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, 0);
            }
            freeifaddrs(ifa);
        }
    }
    for (i = 0; i < mine.count; i++)
        if (mine.a[i].family == family
            && memcmp(mine.a[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
            return 1;
    return 0;
}

/*
 * Drop the addresses of MX hosts as preferred as this machine or less
 * (by address); -1 when nothing is left.
 */
static int drop_self(const struct dns_resolver *res, struct dns_addr_list *out)
{
    size_t i, keep;
    int (*is_local)(void *, int, const unsigned char *) =
        res->is_local ? res->is_local : local_interface;

    for (i = 0; i < out->count; i++) {
        if (is_local(res->ctx, out->a[i].family, out->a[i].addr)) {
            for (keep = 0; keep < out->count && out->a[keep].pref < out->a[i].pref; keep++)
                ;
            out->count = keep;
            return keep ? 0 : -1;
        }
    }
    return 0;
}

/* Resolve a next hop to its addresses (see dns_mx.h). */
int dns_mx_resolve(const struct dns_resolver *res, const char *name, int use_mx,
                   const char *myhostname, size_t limit, struct dns_addr_list *out,
                   char *dsn, struct buf *why)
{
    unsigned char *ans;
    struct dns_mx_list mxl = {NULL, 0};
    struct buf detail = BUF_INIT;
    enum dns_status worst = DNS_OK;
    int worst_type = ns_t_a;
    char worst_host[DNS_MAX_NAME] = "";
    size_t len = 0, i, keep;
    enum dns_status st;

    if (limit == 0 || limit > DNS_MAX_ADDRS)
        limit = DNS_MAX_ADDRS;
    out->count = 0;
    if (literal(name, out))
        return 0;
    if (!res->want_ipv4 && !res->want_ipv6) {
        strcpy(dsn, "4.4.3");
        buf_set(why, "no IP protocol enabled (inet_protocols)");
        return -1;
    }
    ans = xmalloc(ANSWER_SIZE);
    if (!use_mx) {
        host_addrs(res, name, 0, ans, out, &worst, &worst_type, worst_host, &detail);
        goto done;
    }
    st = query(res, name, ns_t_mx, ans, &len);
    if (st == DNS_OK)
        st = dns_parse_mx(ans, len, &mxl, &detail);
    if (st == DNS_NODATA) {                     /* no MX: the domain's own address */
        host_addrs(res, name, 0, ans, out, &worst, &worst_type, worst_host, &detail);
        goto done;
    }
    if (st != DNS_OK) {
        lookup_error(st, name, ns_t_mx, buf_str(&detail), dsn, why);
        goto fail;
    }
    for (i = 0; i < mxl.count; i++) {           /* RFC 7505 null MX */
        if (mxl.mx[i].name[0] == 0 && (mxl.count == 1 || mxl.mx[i].pref == 0)) {
            strcpy(dsn, "5.1.0");
            buf_reset(why);
            buf_printf(why, "Domain %s does not accept mail (nullMX)", name);
            goto fail;
        }
    }
    dns_mx_sort(&mxl, res);
    keep = mxl.count;
    if (myhostname && *myhostname) {            /* MX points to myself */
        for (i = 0; i < mxl.count; i++) {
            if (same_host(mxl.mx[i].name, myhostname)) {
                unsigned mine = mxl.mx[i].pref;

                for (keep = 0; keep < mxl.count && mxl.mx[keep].pref < mine; keep++)
                    ;
                break;
            }
        }
        if (keep == 0) {
            strcpy(dsn, "5.4.6");
            buf_reset(why);
            buf_printf(why, "mail for %s loops back to myself", name);
            goto fail;
        }
    }
    for (i = 0; i < keep && out->count < limit; i++) {
        if (mxl.mx[i].name[0] == 0)
            continue;
        host_addrs(res, mxl.mx[i].name, mxl.mx[i].pref, ans, out, &worst, &worst_type,
                   worst_host, &detail);
    }
    if (out->count > 0 && drop_self(res, out) < 0) {
        strcpy(dsn, "5.4.6");
        buf_reset(why);
        buf_printf(why, "mail for %s loops back to myself", name);
        goto fail;
    }
    if (out->count == 0 && worst == DNS_OK)
        worst = DNS_NODATA;

done:
    if (out->count > limit)
        out->count = limit;
    if (out->count > 0) {
        dns_mx_list_free(&mxl);
        buf_free(&detail);
        free(ans);
        return 0;
    }
    lookup_error(worst == DNS_OK ? DNS_NODATA : worst, worst_host[0] ? worst_host : name,
                 worst_type, buf_str(&detail), dsn, why);
fail:
    dns_mx_list_free(&mxl);
    buf_free(&detail);
    free(ans);
    return -1;
}
