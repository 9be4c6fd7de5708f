/*
 * fuzz_aliases - libFuzzer target for the aliases(5) parser
 * (lib/alias_source.c). Checks what every entry handed on must be: a
 * non-empty name and value, no NUL, the value without leading or
 * trailing white space.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alias_source.h"
#include "buf.h"
#include "log.h"

static int check(const char *name, const char *value, int line, void *arg)
{
    size_t n = strlen(value);

    (void)arg;
    if (*name == 0 || n == 0 || line < 1)
        __builtin_trap();
    if (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' || value[n - 1] == '\t')
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    struct buf err = BUF_INIT;
    int errors;

    if (!initialised) {
        log_init("fuzz_aliases");
        log_to_stderr(0);
        initialised = 1;
    }
    errors = alias_source_parse("fuzz", (const char *)data, size, check, NULL, &err);
    if ((errors > 0) != (err.len > 0))
        __builtin_trap();
    buf_free(&err);
    return 0;
}
