/*
 * queue_id - unique, arrival-sortable queue IDs and their hashed
 * subdirectories (format in queue_id.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "queue_id.h"

/* Digits, upper-case consonants, lower-case consonants: ASCII order. */
static const char alphabet[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define BASE_TIME   52
#define BASE_UNIQUE 51      /* the alphabet without its last digit, 'z' */

/* The value of digit c in base, or -1. */
static int digit_value(int c, int base)
{
    const char *p;

    if (c == 0 || (p = strchr(alphabet, c)) == NULL)
        return -1;
    return (int)(p - alphabet) < base ? (int)(p - alphabet) : -1;
}

/* Write val as exactly width digits of base; -1 if it does not fit. */
static int encode_fixed(char *out, uint64_t val, int base, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = alphabet[val % (uint64_t)base];
        val /= (uint64_t)base;
    }
    return val == 0 ? 0 : -1;
}

/* Write val in base without leading zeros; returns the digit count. */
static int encode_var(char *out, uint64_t val, int base)
{
    char tmp[32];
    int n = 0;

    do {
        tmp[n++] = alphabet[val % (uint64_t)base];
        val /= (uint64_t)base;
    } while (val != 0);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Decode len digits of base; -1 on a bad digit or overflow. */
static int decode(const char *s, size_t len, int base, uint64_t *out)
{
    uint64_t val = 0;
    int d;

    for (size_t i = 0; i < len; i++) {
        if ((d = digit_value((unsigned char)s[i], base)) < 0)
            return -1;
        if (val > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        val = val * (uint64_t)base + (uint64_t)d;
    }
    *out = val;
    return 0;
}

/* Format the ID of (tv, unique). */
int queue_id_format(char out[QUEUE_ID_SIZE], const struct timeval *tv,
                    uint64_t unique)
{
    char tmp[QUEUE_ID_SIZE];
    int n;

    if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
        return -1;
    if (encode_fixed(tmp, (uint64_t)tv->tv_sec, BASE_TIME, QUEUE_ID_SEC_DIGITS) < 0)
        return -1;
    encode_fixed(tmp + QUEUE_ID_SEC_DIGITS, (uint64_t)tv->tv_usec, BASE_TIME,
                 QUEUE_ID_USEC_DIGITS);
    tmp[QUEUE_ID_TIME_DIGITS] = QUEUE_ID_SEPARATOR;
    n = encode_var(tmp + QUEUE_ID_TIME_DIGITS + 1, unique, BASE_UNIQUE);
    tmp[QUEUE_ID_TIME_DIGITS + 1 + n] = 0;
    memcpy(out, tmp, QUEUE_ID_SIZE);
    return 0;
}

/* The last time this process handed out, for strictly increasing IDs. */
static struct timeval last_issued;

/* A new ID for now (or just after the last one) and unique. */
int queue_id_new(char out[QUEUE_ID_SIZE], uint64_t unique, struct timeval *when)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    if (now.tv_sec < last_issued.tv_sec
        || (now.tv_sec == last_issued.tv_sec && now.tv_usec <= last_issued.tv_usec)) {
        now = last_issued;
        if (++now.tv_usec >= 1000000) {
            now.tv_usec = 0;
            now.tv_sec++;
        }
    }
    if (queue_id_format(out, &now, unique) < 0)
        return -1;
    last_issued = now;
    if (when != NULL)
        *when = now;
    return 0;
}

/* Decode s into its parts; -1 if malformed. */
int queue_id_parse(const char *s, struct timeval *tv, uint64_t *unique)
{
    size_t len = strnlen(s, QUEUE_ID_MAX_LEN + 1);
    uint64_t sec, usec, uniq;
    const char *tail = s + QUEUE_ID_TIME_DIGITS + 1;
    size_t tail_len;

    if (len < QUEUE_ID_MIN_LEN || len > QUEUE_ID_MAX_LEN
        || s[QUEUE_ID_TIME_DIGITS] != QUEUE_ID_SEPARATOR)
        return -1;
    tail_len = len - QUEUE_ID_TIME_DIGITS - 1;
    if (decode(s, QUEUE_ID_SEC_DIGITS, BASE_TIME, &sec) < 0
        || decode(s + QUEUE_ID_SEC_DIGITS, QUEUE_ID_USEC_DIGITS, BASE_TIME, &usec) < 0
        || usec >= 1000000
        || (tail_len > 1 && tail[0] == alphabet[0])     /* leading zero */
        || decode(tail, tail_len, BASE_UNIQUE, &uniq) < 0)
        return -1;
    if (tv != NULL) {
        tv->tv_sec = (time_t)sec;
        tv->tv_usec = (suseconds_t)usec;
    }
    if (unique != NULL)
        *unique = uniq;
    return 0;
}

/* Is s a well-formed queue ID? */
int queue_id_valid(const char *s)
{
    return queue_id_parse(s, NULL, NULL) == 0;
}

/* "X/Y/" from the hex microseconds of id, depth levels. */
int queue_id_hash_dir(struct buf *out, const char *id, int depth)
{
    struct timeval tv;
    size_t mark = out->len;
    char hex[8];

    if (depth < 0 || depth > QUEUE_ID_MAX_DEPTH || queue_id_parse(id, &tv, NULL) < 0)
        return -1;
    snprintf(hex, sizeof(hex), "%05X", (unsigned)tv.tv_usec);
    for (int i = 0; i < depth; i++) {
        char level[2] = { hex[i], '/' };

        if (buf_append(out, level, 2) < 0) {
            buf_truncate(out, mark);
            return -1;
        }
    }
    return 0;
}

/* DIR/HASH/ID. */
int queue_id_path(struct buf *out, const char *dir, const char *id, int depth)
{
    size_t mark = out->len;

    if (buf_puts(out, dir) < 0 || buf_putc(out, '/') < 0
        || queue_id_hash_dir(out, id, depth) < 0 || buf_puts(out, id) < 0) {
        buf_truncate(out, mark);
        return -1;
    }
    return 0;
}
