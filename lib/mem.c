/*
 * mem - allocation wrappers that exit on failure (see mem.h).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

static void *check(void *p, size_t size)
{
    if (p == NULL && size != 0)
        msg_fatal("out of memory allocating %zu bytes", size);
    return p;
}

void *xmalloc(size_t size)
{
    return check(malloc(size ? size : 1), size ? size : 1);
}

void *xcalloc(size_t count, size_t size)
{
    return check(calloc(count ? count : 1, size ? size : 1), 1);
}

void *xrealloc(void *ptr, size_t size)
{
    return check(realloc(ptr, size ? size : 1), size ? size : 1);
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > (size_t)-1 / size)
        msg_fatal("allocation overflow: %zu elements of %zu bytes", count, size);
    return xrealloc(ptr, count * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = 0;
    return p;
}
