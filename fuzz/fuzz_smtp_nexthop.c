/*
 * fuzz_smtp_nexthop - libFuzzer target for lib/smtp_nexthop.c.
 *
 * Input: one byte that picks SMTP or LMTP, then the next-hop text (cut
 * at the first NUL). An accepted next hop must have a port in range (or
 * be a unix socket path), a host of allowed characters only, and no MX
 * lookup for bracketed or LMTP forms.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "smtp_nexthop.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_nexthop hop;
    struct buf why = BUF_INIT;
    char *text;
    int lmtp;
    const char *p;

    if (size < 1)
        return 0;
    lmtp = data[0] & 1;
    text = xstrndup((const char *)data + 1, size - 1);
    if (smtp_nexthop_parse(text, lmtp, &hop, &why) == 0) {
        if (hop.is_unix) {
            CHECK(lmtp && hop.path[0] != 0);
        } else {
            CHECK(hop.port >= 1 && hop.port <= 65535);
            CHECK(hop.host[0] != 0 && strlen(hop.host) <= 1025);
            for (p = hop.host; *p; p++)
                CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789.-_:", *p) != NULL);
            CHECK(!(lmtp && hop.use_mx));
            CHECK(!(hop.use_mx && strchr(text, '[')));
        }
    } else {
        CHECK(why.len > 0);
    }
    free(text);
    buf_free(&why);
    return 0;
}
