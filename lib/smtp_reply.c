/*
 * smtp_reply - parse SMTP/LMTP server replies, one line at a time, with
 * hard bounds on every line and on the whole reply (see smtp_reply.h).
 */
#include <string.h>

#include "smtp_reply.h"

/* Set up an empty reply. */
void smtp_reply_init(struct smtp_reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->raw, SMTP_REPLY_MAX_TEXT + SMTP_REPLY_MAX_LINES);
    buf_init(&r->text, SMTP_REPLY_MAX_TEXT + SMTP_REPLY_MAX_LINES);
}

/* Release a reply's storage. */
void smtp_reply_free(struct smtp_reply *r)
{
    buf_free(&r->raw);
    buf_free(&r->text);
}

/* Forget the last reply. */
void smtp_reply_reset(struct smtp_reply *r)
{
    r->code = 0;
    r->enh[0] = 0;
    r->has_enh = 0;
    r->nlines = 0;
    r->done = 0;
    buf_reset(&r->raw);
    buf_reset(&r->text);
}

/* Length of a run of 1..3 digits at s (within len), or 0. */
static size_t digits13(const char *s, size_t len)
{
    size_t n = 0;

    while (n < len && n < 4 && s[n] >= '0' && s[n] <= '9')
        n++;
    return n >= 1 && n <= 3 ? n : 0;
}

/* Parse "C.S.D" at the start of text; its length or 0. */
size_t smtp_reply_enh_parse(const char *text, size_t len)
{
    size_t i = 0, n;

    if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
        return 0;
    i = 2;
    if ((n = digits13(text + i, len - i)) == 0)
        return 0;
    i += n;
    if (i >= len || text[i] != '.')
        return 0;
    i++;
    if ((n = digits13(text + i, len - i)) == 0)
        return 0;
    i += n;
    if (i < len && text[i] != ' ')
        return 0;
    return i;
}

/* Fail the reply with a reason. */
static enum smtp_reply_status fail(struct smtp_reply *r, const char **why, const char *text)
{
    *why = text;
    r->done = 1;
    return SMTP_REPLY_ERROR;
}

/* Take the enhanced code from a final line, or use the default. */
static void set_enh(struct smtp_reply *r, const char *text, size_t len)
{
    size_t n = smtp_reply_enh_parse(text, len);

    if (n > 0 && n < sizeof(r->enh) && text[0] - '0' == r->code / 100) {
        memcpy(r->enh, text, n);
        r->enh[n] = 0;
        r->has_enh = 1;
    } else {
        r->enh[0] = (char)('0' + r->code / 100);
        memcpy(r->enh + 1, ".0.0", 5);
        r->has_enh = 0;
    }
}

/* Feed one line of a reply. */
enum smtp_reply_status smtp_reply_line(struct smtp_reply *r, const char *line,
                                       size_t len, const char **why)
{
    int code;
    size_t i;

    if (r->done)
        return fail(r, why, "reply already complete");
    if (len > SMTP_REPLY_MAX_LINE)
        return fail(r, why, "reply line too long");
    if (r->nlines >= SMTP_REPLY_MAX_LINES)
        return fail(r, why, "too many reply lines");
    if (r->raw.len + len + 1 > SMTP_REPLY_MAX_TEXT)
        return fail(r, why, "reply too long");
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9'
        || line[2] < '0' || line[2] > '9')
        return fail(r, why, "reply without a valid status code");
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return fail(r, why, "malformed reply line");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if ((c < 32 && c != '\t') || c == 127)
            return fail(r, why, "control character in reply");
    }
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->nlines > 0 && code != r->code)
        return fail(r, why, "reply code changes within a multi-line reply");
    r->code = code;
    if ((r->nlines > 0 && buf_putc(&r->raw, ' ') < 0) || buf_append(&r->raw, line, len) < 0
        || (r->nlines > 0 && buf_putc(&r->text, '\n') < 0)
        || buf_append(&r->text, line + (len > 4 ? 4 : len), len > 4 ? len - 4 : 0) < 0)
        return fail(r, why, "reply too long");
    r->nlines++;
    if (len > 3 && line[3] == '-')
        return SMTP_REPLY_MORE;
    set_enh(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
    r->done = 1;
    return SMTP_REPLY_DONE;
}

/* Text of line i without its prefix. */
int smtp_reply_line_text(const struct smtp_reply *r, size_t i, struct buf *out)
{
    const char *p = buf_str(&r->text), *end;
    size_t n = 0;

    buf_reset(out);
    if (i >= r->nlines)
        return -1;
    while (n < i) {
        p = strchr(p, '\n');
        if (p == NULL)
            return -1;
        p++;
        n++;
    }
    end = strchr(p, '\n');
    return buf_append(out, p, end ? (size_t)(end - p) : strlen(p));
}

/* The reply as one line. */
const char *smtp_reply_str(const struct smtp_reply *r)
{
    return buf_str(&r->raw);
}
