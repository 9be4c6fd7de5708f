/*
 * fuzz_dns_mx - libFuzzer target for the DNS answer parsers of
 * lib/dns_mx.c, and for the whole MX resolution over a fake resolver.
 *
 * Input: one selector byte, then a DNS message. The message is parsed
 * as an MX answer and as A and AAAA answers; then dns_mx_resolve() runs
 * with a resolver that returns the message for every query (selector
 * bits pick MX lookup, IPv6 and "MX points to me"). Results must be
 * well-formed: printable names, addresses of the right family, failures
 * with a 4.x.x or 5.x.x code and a reason.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_mx.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

struct input {
    const uint8_t *msg;
    size_t len;
    unsigned queries;
};

/* Every query gets the fuzzer's message (or NXDOMAIN when it is empty). */
static int query(void *ctx, const char *name, int type, unsigned char *ans, int anslen,
                 int *herr)
{
    struct input *in = ctx;
    size_t n = in->len < (size_t)anslen ? in->len : (size_t)anslen;

    (void)name;
    (void)type;
    if (++in->queries > 300 || n == 0) {
        *herr = in->queries > 300 ? TRY_AGAIN : HOST_NOT_FOUND;
        return -1;
    }
    memcpy(ans, in->msg, n);
    return (int)n;
}

/* Deterministic "random" numbers. */
static unsigned rnd(void *ctx)
{
    return ((struct input *)ctx)->queries * 2654435761u;
}

/* Check an address list. */
static void check_addrs(const struct dns_addr_list *al)
{
    size_t i;

    CHECK(al->count <= DNS_MAX_ADDRS);
    for (i = 0; i < al->count; i++) {
        CHECK(al->a[i].family == AF_INET || al->a[i].family == AF_INET6);
        CHECK(strlen(al->a[i].ip) > 0 && strlen(al->a[i].host) < DNS_MAX_NAME);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_mx_list mx = {NULL, 0};
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    struct input in;
    struct dns_resolver res;
    char dsn[16];
    size_t i;

    if (size < 1)
        return 0;
    in.msg = data + 1;
    in.len = size - 1;
    in.queries = 0;
    dns_addr_list_init(&al);

    if (dns_parse_mx(in.msg, in.len, &mx, &why) == DNS_OK) {
        CHECK(mx.count >= 1 && mx.count <= DNS_MAX_RECORDS);
        for (i = 0; i < mx.count; i++)
            CHECK(strlen(mx.mx[i].name) < DNS_MAX_NAME && mx.mx[i].pref <= 65535);
    }
    (void)dns_parse_addr(in.msg, in.len, ns_t_a, "a", 0, &al, &why);
    (void)dns_parse_addr(in.msg, in.len, ns_t_aaaa, "a", 0, &al, &why);
    check_addrs(&al);

    memset(&res, 0, sizeof(res));
    res.query = query;
    res.ctx = &in;
    res.random = rnd;
    res.want_ipv4 = 1;
    res.want_ipv6 = (data[0] & 2) != 0;
    if (dns_mx_resolve(&res, "example.org", data[0] & 1, (data[0] & 4) ? "example.org" : NULL,
                       data[0] >> 4, &al, dsn, &why) == 0) {
        CHECK(al.count >= 1);
        CHECK((data[0] >> 4) == 0 || al.count <= (size_t)(data[0] >> 4));
        check_addrs(&al);
    } else {
        CHECK((dsn[0] == '4' || dsn[0] == '5') && dsn[1] == '.');
        CHECK(why.len > 0);
    }
    dns_mx_list_free(&mx);
    dns_addr_list_free(&al);
    buf_free(&why);
    return 0;
}
