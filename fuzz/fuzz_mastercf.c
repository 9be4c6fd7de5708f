/*
 * fuzz_mastercf - libFuzzer target for the master.cf parser: parse
 * arbitrary text against the compiled-in main.cf defaults; when it parses,
 * format every service, parse the formatted lines again and check that
 * each service comes back equal (where formatting is unambiguous).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maincf.h"
#include "mastercf.h"

/* Does any argument start with "-o" or equal it (a literal one cannot round-trip)? */
static int has_literal_o(const struct service_def *s)
{
    char **cpp;
    int pairs = 0, dash_o = 0;

    for (cpp = s->override_names; *cpp; cpp++)
        pairs++;
    for (cpp = s->args; *cpp; cpp++)
        if (strncmp(*cpp, "-o", 2) == 0)
            dash_o++;
    return dash_o != pairs;
}

/* Format one service and check that it parses back to the same thing. */
static void check_round_trip(const struct service_def *s, const struct config *cfg)
{
    struct buf line, err;
    struct mastercf *again;

    if (has_literal_o(s))
        return;
    buf_init(&line, 0);
    buf_init(&err, 0);
    service_def_format(s, &line);
    buf_putc(&line, '\n');
    again = mastercf_parse("fuzz.cf", line.data, line.len, cfg, &err);
    if (again == NULL || again->count != 1
        || !service_def_equal(s, again->services))
        abort();
    mastercf_free(again);
    buf_free(&line);
    buf_free(&err);
}

/* Parse the input as a master.cf file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config *cfg;
    struct buf err;
    struct mastercf *mcf;
    int i;

    if (cfg == NULL)
        cfg = config_defaults();
    buf_init(&err, 0);
    mcf = mastercf_parse("fuzz.cf", (const char *)data, size, cfg, &err);
    if (mcf == NULL && err.len == 0)
        abort();
    if (mcf != NULL) {
        for (i = 0; i < mcf->count; i++)
            check_round_trip(mcf->services + i, cfg);
    }
    mastercf_free(mcf);
    buf_free(&err);
    return 0;
}
