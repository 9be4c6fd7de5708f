/*
 * local_dests - deliver the destinations of one alias, .forward or
 * :include: file: |commands and /files (each allowed or refused per
 * allow_mail_to_commands / allow_mail_to_files and where it came from),
 * nested :include: files read as the identity in charge, addresses kept
 * for re-queueing, and self references that mean "my own mailbox".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eugid.h"
#include "local.h"
#include "log.h"
#include "mem.h"

#define INCLUDE_MAX_BYTES   (1024 * 1024)

static const char *const source_names[] = { "alias", "forward", "include" };

/* Is addr the recipient itself (same local part or user, same or no domain)? */
static int is_self(const struct local_ctx *c, const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t)(at - addr) : strlen(addr);

    if (at && strcasecmp(at + 1, c->rcpt.domain) != 0)
        return 0;
    return (strlen(c->rcpt.local) == len && strncasecmp(addr, c->rcpt.local, len) == 0)
        || (strlen(c->rcpt.user) == len && strncasecmp(addr, c->rcpt.user, len) == 0);
}

/* Read an :include: file as `as`; 0 with its text, or -1 (noted). */
static int read_include(struct local_ctx *c, const char *path, const struct local_user *as,
                        struct buf *text, uid_t *owner)
{
    struct buf why = BUF_INIT;
    struct stat st;
    char chunk[8192];
    ssize_t n;
    int fd, err;

    if (local_can_become(as->uid, as->name, &why) < 0 || eugid_set(as->uid, as->gid) < 0) {
        if (why.len == 0)
            buf_printf(&why, "cannot switch to uid %ld: %s", (long)as->uid, strerror(errno));
        local_note(c, LOCAL_DEFER, "4.3.0", "%s", buf_str(&why));
        buf_free(&why);
        return -1;
    }
    fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    err = errno;
    eugid_restore();
    if (fd < 0) {
        local_note(c, err == ENOENT ? LOCAL_BOUNCE : LOCAL_DEFER,
                   err == ENOENT ? "5.3.0" : "4.3.0",
                   "cannot open include file %s: %s", path, strerror(err));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        local_note(c, LOCAL_BOUNCE, "5.3.0", "include file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & S_IWOTH) {
        local_note(c, LOCAL_BOUNCE, "5.3.5", ":include: file %s is world writable", path);
        close(fd);
        return -1;
    }
    *owner = st.st_uid;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (text->len + (size_t)n > INCLUDE_MAX_BYTES) {
            local_note(c, LOCAL_BOUNCE, "5.3.0", "include file %s is larger than %d bytes",
                       path, INCLUDE_MAX_BYTES);
            close(fd);
            return -1;
        }
        buf_append(text, chunk, (size_t)n);
    }
    err = errno;
    close(fd);
    if (n < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot read include file %s: %s", path,
                   strerror(err));
        return -1;
    }
    return 0;
}

/* Was kind+key already handled for this recipient? Else remember it. */
static int seen_before(struct local_ctx *c, char kind, const char *key)
{
    struct buf b = BUF_INIT;

    buf_printf(&b, "%c%s", kind, key);
    for (size_t k = 0; k < c->nseen; k++)
        if (strcmp(c->seen[k], buf_str(&b)) == 0) {
            buf_free(&b);
            return 1;
        }
    c->seen = xrealloc(c->seen, (c->nseen + 1) * sizeof(*c->seen));
    c->seen[c->nseen++] = buf_steal(&b);
    return 0;
}

/* Expand one :include: file. */
static void do_include(struct local_ctx *c, const char *path, const struct local_user *as,
                       const struct local_user *rcpt_user, int depth, const char *ext,
                       int *no_forward)
{
    struct buf text = BUF_INIT, why = BUF_INIT;
    struct local_dest_list l = { 0 };
    struct local_user owner = { 0 };
    uid_t uid = 0;

    if (depth >= LOCAL_MAX_DEPTH) {
        local_note(c, LOCAL_BOUNCE, "5.4.6", "include nesting too deep: %s", path);
        return;
    }
    if (seen_before(c, 'I', path))
        return;
    if (read_include(c, path, as, &text, &uid) < 0)
        goto out;
    if (local_alias_parse_file(text.data ? text.data : "", text.len, &l, &why) < 0) {
        local_note(c, LOCAL_BOUNCE, "5.3.0", "include file %s: %s", path, buf_str(&why));
        goto out;
    }
    /*
     * Under default_privs (a root-owned alias database), its commands and
     * files run as its owner unless that is root; .forward and user-owned
     * aliases keep their own identity.
     */
    if (as->is_default_privs && uid != 0 && uid != as->uid && eugid_privileged()) {
        if (local_user_byuid(uid, &owner, &why) <= 0) {
            msg_warn("cannot find username for uid %ld: %s", (long)uid, buf_str(&why));
            local_note(c, LOCAL_DEFER, "4.3.0", "cannot find :include: file owner username");
            goto out;
        }
        local_dests(c, &l, LOCAL_SRC_INCLUDE, &owner, rcpt_user, depth + 1, ext, no_forward);
    } else
        local_dests(c, &l, LOCAL_SRC_INCLUDE, as, rcpt_user, depth + 1, ext, no_forward);
out:
    local_user_free(&owner);
    local_dest_list_free(&l);
    buf_free(&text);
    buf_free(&why);
}

/* addr with +ext put before the '@' (propagate_unmatched_extensions). */
static char *with_ext(const struct local_ctx *c, const char *addr, const char *ext)
{
    struct buf b = BUF_INIT;
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t)(at - addr) : strlen(addr);

    buf_append(&b, addr, len);
    buf_printf(&b, "%s%s%s", c->rcpt.delim, ext, at ? at : "");
    return buf_steal(&b);
}

void local_dests(struct local_ctx *c, const struct local_dest_list *l,
                 enum local_source src, const struct local_user *as,
                 const struct local_user *rcpt_user, int depth, const char *ext,
                 int *no_forward)
{
    const char *sname = source_names[src];

    for (size_t k = 0; k < l->n; k++) {
        const struct local_dest *d = &l->v[k];

        switch (d->type) {
        case LOCAL_DEST_COMMAND:
            if (!local_param_has(c->cfg, "allow_mail_to_commands", sname))
                local_note(c, LOCAL_BOUNCE, "5.7.1", "mail to command is restricted");
            else if (!seen_before(c, 'C', d->value))
                local_deliver_command(c, d->value, as, rcpt_user ? rcpt_user : as, 0);
            break;
        case LOCAL_DEST_FILE:
            if (!local_param_has(c->cfg, "allow_mail_to_files", sname))
                local_note(c, LOCAL_BOUNCE, "5.7.1", "mail to file is restricted");
            else if (!seen_before(c, 'F', d->value))
                local_deliver_file(c, d->value, as);
            break;
        case LOCAL_DEST_INCLUDE:
            do_include(c, d->value, as, rcpt_user, depth, ext, no_forward);
            break;
        case LOCAL_DEST_MAILBOX:
            if (is_self(c, d->value)) {
                c->to_mailbox = 1;
                *no_forward = 1;
            } else {
                local_forward_add(c, d->value);
            }
            break;
        case LOCAL_DEST_ADDRESS:
            if (is_self(c, d->value)) {
                c->to_mailbox = 1;
            } else if (ext && *ext && !strchr(d->value, '"')) {
                char *a = with_ext(c, d->value, ext);

                local_forward_add(c, a);
                free(a);
            } else {
                local_forward_add(c, d->value);
            }
            break;
        }
    }
}
