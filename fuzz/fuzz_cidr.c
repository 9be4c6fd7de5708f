/*
 * fuzz_cidr - libFuzzer target for the cidr: table parser (lib/dict_cidr.c).
 *
 * The input is the table text. When it parses, fixed IPv4 and IPv6 keys
 * and pieces of the input are looked up.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "dict.h"
#include "log.h"
#include "pattern_table.h"

static void probe(struct dict *d, const char *key)
{
    struct buf value = BUF_INIT, why = BUF_INIT;
    int rc = dict_lookup(d, key, &value, &why);

    if (rc != DICT_FOUND && rc != DICT_NOTFOUND)
        __builtin_trap();
    buf_free(&value);
    buf_free(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {
        "0.0.0.0", "1.2.3.4", "10.1.2.3", "255.255.255.255", "::", "::1",
        "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "not an address",
    };
    static int initialised;
    struct buf err = BUF_INIT, key = BUF_INIT;
    struct dict *d;

    if (!initialised) {
        log_init("fuzz_cidr");
        log_to_stderr(0);
        initialised = 1;
    }
    d = dict_cidr_open_text("fuzz", (const char *)data, size, &err);
    if (d != NULL) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            probe(d, keys[i]);
        /* The first word of the input, as a key. */
        for (size_t i = 0; i < size && key.len < 64; i++) {
            if (data[i] == 0 || data[i] == ' ' || data[i] == '\n' || data[i] == '/')
                break;
            (void)buf_putc(&key, data[i] == '!' ? ':' : data[i]);
        }
        probe(d, buf_str(&key));
        dict_close(d);
    } else if (err.len == 0) {
        __builtin_trap();
    }
    buf_free(&err);
    buf_free(&key);
    return 0;
}
