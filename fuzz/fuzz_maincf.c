/*
 * fuzz_maincf - libFuzzer target for the main.cf parser.
 *
 * Feeds arbitrary bytes to config_parse(). When they parse, it walks every
 * parameter through the getters of its type, expands a few texts built
 * from the input, and tries an override, so the expansion engine and the
 * typed values are exercised on whatever the parser accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "maincf.h"
#include "param_table.h"

/* Call the getter that matches each built-in parameter's type. */
static void use_getters(const struct config *cfg)
{
    for (size_t i = 0; i < param_count; i++) {
        const char *name = param_table[i].name;

        (void)config_str(cfg, name);
        (void)config_raw(cfg, name);
        (void)config_is_set(cfg, name);
        for (char *const *p = config_list(cfg, name); *p; p++)
            (void)strlen(*p);
        switch (param_table[i].type) {
        case PT_BOOL: (void)config_bool(cfg, name); break;
        case PT_INT: (void)config_int(cfg, name); break;
        case PT_TIME: (void)config_time(cfg, name); break;
        case PT_SIZE: (void)config_size(cfg, name); break;
        default: break;
        }
    }
    for (char *const *p = config_names_set(cfg); *p; p++) {
        (void)config_str(cfg, *p);
        (void)config_list(cfg, *p);
    }
}

/* Expand texts taken from the input and the parameter names. */
static void use_expand(const struct config *cfg, const char *text)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    size_t n = strlen(text);

    (void)config_expand(cfg, text, &out, &err);
    (void)config_expand(cfg, text + n / 2, &out, &err);
    (void)config_expand(cfg, "$myhostname ${relayhost?x$mydomain} ${relayhost:$$}",
                        &out, &err);
    buf_free(&out);
    buf_free(&err);
}

/* Try an override whose value is part of the input. */
static void use_override(struct config *cfg, const char *text)
{
    struct buf err = BUF_INIT;
    char *const *names = config_names_set(cfg);
    const char *name = names[0] ? names[0] : "smtpd_timeout";

    (void)config_check_value(cfg, name, text, "fuzz", &err);
    (void)config_override(cfg, name, text, "fuzz", &err);
    (void)config_str(cfg, name);
    buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    struct buf err = BUF_INIT, text = BUF_INIT;
    struct config *cfg;

    if (!initialised) {
        log_init("fuzz_maincf");
        log_to_stderr(0);
        initialised = 1;
    }
    cfg = config_parse("fuzz.cf", (const char *)data, size, &err);
    if (cfg != NULL) {
        /* A NUL-free copy of the input, as a text to expand. */
        for (size_t i = 0; i < size && i < 4096; i++)
            if (data[i] != 0)
                (void)buf_putc(&text, data[i]);
        use_getters(cfg);
        use_expand(cfg, buf_str(&text));
        use_override(cfg, buf_str(&text));
        use_getters(cfg);
        config_free(cfg);
    }
    buf_free(&err);
    buf_free(&text);
    return 0;
}
