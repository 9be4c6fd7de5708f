/*
 * local_dotforward - the .forward stage of local delivery: the first
 * file of forward_path that exists (elements that use an undefined
 * attribute, such as ${extension} without one, are skipped), opened as
 * the user, never through a symlink, owned by the user and not writable
 * by group or others; its destinations are delivered as the user.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eugid.h"
#include "local.h"
#include "local_expand.h"
#include "log.h"

#define FORWARD_MAX_BYTES   (64 * 1024)

/* Open and read one .forward as the user: 1 read, 0 missing, -1 noted failure. */
static int read_forward(struct local_ctx *c, const struct local_user *u, const char *path,
                        struct buf *text)
{
    struct stat st;
    char chunk[4096];
    ssize_t n;
    int fd, err;

    if (eugid_set(u->uid, u->gid) < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot switch to user %s: %s", u->name,
                   strerror(errno));
        return -1;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    err = errno;
    eugid_restore();
    if (fd < 0) {
        if (err == ENOENT || err == ENOTDIR)
            return 0;
        if (err == ELOOP) {
            msg_warn("%s: %s is a symbolic link: ignored", c->req->queue_id, path);
            return 0;
        }
        if (err == EACCES) {
            msg_warn("%s: cannot open %s: %s", c->req->queue_id, path, strerror(err));
            return 0;
        }
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot open %s: %s", path, strerror(err));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != u->uid
        || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        msg_warn("%s: %s is not a regular file owned by %s and writable only by it: ignored",
                 c->req->queue_id, path, u->name);
        close(fd);
        return 0;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (text->len + (size_t)n > FORWARD_MAX_BYTES) {
            close(fd);
            local_note(c, LOCAL_BOUNCE, "5.3.0", "%s is larger than %d bytes", path,
                       FORWARD_MAX_BYTES);
            return -1;
        }
        buf_append(text, chunk, (size_t)n);
    }
    err = errno;
    close(fd);
    if (n < 0) {
        local_note(c, LOCAL_DEFER, "4.3.0", "cannot read %s: %s", path, strerror(err));
        return -1;
    }
    return 1;
}

int local_dotforward(struct local_ctx *c, const struct local_user *u)
{
    struct local_expand_vars v = {
        .user = u->name, .home = u->home, .shell = u->shell,
        .recipient = c->rcpt.address, .local = c->rcpt.local,
        .extension = c->rcpt.extension, .domain = c->rcpt.domain,
        .recipient_delimiter = c->rcpt.delim,
    };
    struct buf pattern = BUF_INIT, path = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
    const char *raw = config_raw(c->cfg, "forward_path");
    int used = 0;

    if (raw == NULL || local_can_become(u->uid, u->name, &why) < 0)
        goto out;               /* the mailbox stage reports the identity problem */
    /* forward_path is a list: split on commas and white space. */
    for (const char *p = raw; *p; ) {
        size_t len = strcspn(p, ", \t\r\n");
        int rc;

        if (len == 0) {
            p++;
            continue;
        }
        buf_reset(&pattern);
        buf_append(&pattern, p, len);
        p += len;
        buf_reset(&path);
        buf_reset(&why);
        rc = local_expand(buf_str(&pattern), &v, &path, &why);
        if (rc < 0) {
            msg_warn("forward_path: %s: %s", buf_str(&pattern), buf_str(&why));
            continue;
        }
        if (rc & LOCAL_EXPAND_UNDEF || path.len == 0)
            continue;
        buf_reset(&text);
        rc = read_forward(c, u, buf_str(&path), &text);
        if (rc < 0) {
            used = 1;
            break;
        }
        if (rc == 0)
            continue;
        {
            struct local_dest_list l = { 0 };
            int no_forward = 0;

            used = 1;
            if (local_alias_parse_file(text.data ? text.data : "", text.len, &l, &why) < 0)
                local_note(c, LOCAL_BOUNCE, "5.3.0", "%s: %s", buf_str(&path), buf_str(&why));
            else if (l.n == 0)
                used = 0;       /* an empty .forward: deliver to the mailbox */
            else
                local_dests(c, &l, LOCAL_SRC_FORWARD, u, u, 0, NULL, &no_forward);
            local_dest_list_free(&l);
        }
        break;
    }
out:
    buf_free(&pattern);
    buf_free(&path);
    buf_free(&text);
    buf_free(&why);
    return used;
}
