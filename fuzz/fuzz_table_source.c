/*
 * fuzz_table_source - libFuzzer target for the "key value" table source
 * parser (table_source_parse). Checks the promises of table_source.h on
 * whatever the input is: every entry has a non-empty key without white
 * space, a non-empty value without leading or trailing white space, a
 * line number within the input, and every error line names the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "table_source.h"

struct seen {
    int entries;
    int max_line;
};

static int check_entry(const char *key, const char *value, int line, void *arg)
{
    struct seen *s = arg;
    size_t vlen = strlen(value);

    if (*key == 0 || strpbrk(key, " \t\r\v\f\n") != NULL)
        abort();
    if (vlen == 0 || strchr(" \t\r\v\f", value[0]) || strchr(" \t\r\v\f", value[vlen - 1]))
        abort();
    if (line < 1 || line > s->max_line)
        abort();
    s->entries++;
    return s->entries >= 100000;    /* exercise the early stop too */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    struct buf err = BUF_INIT;
    struct seen s = { 0, 1 };
    const char *p, *q;
    int errors;

    if (!initialised) {
        log_init("fuzz_table_source");
        log_to_stderr(0);
        initialised = 1;
    }
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n')
            s.max_line++;
    errors = table_source_parse("fuzz.src", (const char *)data, size, check_entry, &s, &err);
    if (errors < 0 || (errors > 0) != (err.len > 0))
        abort();
    for (p = buf_str(&err); *p; p = q + 1) {
        if (strncmp(p, "fuzz.src", 8) != 0 || (q = strchr(p, '\n')) == NULL)
            abort();
    }
    buf_free(&err);
    return 0;
}
