/*
 * fuzz_pattern_table - libFuzzer target for the regexp: and pcre: table
 * parsers (lib/pattern_table.c with both engines).
 *
 * The first byte picks the engine (even: regexp, odd: pcre), the rest is
 * the table text. When it parses, a few keys are looked up: fixed ones
 * and pieces of the input, so that if/endif jumps and $n substitution run
 * on whatever the parser accepted.
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

    if (rc != DICT_FOUND && rc != DICT_NOTFOUND && rc != DICT_TEMPFAIL)
        __builtin_trap();
    if (rc == DICT_FOUND && value.len > DICT_MAX_VALUE)
        __builtin_trap();
    buf_free(&value);
    buf_free(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    struct buf err = BUF_INIT, key = BUF_INIT;
    struct dict *d;

    if (!initialised) {
        log_init("fuzz_pattern_table");
        log_to_stderr(0);
        initialised = 1;
    }
    if (size < 1)
        return 0;
    d = (data[0] & 1 ? dict_pcre_open_text : dict_regexp_open_text)(
        "fuzz", (const char *)data + 1, size - 1, &err);
    if (d != NULL) {
        probe(d, "");
        probe(d, "user@example.com");
        probe(d, "Subject: make money fast\nX");
        /* The input's bytes without NULs, up to 256 of them, as a key. */
        for (size_t i = 1; i < size && key.len < 256; i++)
            if (data[i] != 0 && data[i] != '\n')
                (void)buf_putc(&key, data[i]);
        probe(d, buf_str(&key));
        dict_close(d);
    } else if (err.len == 0) {
        __builtin_trap();       /* a failed open must say why */
    }
    buf_free(&err);
    buf_free(&key);
    return 0;
}
