/*
 * delivered_to - the bounded, streaming scan of a header block for
 * "Delivered-To: ADDR" (delivered_to.h).
 */
#include <ctype.h>
#include <string.h>

#include "delivered_to.h"

/* Start a scan for addr. */
void delivered_to_init(struct delivered_to_scan *s, const char *addr)
{
    memset(s, 0, sizeof(*s));
    s->addr = addr;
}

/* Equal ignoring ASCII case, over explicit lengths (input may hold NUL). */
static int same_text(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* The logical field in s->field is complete: is it a header, and our match? */
static void end_field(struct delivered_to_scan *s)
{
    const char *f = s->field, *colon, *v, *end;
    size_t name_len;

    if (!s->in_field)
        return;
    s->in_field = 0;
    if (s->overflow)
        return;                 /* too long to be ours; still a header */
    if ((colon = memchr(f, ':', s->len)) == NULL || colon == f) {
        s->done = 1;            /* not a header field: the body began */
        return;
    }
    name_len = (size_t)(colon - f);
    while (name_len > 0 && (f[name_len - 1] == ' ' || f[name_len - 1] == '\t'))
        name_len--;
    for (size_t i = 0; i < name_len; i++) {
        if ((unsigned char)f[i] <= ' ' || (unsigned char)f[i] > '~') {
            s->done = 1;
            return;
        }
    }
    if (!same_text(f, name_len, "Delivered-To", 12))
        return;
    v = colon + 1;
    end = f + s->len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - v >= 2 && *v == '<' && end[-1] == '>') {
        v++;
        end--;
    }
    if (same_text(v, (size_t)(end - v), s->addr, strlen(s->addr)))
        s->found = 1;
}

/* Add one byte to the current field, within bounds. */
static void field_add(struct delivered_to_scan *s, char c)
{
    if (s->len < sizeof(s->field))
        s->field[s->len++] = c;
    else
        s->overflow = 1;
}

/* Scan the next bytes of the message. */
int delivered_to_feed(struct delivered_to_scan *s, const void *data, size_t len)
{
    const char *p = data;

    for (size_t i = 0; i < len && !s->found && !s->done; i++) {
        char c = p[i];

        if (c == '\r')
            continue;
        if (s->line_len == 0) {
            /* The first byte of a physical line decides what it is. */
            if (c == '\n') {
                end_field(s);
                s->done = 1;
                break;
            }
            if (c == ' ' || c == '\t') {
                if (!s->in_field) {
                    s->done = 1;
                    break;
                }
            } else {
                end_field(s);
                if (s->found || s->done)
                    break;
                s->in_field = 1;
                s->len = 0;
                s->overflow = 0;
            }
        }
        if (c == '\n') {
            s->line_len = 0;    /* unfold: the newline itself is dropped */
            continue;
        }
        s->line_len++;
        field_add(s, c);
    }
    if (s->found)
        return 1;
    return s->done ? -1 : 0;
}

/* End of input: the last field counts too. */
int delivered_to_finish(struct delivered_to_scan *s)
{
    if (!s->found && !s->done)
        end_field(s);
    s->done = 1;
    return s->found;
}
