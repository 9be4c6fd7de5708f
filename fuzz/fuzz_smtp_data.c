/*
 * fuzz_smtp_data - libFuzzer target for the SMTP DATA reader.
 *
 * The first byte picks the policy and the size of the reads; the rest is
 * what a client sends after "354". Checks that (1) the end of data is
 * exactly the first CRLF "." CRLF of the stream (the DATA command's own
 * CRLF counting as the first CRLF) — nothing earlier, nothing later; (2)
 * REJECT stops at the first bare LF or CR before that point; (3) the
 * lines are the same however the input is split into reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_data.h"

static int collect(const char *data, size_t len, int line_end, int bare, void *arg)
{
    struct buf *b = arg;

    buf_append(b, data, len);
    if (line_end)
        buf_append(b, bare ? "\0~" : "\0|", 2);
    return 0;
}

static enum smtp_data_status run(enum smtp_data_policy policy, const uint8_t *in, size_t len,
                                 size_t step, struct buf *lines, size_t *consumed)
{
    struct smtp_data *sd = malloc(sizeof(*sd));
    enum smtp_data_status st = SMTP_DATA_MORE;
    size_t off = 0, used;

    smtp_data_init(sd, policy, collect, lines);
    while (off < len) {
        size_t n = step < len - off ? step : len - off;

        st = smtp_data_feed(sd, (const char *)in + off, n, &used);
        off += used;
        if (st != SMTP_DATA_MORE)
            break;
    }
    *consumed = off;
    free(sd);
    return st;
}

/* Offset just past the first CRLF.CRLF, with the DATA line's CRLF in front; 0 if none. */
static size_t first_end(const uint8_t *in, size_t len)
{
    if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
        return 3;
    for (size_t i = 0; i + 5 <= len; i++)
        if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
            return i + 5;
    return 0;
}

/* Offset of the first bare LF or bare CR, or len. */
static size_t first_bare(const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            return i;
        if (in[i] == '\r' && (i + 1 >= len || in[i + 1] != '\n'))
            return i + 1 < len ? i : len;   /* a CR at the very end may still get its LF */
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    enum smtp_data_policy policy;
    enum smtp_data_status s1, s2;
    size_t c1, c2, step, end, bare;

    if (size < 1)
        return 0;
    policy = (data[0] & 1) ? SMTP_DATA_NORMALIZE : SMTP_DATA_REJECT;
    step = (size_t)(data[0] >> 1) + 1;
    data++;
    size--;

    s1 = run(policy, data, size, size ? size : 1, &a, &c1);
    s2 = run(policy, data, size, step, &b, &c2);
    if (s1 != s2 || c1 != c2 || a.len != b.len || memcmp(buf_str(&a), buf_str(&b), a.len) != 0)
        abort();

    end = first_end(data, size);
    bare = first_bare(data, size);
    if (policy == SMTP_DATA_REJECT && bare < (end ? end : size)) {
        if (s1 != SMTP_DATA_BARE_NEWLINE)
            abort();
    } else if (end) {
        if (s1 != SMTP_DATA_END || c1 != end)
            abort();
    } else if (s1 != SMTP_DATA_MORE || c1 != size) {
        abort();
    }
    buf_free(&a);
    buf_free(&b);
    return 0;
}
