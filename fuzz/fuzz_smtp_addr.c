/*
 * fuzz_smtp_addr - libFuzzer target for lib/smtp_addr.c (and the xtext
 * helpers of lib/smtp_cmd.c).
 *
 * Input: one flag byte (SMTP_ADDR_* in the low bits), then the path. A
 * parsed address must satisfy the struct's invariants, and formatting it
 * and parsing the result again must give the same address. The same bytes
 * also go through xtext and RFC 6533 encode/decode round trips.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_addr(const struct smtp_addr *a, unsigned flags)
{
    const unsigned keep = SMTP_ADDR_F_NULL | SMTP_ADDR_F_TRAILING_DOT | SMTP_ADDR_F_LITERAL
                          | SMTP_ADDR_F_LITERAL_V6 | SMTP_ADDR_F_NO_DOMAIN | SMTP_ADDR_F_UTF8
                          | SMTP_ADDR_F_NUMERIC;
    struct buf b = BUF_INIT;
    struct smtp_addr again, canon;

    CHECK(a->local_len == strlen(a->local) && a->local_len <= SMTP_ADDR_LOCAL_MAX);
    CHECK(a->domain_len == strlen(a->domain) && a->domain_len <= SMTP_ADDR_DOMAIN_MAX);
    for (size_t i = 0; i < a->local_len; i++)
        CHECK((unsigned char)a->local[i] >= 32 && a->local[i] != 127);
    CHECK(smtp_utf8_valid(a->local, a->local_len));
    if (a->flags & SMTP_ADDR_F_NULL) {
        CHECK(a->local_len == 0 && a->domain_len == 0);
    } else {
        CHECK(a->local_len > 0);
        if (a->flags & SMTP_ADDR_F_NO_DOMAIN)
            CHECK(a->domain_len == 0);
        else
            CHECK(smtp_addr_check_domain(a->domain, a->domain_len, flags & SMTP_ADDR_UTF8, NULL)
                  == SMTP_ADDR_OK);
    }
    CHECK(((smtp_addr_tricks(a) & SMTP_ADDR_TRICK_AT) != 0) == (memchr(a->local, '@', a->local_len) != NULL));
    CHECK(((smtp_addr_tricks(a) & SMTP_ADDR_TRICK_ROUTE) != 0) == (a->route[0] != 0));

    /* format, parse again: the same address */
    CHECK(smtp_addr_format_path(&b, a) == 0);
    CHECK(b.len <= SMTP_ADDR_PATH_MAX);
    CHECK(smtp_addr_parse(b.data, b.len, flags & ~SMTP_ADDR_ALLOW_BARE, &again) == SMTP_ADDR_OK);
    CHECK(strcmp(again.local, a->local) == 0);
    CHECK(strcmp(again.domain, a->domain) == 0);
    CHECK((again.flags & keep) == (a->flags & keep));
    buf_reset(&b);
    CHECK(smtp_addr_internal(&b, a) == 0);
    canon = *a;
    smtp_addr_canonicalise(&canon);
    CHECK((canon.flags & SMTP_ADDR_F_TRAILING_DOT) == 0);
    CHECK(strcasecmp(canon.domain, a->domain) == 0);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_addr a;
    struct buf x = BUF_INIT, y = BUF_INIT;
    unsigned flags;
    const char *s;
    size_t len;
    enum smtp_addr_err e;
    int lit;

    if (size == 0)
        return 0;
    flags = data[0] & (SMTP_ADDR_UTF8 | SMTP_ADDR_ALLOW_NULL | SMTP_ADDR_ALLOW_BARE);
    s = (const char *)data + 1;
    len = size - 1;

    e = smtp_addr_parse(s, len, flags, &a);
    CHECK(smtp_addr_strerror(e) != NULL);
    if (e == SMTP_ADDR_OK)
        check_addr(&a, flags);
    else
        CHECK(a.local[0] == 0 && a.domain[0] == 0 && a.flags == 0);
    (void)smtp_addr_check_domain(s, len, flags, &lit);
    (void)smtp_utf8_valid(s, len);

    /* quoting any bytes never fails without a limit; quoted text is bounded */
    CHECK(smtp_addr_quote_local(&x, s, len) == 0);
    CHECK(x.len <= 2 * len + 2);
    buf_reset(&x);

    /* xtext: encode then decode gives the input back */
    CHECK(smtp_xtext_encode(&x, s, len) == 0);
    CHECK(smtp_xtext_decode(&y, x.data ? x.data : "", x.len) == 0);
    CHECK(y.len == len && (len == 0 || memcmp(y.data, s, len) == 0));
    buf_reset(&x);
    buf_reset(&y);
    (void)smtp_xtext_decode(&y, s, len);
    if (smtp_utf8_valid(s, len))
        CHECK(smtp_utf8addr_encode(&x, s, len) == 0);
    else
        CHECK(smtp_utf8addr_encode(&x, s, len) == -1 && x.len == 0);
    buf_free(&x);
    buf_free(&y);
    return 0;
}
