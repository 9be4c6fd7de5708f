/*
 * fuzz_dsn_log - libFuzzer target for the bounce/defer/trace log reader:
 * parse arbitrary bytes, check every entry it hands out is well formed,
 * then collapse it with dsn_log_latest and check the result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn_log.h"

/* Abort unless an entry holds what the reader promises. */
static void check_entry(const struct dsn_entry *e)
{
    if (e->rcpt == NULL || e->orcpt == NULL || e->action == NULL || e->text == NULL)
        abort();
    if (memchr(e->dsn, 0, sizeof(e->dsn)) == NULL || strlen(e->dsn) < 5)
        abort();
    if (e->dsn[0] != '2' && e->dsn[0] != '4' && e->dsn[0] != '5')
        abort();
    (void)strlen(e->rcpt);
    (void)strlen(e->text);
    if (e->diag)
        (void)strlen(e->diag);
    if (e->mta)
        (void)strlen(e->mta);
}

/* Parse, check, collapse, check again. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dsn_log log;
    size_t i, j, n;

    dsn_log_parse(data, size, &log);
    if (log.n > DSN_LOG_MAX_ENTRIES)
        abort();
    for (i = 0; i < log.n; i++)
        check_entry(&log.v[i]);
    n = log.n;
    dsn_log_latest(&log);
    if (log.n > n)
        abort();
    for (i = 0; i < log.n; i++) {
        check_entry(&log.v[i]);
        for (j = i + 1; j < log.n; j++)
            if (log.v[i].offset == log.v[j].offset)
                abort();
    }
    dsn_log_free(&log);
    return 0;
}
