/*
 * fuzz_delivered_to - libFuzzer target for lib/delivered_to.c, the
 * Delivered-To: header scan behind mail_has_delivered_to().
 *
 * Input: one byte for the piece size, one for the address length (mod
 * 64), the address, then the header text. The scan must stay in bounds,
 * and its answer must not depend on how the text is cut into pieces; a
 * text made of "Delivered-To: ADDR" and an empty line must match.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivered_to.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

/* Scan text in pieces of step bytes; the answer. */
static int scan(const char *addr, const uint8_t *text, size_t len, size_t step)
{
    struct delivered_to_scan *s = malloc(sizeof(*s));
    int found;

    delivered_to_init(s, addr);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        int rc = delivered_to_feed(s, text + i, n);

        CHECK(rc >= -1 && rc <= 1);
        CHECK(s->len <= sizeof(s->field));
        if (rc != 0)
            break;
    }
    found = delivered_to_finish(s);
    free(s);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char addr[64];
    size_t step, alen;
    int whole;

    if (size < 2)
        return 0;
    step = data[0] ? data[0] : 1;
    alen = data[1] % 64;
    data += 2;
    size -= 2;
    if (alen > size)
        alen = size;
    for (size_t i = 0; i < alen; i++)
        addr[i] = data[i] ? (char)data[i] : 'x';
    addr[alen] = 0;
    data += alen;
    size -= alen;

    whole = scan(addr, data, size, size ? size : 1);
    CHECK(scan(addr, data, size, step) == whole);
    CHECK(scan(addr, data, size, 1) == whole);

    /* A field we build ourselves is always found (no CR/LF/space in addr). */
    if (alen > 0 && strcspn(addr, "\r\n \t") == alen && (addr[0] != '<' || addr[alen - 1] != '>')) {
        char text[128];
        size_t n = (size_t)snprintf(text, sizeof(text), "X: y\nDelivered-To: %s\n\nbody\n", addr);

        CHECK(scan(addr, (const uint8_t *)text, n, step) == 1);
    }
    return 0;
}
