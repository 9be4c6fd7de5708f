/*
 * dict_unix - "unix:passwd.byname" and "unix:group.byname": the system's
 * user and group databases (getpwnam/getgrnam, so NSS modules apply) as
 * a read-only table, as in Postfix. The default local_recipient_maps is
 * proxy:unix:passwd.byname, so that smtpd (chrooted) asks lookupd.
 *
 * Values have the shapes Postfix gives them:
 *
 *   passwd.byname   name:passwd:uid:gid:gecos:dir:shell
 *   group.byname    name:passwd:gid:member,member,...
 *
 * A name that the database does not know is DICT_NOTFOUND; a database
 * error (errno set by getpwnam/getgrnam, other than "no such entry") is
 * DICT_TEMPFAIL. Keys are folded to lower case like every indexed table.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mem.h"

enum unix_map { UNIX_PASSWD, UNIX_GROUP };

struct dict_unix {
    struct dict dict;
    enum unix_map map;
};

extern const struct dict_ops dict_unix_ops;

/* Open one of the two known maps. */
static struct dict *unix_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err)
{
    struct dict_unix *d;
    struct buf spec = BUF_INIT;
    enum unix_map map;

    (void)cfg;
    if (strcmp(name, "passwd.byname") == 0)
        map = UNIX_PASSWD;
    else if (strcmp(name, "group.byname") == 0)
        map = UNIX_GROUP;
    else {
        buf_printf(err, "unix:%s: unknown table (known: passwd.byname, group.byname)", name);
        return NULL;
    }
    if (flags & (DICT_FLAG_WRITE | DICT_FLAG_CREATE)) {
        buf_printf(err, "unix:%s: table is read-only", name);
        return NULL;
    }
    buf_printf(&spec, "unix:%s", name);
    d = (struct dict_unix *)dict_alloc(sizeof(*d), &dict_unix_ops, buf_str(&spec), flags);
    buf_free(&spec);
    d->map = map;
    return &d->dict;
}

/* Is this errno from getpwnam/getgrnam just "no such entry"? */
static int not_found_errno(int e)
{
    return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* Look a user or group up by name. */
static int unix_lookup(struct dict *dict, const char *key, struct buf *value,
                       struct buf *why)
{
    struct dict_unix *d = (struct dict_unix *)dict;

    if (*key == 0)
        return DICT_NOTFOUND;
    errno = 0;
    if (d->map == UNIX_PASSWD) {
        struct passwd *pw = getpwnam(key);

        if (pw == NULL) {
            if (not_found_errno(errno))
                return DICT_NOTFOUND;
            buf_printf(why, "%s: getpwnam %s: %s", dict->spec, key, strerror(errno));
            return DICT_TEMPFAIL;
        }
        buf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name,
                   pw->pw_passwd ? pw->pw_passwd : "", (long)pw->pw_uid,
                   (long)pw->pw_gid, pw->pw_gecos ? pw->pw_gecos : "",
                   pw->pw_dir ? pw->pw_dir : "", pw->pw_shell ? pw->pw_shell : "");
        return DICT_FOUND;
    } else {
        struct group *gr = getgrnam(key);

        if (gr == NULL) {
            if (not_found_errno(errno))
                return DICT_NOTFOUND;
            buf_printf(why, "%s: getgrnam %s: %s", dict->spec, key, strerror(errno));
            return DICT_TEMPFAIL;
        }
        buf_printf(value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd ? gr->gr_passwd : "",
                   (long)gr->gr_gid);
        for (char **m = gr->gr_mem; m && *m; m++)
            buf_printf(value, "%s%s", m == gr->gr_mem ? "" : ",", *m);
        return DICT_FOUND;
    }
}

/* Free the table. */
static void unix_close(struct dict *dict)
{
    dict_free_common(dict);
}

const struct dict_ops dict_unix_ops = {
    .type = "unix",
    .caps = 0,
    .open = unix_open,
    .lookup = unix_lookup,
    .close = unix_close,
};
