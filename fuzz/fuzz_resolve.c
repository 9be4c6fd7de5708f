/*
 * fuzz_resolve - libFuzzer target for lib/resolve.c: any recipient
 * address (as a queue file may hold one, up to QF_MAX_ADDR bytes) against
 * a configuration with every address class and a transport map. The
 * result must be a filled, NUL-terminated transport and next hop, or a
 * temporary failure with a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maincf.h"
#include "mem.h"
#include "resolve.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const char maincf[] =
    "myhostname = mx.example.org\nmydomain = example.org\n"
    "recipient_delimiter = +-\ninet_interfaces = 127.0.0.1\n"
    "relayhost = [gw.example]:2525\n"
    "virtual_alias_domains = va.test\n"
    "virtual_mailbox_domains = virt.test, .dot.test, inline:{tab.test=1}\n"
    "relay_domains = relay.test, !no.relay.test\n"
    "transport_maps = inline:{ vip@example.com=relay:[vip.test], "
    ".example.com=lmtp:unix:/tmp/lmtp, gone.test=discard:, *=:[star] }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config *cfg;
    static struct resolver *r;
    struct buf err = BUF_INIT, why = BUF_INIT;
    struct resolved out;
    char *addr;

    if (cfg == NULL) {
        cfg = config_parse("main.cf", maincf, strlen(maincf), &err);
        CHECK(cfg != NULL);
        r = resolver_open(cfg, &err);
        CHECK(r != NULL);
    }
    if (size > 2048)
        return 0;
    addr = xstrndup((const char *)data, size);
    if (resolve_addr(r, addr, &out, &why) == 0) {
        CHECK(strlen(out.transport) > 0 && strlen(out.transport) <= RESOLVE_MAX_TRANSPORT);
        CHECK(strlen(out.nexthop) <= RESOLVE_MAX_NEXTHOP);
        CHECK(out.cls >= RESOLVE_LOCAL && out.cls <= RESOLVE_DEFAULT);
    } else {
        CHECK(why.len > 0);
    }
    free(addr);
    buf_free(&err);
    buf_free(&why);
    return 0;
}
