/*
 * maincf - main.cf: parse, expand, type-check, and answer typed queries.
 *
 * Syntax as Postfix's main.cf: "name = value" lines, '#' comments (only at
 * the start of a line), a line that begins with white space continues the
 * previous one, $name / ${name} / $(name) expand (recursively, with loop
 * detection; ${name?text} and ${name:text} as in Postfix). Every parameter
 * must be known to param_table, or be used through $name by some other
 * setting (a user-defined parameter, as Postfix allows). Every value is
 * checked against its type after expansion. Every error names the file and
 * line ("/etc/postern/main.cf, line 12: ...").
 *
 * A struct config is immutable after config_load() except for
 * config_override(), which master.cf "-o name=value" uses.
 */
#ifndef POSTERN_MAINCF_H
#define POSTERN_MAINCF_H

#include <stdint.h>

#include "buf.h"

struct config;

/* Hard limits on what main.cf may hold. */
#define MAINCF_MAX_FILE     (4 * 1024 * 1024)   /* bytes */
#define MAINCF_MAX_VALUE    (256 * 1024)        /* bytes, one value, expanded */
#define MAINCF_MAX_DEPTH    50                  /* nested $name expansion */

/*
 * Read DIR/main.cf (a missing file is an error). On failure returns NULL
 * and puts one or more lines "FILE, line N: problem" into err.
 */
struct config *config_load(const char *config_dir, struct buf *err);
/* Parse main.cf text from memory; name is used in error messages. */
struct config *config_parse(const char *name, const char *text, size_t len,
                            struct buf *err);
/* Defaults only, as if main.cf were empty. Never fails. */
struct config *config_defaults(void);
void config_free(struct config *cfg);

/*
 * Set name=value on top of main.cf (master.cf -o). origin is used in the
 * error message ("/etc/postern/master.cf, line 7"). Checks name and type.
 */
int config_override(struct config *cfg, const char *name, const char *value,
                    const char *origin, struct buf *err);

/*
 * Would name=value be accepted (known or user-defined name, value of the
 * right type after expansion)? For checking master.cf -o without changing
 * cfg. origin as for config_override().
 */
int config_check_value(const struct config *cfg, const char *name,
                       const char *value, const char *origin, struct buf *err);

const char *config_dir(const struct config *cfg);
/* File main.cf was read from ("" for config_defaults()). */
const char *config_file(const struct config *cfg);

/* Is name set in main.cf (or by override), as opposed to its default? */
int config_is_set(const struct config *cfg, const char *name);
/* Known parameter or user-defined one from main.cf? */
int config_has(const struct config *cfg, const char *name);
/* Raw (unexpanded) value; NULL for an unknown name. */
const char *config_raw(const struct config *cfg, const char *name);

/*
 * Typed getters for known parameters. The value was checked at load time,
 * so these never fail; asking for an unknown name or the wrong type is a
 * bug (msg_panic).
 */
const char *config_str(const struct config *cfg, const char *name);   /* expanded */
int config_bool(const struct config *cfg, const char *name);
long config_int(const struct config *cfg, const char *name);
long config_time(const struct config *cfg, const char *name);         /* seconds */
uint64_t config_size(const struct config *cfg, const char *name);
/*
 * List items of the expanded value, split on commas and white space.
 * Returns a NULL-terminated array owned by cfg (valid until config_free).
 */
char *const *config_list(const struct config *cfg, const char *name);

/*
 * Expand $name references in text against cfg (for master.cf arguments and
 * -o values). Returns 0, or -1 with a message in err (unknown name, loop,
 * too long).
 */
int config_expand(const struct config *cfg, const char *text,
                  struct buf *out, struct buf *err);

/* Names set in main.cf, in file order, NULL-terminated; owned by cfg. */
char *const *config_names_set(const struct config *cfg);

#endif
