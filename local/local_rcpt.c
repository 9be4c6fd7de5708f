/*
 * local_rcpt - split a local recipient into local part, user, extension
 * and domain (see local_rcpt.h).
 */
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "dict.h"
#include "local_rcpt.h"
#include "log.h"
#include "mem.h"

/* Must this folded local part stay whole? */
static int never_split(const char *local, size_t len, const char *delimiters,
                       int owner_request_special)
{
    static const char suffix[] = "-request";
    size_t slen = sizeof(suffix) - 1;

    if (strcmp(local, "postmaster") == 0 || strcmp(local, "mailer-daemon") == 0)
        return 1;
    if (owner_request_special && strchr(delimiters, '-')) {
        if (strncmp(local, "owner-", 6) == 0)
            return 1;
        if (len > slen && strcmp(local + len - slen, suffix) == 0)
            return 1;
    }
    return 0;
}

void local_rcpt_split(const char *address, const char *delimiters,
                      int owner_request_special, struct local_rcpt *r)
{
    const char *at = strrchr(address, '@');
    size_t len = at ? (size_t)(at - address) : strlen(address);
    size_t cut = len;

    if (delimiters == NULL)
        delimiters = "";
    memset(r, 0, sizeof(*r));
    r->address = xstrdup(address);
    r->local = xstrndup(address, len);
    dict_fold(r->local);
    r->domain = xstrdup(at ? at + 1 : "");
    if (*delimiters && len > 1
        && !never_split(r->local, len, delimiters, owner_request_special)) {
        cut = 1 + strcspn(r->local + 1, delimiters);
        if (cut > len)
            cut = len;
    }
    r->user = xstrndup(r->local, cut);
    if (cut < len) {
        r->delim[0] = r->local[cut];
        r->extension = xstrndup(address + cut + 1, len - cut - 1);
        /* A '/' would let the extension name a path: drop it (Postfix). */
        if (strchr(r->extension, '/')) {
            msg_warn("%s: address with illegal extension: %s", r->local, r->extension);
            free(r->extension);
            r->extension = NULL;
            r->delim[0] = 0;
        }
    }
}

void local_rcpt_free(struct local_rcpt *r)
{
    free(r->address);
    free(r->local);
    free(r->domain);
    free(r->user);
    free(r->extension);
    memset(r, 0, sizeof(*r));
}
