/*
 * numparse - strict number and value parsing (see numparse.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "numparse.h"

int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == 0 || isspace((unsigned char)*s))
        return -1;
    if (!isdigit((unsigned char)*s) && !((*s == '-' || *s == '+') && isdigit((unsigned char)s[1])))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == 0)
        return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_bool(const char *s, int *out)
{
    if (s == NULL)
        return -1;
    if (strcasecmp(s, "yes") == 0) {
        *out = 1;
        return 0;
    }
    if (strcasecmp(s, "no") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

static long unit_seconds(char unit)
{
    switch (tolower((unsigned char)unit)) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

int parse_time(const char *s, char default_unit, long *seconds)
{
    char digits[32];
    size_t n;
    uint64_t v;
    long mult;

    if (s == NULL || *s == 0)
        return -1;
    n = strlen(s);
    if (isdigit((unsigned char)s[n - 1])) {
        mult = unit_seconds(default_unit);
    } else {
        mult = unit_seconds(s[n - 1]);
        n--;
    }
    if (mult == 0 || n == 0 || n >= sizeof(digits))
        return -1;
    memcpy(digits, s, n);
    digits[n] = 0;
    if (parse_u64(digits, (uint64_t)(LONG_MAX / mult), &v) < 0)
        return -1;
    *seconds = (long)v * mult;
    return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
    char digits[32];
    size_t n;
    uint64_t v, mult = 1;

    if (s == NULL || *s == 0)
        return -1;
    n = strlen(s);
    switch (tolower((unsigned char)s[n - 1])) {
    case 'k': mult = 1024; n--; break;
    case 'm': mult = 1024 * 1024; n--; break;
    case 'g': mult = 1024 * 1024 * 1024; n--; break;
    default: break;
    }
    if (n == 0 || n >= sizeof(digits))
        return -1;
    memcpy(digits, s, n);
    digits[n] = 0;
    if (parse_u64(digits, UINT64_MAX / mult, &v) < 0)
        return -1;
    *bytes = v * mult;
    return 0;
}
