/*
 * test_dns_mx - unit tests for lib/dns_mx.c on crafted DNS answers:
 * MX parsing and ordering (equal preferences shuffled), A/AAAA fallback,
 * null MX, MX pointing to this host, NXDOMAIN / SERVFAIL / no data with
 * Postfix's texts and codes, IP literals, the address limit, and
 * malformed answers (truncation, compression loops, bad record lengths).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_mx.h"

/* ------------------------------------------------------ answer builder */

struct msg {
    unsigned char b[4096];
    size_t len;
    size_t ancount_at;
    unsigned an;
};

static void put8(struct msg *m, unsigned v) { m->b[m->len++] = (unsigned char)v; }
static void put16(struct msg *m, unsigned v) { put8(m, v >> 8); put8(m, v & 0xff); }

/* A name as labels ("a.b" -> 1a1b0). */
static void put_name(struct msg *m, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);

        put8(m, (unsigned)n);
        memcpy(m->b + m->len, name, n);
        m->len += n;
        name += n + (dot ? 1 : 0);
    }
    put8(m, 0);
}

/* Header and question. */
static void msg_start(struct msg *m, const char *qname, int qtype, int rcode)
{
    memset(m, 0, sizeof(*m));
    put16(m, 0x1234);
    put16(m, 0x8180 | (unsigned)rcode);         /* response, RD, RA */
    put16(m, 1);
    m->ancount_at = m->len;
    put16(m, 0);
    put16(m, 0);
    put16(m, 0);
    put_name(m, qname);
    put16(m, (unsigned)qtype);
    put16(m, 1);
}

/* Start an answer record owned by the question name (pointer to offset 12). */
static void rr_start(struct msg *m, int type, unsigned rdlen)
{
    put16(m, 0xc00c);
    put16(m, (unsigned)type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, rdlen);
    m->an++;
    m->b[m->ancount_at] = (unsigned char)(m->an >> 8);
    m->b[m->ancount_at + 1] = (unsigned char)m->an;
}

static void add_mx(struct msg *m, unsigned pref, const char *host)
{
    size_t at;

    rr_start(m, ns_t_mx, 0);
    at = m->len - 2;
    put16(m, pref);
    put_name(m, host);
    m->b[at] = (unsigned char)((m->len - at - 2) >> 8);
    m->b[at + 1] = (unsigned char)(m->len - at - 2);
}

static void add_a(struct msg *m, const char *ip)
{
    rr_start(m, ns_t_a, 4);
    inet_pton(AF_INET, ip, m->b + m->len);
    m->len += 4;
}

static void add_aaaa(struct msg *m, const char *ip)
{
    rr_start(m, ns_t_aaaa, 16);
    inet_pton(AF_INET6, ip, m->b + m->len);
    m->len += 16;
}

/* ------------------------------------------------------ fake resolver */

struct fake_entry {
    char name[64];
    int type;
    int herr;                   /* != 0: fail with this h_errno */
    struct msg m;
};

struct fake {
    struct fake_entry e[16];
    size_t n;
    unsigned queries;
    unsigned rnd;               /* value random() returns */
};

static struct fake_entry *fake_add(struct fake *f, const char *name, int type, int herr)
{
    struct fake_entry *e = &f->e[f->n++];

    memset(e, 0, sizeof(*e));
    strcpy(e->name, name);
    e->type = type;
    e->herr = herr;
    msg_start(&e->m, name, type, 0);
    return e;
}

static int fake_query(void *ctx, const char *name, int type, unsigned char *ans, int anslen,
                      int *herr)
{
    struct fake *f = ctx;
    size_t i;

    f->queries++;
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->e[i].name, name) == 0 && f->e[i].type == type) {
            if (f->e[i].herr) {
                *herr = f->e[i].herr;
                return -1;
            }
            assert_true((int)f->e[i].m.len <= anslen);
            memcpy(ans, f->e[i].m.b, f->e[i].m.len);
            return (int)f->e[i].m.len;
        }
    }
    *herr = HOST_NOT_FOUND;
    return -1;
}

static unsigned fake_random(void *ctx)
{
    return ((struct fake *)ctx)->rnd;
}

/* 192.0.2.20 is "this machine" for the tests. */
static int fake_is_local(void *ctx, int family, const unsigned char *addr)
{
    static const unsigned char me[4] = {192, 0, 2, 20};

    (void)ctx;
    return family == AF_INET && memcmp(addr, me, 4) == 0;
}

static void resolver(struct dns_resolver *r, struct fake *f, int v6)
{
    memset(r, 0, sizeof(*r));
    r->query = fake_query;
    r->ctx = f;
    r->random = fake_random;
    r->is_local = fake_is_local;
    r->want_ipv4 = 1;
    r->want_ipv6 = v6;
}

/* ------------------------------------------------------ tests */

static void test_parse_mx(void **state)
{
    struct msg m;
    struct dns_mx_list l = {NULL, 0};
    struct buf why = BUF_INIT;

    (void)state;
    msg_start(&m, "example.org", ns_t_mx, 0);
    add_mx(&m, 20, "mx2.example.org");
    add_a(&m, "192.0.2.9");                 /* other types are skipped */
    add_mx(&m, 10, "mx1.example.org");
    assert_int_equal(dns_parse_mx(m.b, m.len, &l, &why), DNS_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.mx[0].name, "mx2.example.org");
    assert_int_equal(l.mx[0].pref, 20);
    assert_string_equal(l.mx[1].name, "mx1.example.org");
    /* header RCODEs */
    msg_start(&m, "example.org", ns_t_mx, ns_r_nxdomain);
    assert_int_equal(dns_parse_mx(m.b, m.len, &l, &why), DNS_NOTFOUND);
    msg_start(&m, "example.org", ns_t_mx, ns_r_servfail);
    assert_int_equal(dns_parse_mx(m.b, m.len, &l, &why), DNS_RETRY);
    assert_string_equal(buf_str(&why), "server failure");
    msg_start(&m, "example.org", ns_t_mx, 0);
    assert_int_equal(dns_parse_mx(m.b, m.len, &l, &why), DNS_NODATA);
    dns_mx_list_free(&l);
    buf_free(&why);
}

static void test_parse_malformed(void **state)
{
    struct msg m, t;
    struct dns_mx_list l = {NULL, 0};
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    size_t cut;

    (void)state;
    dns_addr_list_init(&al);
    msg_start(&m, "example.org", ns_t_mx, 0);
    add_mx(&m, 10, "mx1.example.org");
    /* every truncation fails cleanly */
    for (cut = 0; cut < m.len; cut++)
        assert_int_equal(dns_parse_mx(m.b, cut, &l, &why), DNS_RETRY);
    /* rdata too short for an MX */
    msg_start(&t, "example.org", ns_t_mx, 0);
    rr_start(&t, ns_t_mx, 2);
    put16(&t, 10);
    assert_int_equal(dns_parse_mx(t.b, t.len, &l, &why), DNS_RETRY);
    /* MX target that is a compression pointer to itself (a loop) */
    msg_start(&t, "example.org", ns_t_mx, 0);
    rr_start(&t, ns_t_mx, 4);
    put16(&t, 10);
    put16(&t, 0xc000 | (unsigned)t.len);
    assert_int_equal(dns_parse_mx(t.b, t.len, &l, &why), DNS_RETRY);
    /* MX target pointing past the message */
    msg_start(&t, "example.org", ns_t_mx, 0);
    rr_start(&t, ns_t_mx, 4);
    put16(&t, 10);
    put16(&t, 0xc000 | 4000);
    assert_int_equal(dns_parse_mx(t.b, t.len, &l, &why), DNS_RETRY);
    /* an A record of the wrong length */
    msg_start(&t, "mx.example.org", ns_t_a, 0);
    rr_start(&t, ns_t_a, 3);
    put8(&t, 1);
    put8(&t, 2);
    put8(&t, 3);
    assert_int_equal(dns_parse_addr(t.b, t.len, ns_t_a, "mx", 0, &al, &why), DNS_RETRY);
    assert_int_equal(al.count, 0);
    /* garbage */
    assert_int_equal(dns_parse_mx((const unsigned char *)"\xff\xff", 2, &l, &why), DNS_RETRY);
    dns_mx_list_free(&l);
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_parse_addr(void **state)
{
    struct msg m;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;

    (void)state;
    dns_addr_list_init(&al);
    msg_start(&m, "mx.example.org", ns_t_aaaa, 0);
    add_aaaa(&m, "2001:db8::25");
    add_a(&m, "192.0.2.1");                 /* not asked for: skipped */
    assert_int_equal(dns_parse_addr(m.b, m.len, ns_t_aaaa, "mx.example.org", 7, &al, &why),
                     DNS_OK);
    assert_int_equal(al.count, 1);
    assert_string_equal(al.a[0].ip, "2001:db8::25");
    assert_string_equal(al.a[0].host, "mx.example.org");
    assert_int_equal(al.a[0].family, AF_INET6);
    assert_int_equal(al.a[0].pref, 7);
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_sort_shuffle(void **state)
{
    struct dns_mx mx[4] = {{"c", 20}, {"a", 10}, {"d", 30}, {"b", 10}};
    struct dns_mx_list l = {mx, 4};
    struct dns_resolver r;
    struct fake f = {.rnd = 0};

    (void)state;
    resolver(&r, &f, 0);
    dns_mx_sort(&l, &r);
    assert_int_equal(mx[0].pref, 10);
    assert_int_equal(mx[1].pref, 10);
    assert_string_equal(mx[2].name, "c");
    assert_string_equal(mx[3].name, "d");
    /* rnd 0 swaps the pair, rnd 1 keeps it: both orders happen */
    {
        struct dns_mx again[4] = {{"c", 20}, {"a", 10}, {"d", 30}, {"b", 10}};

        l.mx = again;
        f.rnd = 1;
        dns_mx_sort(&l, &r);
        assert_string_equal(again[2].name, "c");
        assert_string_not_equal(mx[0].name, again[0].name);
        assert_string_not_equal(mx[1].name, again[1].name);
    }
}

static void test_resolve_mx(void **state)
{
    struct fake f = {.rnd = 1};
    struct dns_resolver r;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    char dsn[16];
    struct fake_entry *e;

    (void)state;
    dns_addr_list_init(&al);
    e = fake_add(&f, "example.org", ns_t_mx, 0);
    add_mx(&e->m, 20, "mx2.example.org");
    add_mx(&e->m, 10, "mx1.example.org");
    e = fake_add(&f, "mx1.example.org", ns_t_a, 0);
    add_a(&e->m, "192.0.2.1");
    add_a(&e->m, "192.0.2.2");
    e = fake_add(&f, "mx1.example.org", ns_t_aaaa, 0);
    add_aaaa(&e->m, "2001:db8::1");
    e = fake_add(&f, "mx2.example.org", ns_t_a, 0);
    add_a(&e->m, "192.0.2.3");
    fake_add(&f, "mx2.example.org", ns_t_aaaa, NO_DATA);
    resolver(&r, &f, 1);
    assert_int_equal(dns_mx_resolve(&r, "example.org", 1, "me.example.org", 0, &al, dsn, &why),
                     0);
    assert_int_equal(al.count, 4);
    assert_string_equal(al.a[0].ip, "192.0.2.1");
    assert_string_equal(al.a[1].ip, "192.0.2.2");
    assert_string_equal(al.a[2].ip, "2001:db8::1");
    assert_string_equal(al.a[3].ip, "192.0.2.3");
    assert_string_equal(al.a[3].host, "mx2.example.org");
    /* the address limit */
    assert_int_equal(dns_mx_resolve(&r, "example.org", 1, NULL, 2, &al, dsn, &why), 0);
    assert_int_equal(al.count, 2);
    /* IPv4 only */
    r.want_ipv6 = 0;
    assert_int_equal(dns_mx_resolve(&r, "example.org", 1, NULL, 0, &al, dsn, &why), 0);
    assert_int_equal(al.count, 3);
    /* no MX lookup: the name's own addresses */
    assert_int_equal(dns_mx_resolve(&r, "mx2.example.org", 0, NULL, 0, &al, dsn, &why), 0);
    assert_int_equal(al.count, 1);
    assert_string_equal(al.a[0].ip, "192.0.2.3");
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_resolve_no_mx(void **state)
{
    struct fake f = {.rnd = 0};
    struct dns_resolver r;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    char dsn[16];
    struct fake_entry *e;

    (void)state;
    dns_addr_list_init(&al);
    fake_add(&f, "example.net", ns_t_mx, NO_DATA);
    e = fake_add(&f, "example.net", ns_t_a, 0);
    add_a(&e->m, "198.51.100.7");
    resolver(&r, &f, 0);
    assert_int_equal(dns_mx_resolve(&r, "example.net", 1, NULL, 0, &al, dsn, &why), 0);
    assert_int_equal(al.count, 1);
    assert_string_equal(al.a[0].ip, "198.51.100.7");
    /* an empty MX answer (NOERROR, no records) means no MX too */
    f.n = 0;
    fake_add(&f, "example.net", ns_t_mx, 0);
    e = fake_add(&f, "example.net", ns_t_a, 0);
    add_a(&e->m, "198.51.100.8");
    assert_int_equal(dns_mx_resolve(&r, "example.net", 1, NULL, 0, &al, dsn, &why), 0);
    assert_string_equal(al.a[0].ip, "198.51.100.8");
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_resolve_errors(void **state)
{
    struct fake f = {.rnd = 0};
    struct dns_resolver r;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    char dsn[16];
    struct fake_entry *e;

    (void)state;
    dns_addr_list_init(&al);
    resolver(&r, &f, 0);
    /* NXDOMAIN */
    fake_add(&f, "nowhere.invalid", ns_t_mx, HOST_NOT_FOUND);
    assert_int_equal(dns_mx_resolve(&r, "nowhere.invalid", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "5.4.4");
    assert_string_equal(buf_str(&why), "Host or domain name not found. Name service error "
                        "for name=nowhere.invalid type=MX: Host not found");
    /* SERVFAIL */
    fake_add(&f, "broken.example", ns_t_mx, TRY_AGAIN);
    assert_int_equal(dns_mx_resolve(&r, "broken.example", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "4.4.3");
    assert_string_equal(buf_str(&why), "Host or domain name not found. Name service error "
                        "for name=broken.example type=MX: Host not found, try again");
    /* SERVFAIL seen in the answer's header */
    e = fake_add(&f, "rcode.example", ns_t_mx, 0);
    msg_start(&e->m, "rcode.example", ns_t_mx, ns_r_servfail);
    assert_int_equal(dns_mx_resolve(&r, "rcode.example", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "4.4.3");
    /* null MX */
    e = fake_add(&f, "nomail.example", ns_t_mx, 0);
    add_mx(&e->m, 0, "");
    assert_int_equal(dns_mx_resolve(&r, "nomail.example", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "5.1.0");
    assert_string_equal(buf_str(&why), "Domain nomail.example does not accept mail (nullMX)");
    /* MX host without any address */
    e = fake_add(&f, "lame.example", ns_t_mx, 0);
    add_mx(&e->m, 10, "ghost.lame.example");
    fake_add(&f, "ghost.lame.example", ns_t_a, NO_DATA);
    assert_int_equal(dns_mx_resolve(&r, "lame.example", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "5.4.4");
    assert_string_equal(buf_str(&why), "Host or domain name not found. Name service error "
                        "for name=ghost.lame.example type=A: Host found but no data record "
                        "of requested type");
    /* a temporary failure for one MX host wins over "no data" of another */
    e = fake_add(&f, "mixed.example", ns_t_mx, 0);
    add_mx(&e->m, 10, "ghost.lame.example");
    add_mx(&e->m, 20, "flaky.example");
    fake_add(&f, "flaky.example", ns_t_a, TRY_AGAIN);
    assert_int_equal(dns_mx_resolve(&r, "mixed.example", 1, NULL, 0, &al, dsn, &why), -1);
    assert_string_equal(dsn, "4.4.3");
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_resolve_self(void **state)
{
    struct fake f = {.rnd = 0};
    struct dns_resolver r;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    char dsn[16];
    struct fake_entry *e;

    (void)state;
    dns_addr_list_init(&al);
    resolver(&r, &f, 0);
    e = fake_add(&f, "loop.example", ns_t_mx, 0);
    add_mx(&e->m, 10, "me.example.org");
    add_mx(&e->m, 20, "backup.example.org");
    e = fake_add(&f, "backup.example.org", ns_t_a, 0);
    add_a(&e->m, "192.0.2.20");
    assert_int_equal(dns_mx_resolve(&r, "loop.example", 1, "ME.example.org.", 0, &al, dsn,
                                    &why), -1);
    assert_string_equal(dsn, "5.4.6");
    assert_string_equal(buf_str(&why), "mail for loop.example loops back to myself");
    /* a better MX than us is kept, ours and worse are dropped */
    e = fake_add(&f, "primary.example", ns_t_mx, 0);
    add_mx(&e->m, 5, "better.example.org");
    add_mx(&e->m, 10, "me.example.org");
    add_mx(&e->m, 20, "backup.example.org");
    e = fake_add(&f, "better.example.org", ns_t_a, 0);
    add_a(&e->m, "192.0.2.5");
    assert_int_equal(dns_mx_resolve(&r, "primary.example", 1, "me.example.org", 0, &al, dsn,
                                    &why), 0);
    assert_int_equal(al.count, 1);
    assert_string_equal(al.a[0].ip, "192.0.2.5");
    /* by address: backup.example.org has one of our addresses */
    e = fake_add(&f, "byaddr.example", ns_t_mx, 0);
    add_mx(&e->m, 10, "better.example.org");
    add_mx(&e->m, 20, "backup.example.org");
    add_mx(&e->m, 30, "worse.example.org");
    e = fake_add(&f, "worse.example.org", ns_t_a, 0);
    add_a(&e->m, "192.0.2.30");
    assert_int_equal(dns_mx_resolve(&r, "byaddr.example", 1, "other.example", 0, &al, dsn,
                                    &why), 0);
    assert_int_equal(al.count, 1);
    assert_string_equal(al.a[0].ip, "192.0.2.5");
    e = fake_add(&f, "onlyme.example", ns_t_mx, 0);
    add_mx(&e->m, 10, "backup.example.org");
    assert_int_equal(dns_mx_resolve(&r, "onlyme.example", 1, "other.example", 0, &al, dsn,
                                    &why), -1);
    assert_string_equal(dsn, "5.4.6");
    assert_string_equal(buf_str(&why), "mail for onlyme.example loops back to myself");
    /* [host] next hops are not checked */
    assert_int_equal(dns_mx_resolve(&r, "backup.example.org", 0, "other.example", 0, &al,
                                    dsn, &why), 0);
    dns_addr_list_free(&al);
    buf_free(&why);
}

static void test_resolve_literal(void **state)
{
    struct fake f = {.rnd = 0};
    struct dns_resolver r;
    struct dns_addr_list al;
    struct buf why = BUF_INIT;
    char dsn[16];

    (void)state;
    dns_addr_list_init(&al);
    resolver(&r, &f, 0);
    assert_int_equal(dns_mx_resolve(&r, "127.0.0.1", 0, NULL, 0, &al, dsn, &why), 0);
    assert_int_equal(al.count, 1);
    assert_int_equal(al.a[0].family, AF_INET);
    assert_string_equal(al.a[0].ip, "127.0.0.1");
    assert_int_equal(dns_mx_resolve(&r, "ipv6:::1", 0, NULL, 0, &al, dsn, &why), 0);
    assert_int_equal(al.a[0].family, AF_INET6);
    assert_string_equal(al.a[0].ip, "::1");
    assert_int_equal(f.queries, 0);         /* literals need no DNS */
    dns_addr_list_free(&al);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mx),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_sort_shuffle),
        cmocka_unit_test(test_resolve_mx),
        cmocka_unit_test(test_resolve_no_mx),
        cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_resolve_self),
        cmocka_unit_test(test_resolve_literal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
