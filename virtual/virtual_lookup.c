/*
 * virtual_lookup - the tables of the virtual agent: which recipients
 * have a mailbox (virtual_mailbox_domains, virtual_mailbox_maps), where
 * it is (virtual_mailbox_base + the value) and whose it is
 * (virtual_uid_maps, virtual_gid_maps, virtual_minimum_uid). Keys are
 * tried in Postfix virtual(8) order: user+ext@domain, user@domain,
 * @domain (never the bare user).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr_lookup.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"
#include "numparse.h"
#include "virtual.h"

/* Open every table a list parameter names; -1 with err. */
static int open_maps(const struct config *cfg, const char *param, struct dict ***out,
                     int *count, struct buf *err)
{
    char *const *items = config_list(cfg, param);

    *count = 0;
    *out = NULL;
    for (size_t i = 0; items[i]; i++) {
        struct dict *d = dict_open(items[i], DICT_FLAG_FOLD, cfg, err);

        if (d == NULL) {
            buf_printf(err, " (in %s)", param);
            return -1;
        }
        *out = xreallocarray(*out, (size_t)*count + 1, sizeof(**out));
        (*out)[(*count)++] = d;
    }
    return 0;
}

/* virtual_mailbox_lock as MAILBOX_LOCK_* flags. */
static unsigned lock_flags(const struct config *cfg)
{
    char *const *items = config_list(cfg, "virtual_mailbox_lock");
    unsigned flags = 0;

    for (size_t i = 0; items[i]; i++) {
        if (strcmp(items[i], "fcntl") == 0)
            flags |= MAILBOX_LOCK_FCNTL;
        else if (strcmp(items[i], "dotlock") == 0)
            flags |= MAILBOX_LOCK_DOTLOCK;
        else {
            msg_warn("virtual_mailbox_lock: %s locking is not supported; using fcntl",
                     items[i]);
            flags |= MAILBOX_LOCK_FCNTL;
        }
    }
    return flags;
}

/* Read the parameters and open the tables. */
struct virtual_ctx *virtual_open(const struct config *cfg, struct buf *err)
{
    struct virtual_ctx *vc = xcalloc(1, sizeof(*vc));

    vc->base = config_str(cfg, "virtual_mailbox_base");
    vc->delimiters = config_str(cfg, "recipient_delimiter");
    vc->minimum_uid = config_int(cfg, "virtual_minimum_uid");
    vc->size_limit = config_size(cfg, "virtual_mailbox_limit");
    vc->lock_flags = lock_flags(cfg);
    if (open_maps(cfg, "virtual_mailbox_maps", &vc->mailbox_maps, &vc->nmailbox, err) < 0
        || open_maps(cfg, "virtual_uid_maps", &vc->uid_maps, &vc->nuid, err) < 0
        || open_maps(cfg, "virtual_gid_maps", &vc->gid_maps, &vc->ngid, err) < 0
        || (vc->resolver = resolver_open(cfg, err)) == NULL) {
        virtual_close(vc);
        return NULL;
    }
    return vc;
}

/* Close a list of tables. */
static void close_maps(struct dict **maps, int n)
{
    for (int i = 0; i < n; i++)
        dict_close(maps[i]);
    free(maps);
}

/* Close the tables and free the context. */
void virtual_close(struct virtual_ctx *vc)
{
    if (vc == NULL)
        return;
    close_maps(vc->mailbox_maps, vc->nmailbox);
    close_maps(vc->uid_maps, vc->nuid);
    close_maps(vc->gid_maps, vc->ngid);
    if (vc->resolver)
        resolver_close(vc->resolver);
    free(vc);
}

/* The mailbox path for a table value under virtual_mailbox_base. */
int virtual_mailbox_path(const char *base, const char *value, struct buf *out,
                         int *maildir, struct buf *why)
{
    size_t n = strlen(value);
    const char *p;

    buf_reset(out);
    if (n == 0) {
        buf_puts(why, "empty mailbox path");
        return -1;
    }
    /* No ".." component: a table value must not climb out of the base. */
    for (p = value; *p; ) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            buf_printf(why, "mailbox path \"%s\" contains \"..\"", value);
            return -1;
        }
        p += len;
        while (*p == '/')
            p++;
    }
    if (*base) {
        size_t blen = strlen(base);

        buf_puts(out, base);
        while (blen > 1 && out->data[blen - 1] == '/')
            buf_truncate(out, --blen);
        if (out->data[out->len - 1] != '/')
            buf_putc(out, '/');
        while (*value == '/')
            value++;
    }
    buf_puts(out, value);
    *maildir = value[0] ? value[strlen(value) - 1] == '/' : 1;
    return 0;
}

/* A numeric id from a uid/gid table; VIRTUAL_* status. */
static enum virtual_status lookup_id(struct virtual_ctx *vc, struct dict **maps, int n,
                                     const char *param, const char *address, long *id,
                                     struct buf *why)
{
    struct buf value = BUF_INIT;
    enum virtual_status st = VIRTUAL_OK;
    int rc;

    rc = addr_lookup(maps, n, address, vc->delimiters, ADDR_LOOKUP_DOMAIN, &value, NULL, why);
    if (rc == DICT_TEMPFAIL) {
        buf_printf(why, "%s%s lookup failure", why->len ? ": " : "", param);
        st = VIRTUAL_TEMP;
    } else if (rc == DICT_NOTFOUND) {
        buf_printf(why, "recipient %s: not found in %s", address, param);
        st = VIRTUAL_CONFIG;
    } else if (parse_long(buf_str(&value), 0, 0x7fffffffL, id) < 0) {
        buf_printf(why, "recipient %s: bad %s result \"%s\"", address, param, buf_str(&value));
        st = VIRTUAL_CONFIG;
    }
    buf_free(&value);
    return st;
}

/* A recipient's mailbox, uid and gid, or why not. */
enum virtual_status virtual_lookup_user(struct virtual_ctx *vc, const char *address,
                                        struct virtual_user *u, struct buf *why)
{
    struct buf value = BUF_INIT;
    struct resolved res;
    enum virtual_status st;
    long uid, gid;
    int rc;

    /* Only the virtual mailbox domains are ours. */
    if (strchr(address, '@') == NULL)
        return VIRTUAL_UNKNOWN;
    if (resolve_addr(vc->resolver, address, &res, why) < 0) {
        if (why->len == 0)
            buf_puts(why, "address resolver failure");
        return VIRTUAL_TEMP;
    }
    if (res.cls != RESOLVE_VIRTUAL)
        return VIRTUAL_UNKNOWN;

    rc = addr_lookup(vc->mailbox_maps, vc->nmailbox, address, vc->delimiters,
                     ADDR_LOOKUP_DOMAIN, &value, NULL, why);
    if (rc != DICT_FOUND) {
        buf_free(&value);
        if (rc == DICT_NOTFOUND)
            return VIRTUAL_UNKNOWN;
        buf_printf(why, "%svirtual_mailbox_maps lookup failure", why->len ? ": " : "");
        return VIRTUAL_TEMP;
    }
    if (virtual_mailbox_path(vc->base, buf_str(&value), &u->path, &u->maildir, why) < 0) {
        buf_free(&value);
        return VIRTUAL_CONFIG;
    }
    buf_free(&value);
    if ((st = lookup_id(vc, vc->uid_maps, vc->nuid, "virtual_uid_maps", address, &uid,
                        why)) != VIRTUAL_OK
        || (st = lookup_id(vc, vc->gid_maps, vc->ngid, "virtual_gid_maps", address, &gid,
                           why)) != VIRTUAL_OK)
        return st;
    if (uid < vc->minimum_uid) {
        buf_printf(why, "recipient %s: bad uid %ld in virtual_uid_maps "
                   "(below virtual_minimum_uid %ld)", address, uid, vc->minimum_uid);
        return VIRTUAL_CONFIG;
    }
    u->uid = (uid_t)uid;
    u->gid = (gid_t)gid;
    return VIRTUAL_OK;
}
