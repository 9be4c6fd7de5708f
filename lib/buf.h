/*
 * buf - a growable, bounds-checked byte string.
 *
 * Every buffer has a hard limit chosen by its owner; appends that would go
 * past it fail with -1 and leave the content unchanged, so a peer can never
 * make a buffer grow without bound. The content is always NUL-terminated
 * (the NUL is not counted in len), so buf_str() is safe for text.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_DEFAULT_LIMIT (64u * 1024u * 1024u)

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
};

#define BUF_INIT { NULL, 0, 0, BUF_DEFAULT_LIMIT }

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);

int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Replace the content. */
int buf_set(struct buf *b, const char *s);

/* The content as a C string; "" for a buffer that never held anything. */
const char *buf_str(const struct buf *b);
/* Take the content out as a malloc()ed string; the buffer becomes empty. */
char *buf_steal(struct buf *b);

#endif
