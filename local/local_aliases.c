/*
 * local_aliases - the alias stage of local delivery: look the recipient's
 * local part up in alias_maps (user+ext, then user), expand the value
 * with the privileges of the alias database's owner (default_privs when
 * that is root or unknown), and use owner-ALIAS as the sender of the
 * re-queued copy when it exists (owner_request_special; its value with
 * expand_owner_alias).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr_lookup.h"
#include "dict.h"
#include "eugid.h"
#include "local.h"
#include "log.h"
#include "mem.h"

static struct dict **tables;
static int ntables;
static int open_failed;             /* some alias table could not be opened */

void local_aliases_open(const struct config *cfg)
{
    struct buf err = BUF_INIT;

    for (char *const *v = config_list(cfg, "alias_maps"); *v; v++) {
        struct dict *d;

        buf_reset(&err);
        if ((d = dict_open(*v, DICT_FLAG_FOLD, cfg, &err)) == NULL) {
            msg_warn("alias_maps: %s", buf_str(&err));
            open_failed = 1;
            continue;
        }
        tables = xreallocarray(tables, (size_t)ntables + 1, sizeof(*tables));
        tables[ntables++] = d;
    }
    buf_free(&err);
}

/*
 * The file behind a table ("lmdb:/etc/aliases" -> /etc/aliases.lmdb),
 * for its owner; NULL for tables without one (inline:, static:, ldap:).
 */
static char *table_file(const char *spec)
{
    const char *colon, *name;
    size_t tlen;

    if (strncmp(spec, "proxy:", 6) == 0)
        spec += 6;
    if ((colon = strchr(spec, ':')) == NULL)
        return xstrdup(spec);   /* default type: lmdb */
    tlen = (size_t)(colon - spec);
    name = colon + 1;
    if (*name != '/')
        return NULL;
    if ((tlen == 4 && strncmp(spec, "lmdb", 4) == 0) || (tlen == 4 && strncmp(spec, "hash", 4) == 0)
        || (tlen == 5 && strncmp(spec, "btree", 5) == 0)) {
        struct buf b = BUF_INIT;

        buf_printf(&b, "%s.lmdb", name);
        return buf_steal(&b);
    }
    if ((tlen == 8 && strncmp(spec, "texthash", 8) == 0) || (tlen == 6 && strncmp(spec, "regexp", 6) == 0)
        || (tlen == 4 && strncmp(spec, "pcre", 4) == 0) || (tlen == 4 && strncmp(spec, "cidr", 4) == 0))
        return xstrdup(name);
    return NULL;
}

/*
 * Who runs an alias's commands and files: the table file's owner when
 * that is not root, else default_privs; in an unprivileged instance,
 * the instance's own user. 0, or -1 (noted as a deferral).
 */
static int alias_identity(struct local_ctx *c, const struct dict *d, struct local_user *as)
{
    struct buf why = BUF_INIT;
    char *file = table_file(d->spec);
    struct stat st;
    const char *privs = config_str(c->cfg, "default_privs");
    int rc;

    if (!eugid_privileged())
        rc = local_user_byuid(getuid(), as, &why);
    else if (file && stat(file, &st) == 0 && st.st_uid != 0) {
        if ((rc = local_user_byuid(st.st_uid, as, &why)) < 0) {
            msg_warn("cannot find alias database owner for %s: %s", d->spec, buf_str(&why));
            buf_set(&why, "cannot find alias database owner");
        }
    } else if ((rc = local_user_byname(privs, as, &why)) == 0)
        buf_printf(&why, "default_privs user %s does not exist", privs);
    else
        as->is_default_privs = 1;
    free(file);
    if (rc <= 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        buf_free(&why);
        return -1;
    }
    if ((as->uid == 0 || as->gid == 0) && eugid_privileged()) {
        local_note(c, LOCAL_DEFER, "4.3.0", "%s %s has %s 0",
                   as->is_default_privs ? "default_privs user" : "alias database owner",
                   as->name, as->uid == 0 ? "uid" : "gid");
        local_user_free(as);
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    return 0;
}

/*
 * Use owner-USER as the sender of the expansion when that alias exists
 * (or, with expand_owner_alias, its value when that is one address).
 */
static void owner_alias(struct local_ctx *c)
{
    struct buf key = BUF_INIT, value = BUF_INIT, why = BUF_INIT;

    if (!config_bool(c->cfg, "owner_request_special"))
        return;
    buf_printf(&key, "owner-%s", c->rcpt.user);
    for (int k = 0; k < ntables; k++) {
        int rc = dict_lookup(tables[k], buf_str(&key), &value, &why);

        if (rc == DICT_FOUND) {
            struct local_dest_list l = { 0 };

            /* expand_owner_alias: the owner's one address instead of the name. */
            if (config_bool(c->cfg, "expand_owner_alias")
                && local_alias_parse(buf_str(&value), &l, &why) == 0 && l.n == 1
                && l.v[0].type == LOCAL_DEST_ADDRESS)
                buf_set(&key, l.v[0].value);
            local_dest_list_free(&l);
            if (*c->rcpt.domain && strchr(buf_str(&key), '@') == NULL)
                buf_printf(&key, "@%s", c->rcpt.domain);
            free(c->fwd_sender);
            c->fwd_sender = buf_steal(&key);
            break;
        }
        if (rc == DICT_TEMPFAIL)
            break;
    }
    buf_free(&key);
    buf_free(&value);
    buf_free(&why);
}

int local_aliases(struct local_ctx *c, int *no_forward)
{
    struct buf value = BUF_INIT, matched = BUF_INIT, why = BUF_INIT;
    struct local_dest_list l = { 0 };
    struct local_user as = { 0 };
    const char *delim = config_str(c->cfg, "recipient_delimiter");
    const char *ext = NULL;
    int rc = DICT_NOTFOUND, k, result = 0;

    if (open_failed) {
        local_note(c, LOCAL_DEFER, "4.3.0", "alias database unavailable");
        return -1;
    }
    for (k = 0; k < ntables; k++) {
        rc = addr_lookup(&tables[k], 1, c->rcpt.local, delim, ADDR_LOOKUP_LOCALPART,
                         &value, &matched, &why);
        if (rc != DICT_NOTFOUND)
            break;
    }
    if (rc == DICT_NOTFOUND)
        goto out;
    if (rc == DICT_TEMPFAIL) {
        msg_warn("%s: alias lookup of %s: %s", c->req->queue_id, c->rcpt.local, buf_str(&why));
        local_note(c, LOCAL_DEFER, "4.3.0", "alias database unavailable");
        result = -1;
        goto out;
    }
    result = 1;
    if (local_alias_parse(buf_str(&value), &l, &why) < 0) {
        msg_warn("%s: alias %s: %s", tables[k]->spec, buf_str(&matched), buf_str(&why));
        local_note(c, LOCAL_DEFER, "4.3.0", "bad alias for %s: %s", buf_str(&matched),
                   buf_str(&why));
        goto out;
    }
    /* An unmatched extension goes along when asked (propagate_unmatched_extensions). */
    if (c->rcpt.extension && strcmp(buf_str(&matched), c->rcpt.user) == 0
        && local_param_has(c->cfg, "propagate_unmatched_extensions", "alias"))
        ext = c->rcpt.extension;
    owner_alias(c);
    if (alias_identity(c, tables[k], &as) < 0)
        goto out;
    local_dests(c, &l, LOCAL_SRC_ALIAS, &as, NULL, 0, ext, no_forward);
out:
    local_user_free(&as);
    local_dest_list_free(&l);
    buf_free(&value);
    buf_free(&matched);
    buf_free(&why);
    return result;
}
