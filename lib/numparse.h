/*
 * numparse - strict parsing of numbers and typed configuration values.
 *
 * Every function accepts the whole string or nothing: no leading or
 * trailing junk, no white space, no silent overflow. They return 0 on
 * success and -1 on failure, leaving *out untouched on failure.
 */
#ifndef POSTERN_NUMPARSE_H
#define POSTERN_NUMPARSE_H

#include <stdint.h>

/* Decimal integer with optional sign, within [min, max]. */
int parse_long(const char *s, long min, long max, long *out);
/* Unsigned decimal integer, no sign, at most max. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
/* yes/no (case-insensitive), as Postfix's boolean parameters. */
int parse_bool(const char *s, int *out);
/*
 * Time interval: a number with an optional unit s, m, h, d or w; without a
 * unit, default_unit applies (one of "smhdw"). Result in seconds.
 */
int parse_time(const char *s, char default_unit, long *seconds);
/* Byte count, with an optional k, m or g suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *bytes);

#endif
