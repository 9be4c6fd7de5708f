/*
 * queue_tree - create and check the queue directory tree (see queue_tree.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "privilege.h"
#include "queue_tree.h"

enum owner_kind { OWN_ROOT, OWN_MAIL, OWN_MAIL_SETGID };

static const struct {
    const char *name;       /* "" is queue_directory itself */
    mode_t mode;
    enum owner_kind owner;
} tree[] = {
    {"", 0755, OWN_ROOT},
    {"pid", 0755, OWN_ROOT},
    {"maildrop", 01730, OWN_MAIL_SETGID},     /* sticky: postdrop users can't remove others' files */
    {"public", 0710, OWN_MAIL_SETGID},
    {"private", 0700, OWN_MAIL},
    {"incoming", 0700, OWN_MAIL},
    {"active", 0700, OWN_MAIL},
    {"deferred", 0700, OWN_MAIL},
    {"hold", 0700, OWN_MAIL},
    {"corrupt", 0700, OWN_MAIL},
    {"bounce", 0700, OWN_MAIL},
    {"defer", 0700, OWN_MAIL},
    {"trace", 0700, OWN_MAIL},
};

#define TREE_SIZE (sizeof(tree) / sizeof(tree[0]))

int queue_owner_resolve(const struct config *cfg, struct queue_owner *own,
                        struct buf *err)
{
    memset(own, 0, sizeof(*own));
    own->privileged = (geteuid() == 0);
    if (!own->privileged) {
        own->mail_uid = geteuid();
        own->mail_gid = own->setgid_gid = getegid();
        return 0;
    }
    if (priv_lookup_user(config_str(cfg, "mail_owner"), &own->mail_uid,
                         &own->mail_gid, err) < 0)
        return -1;
    if (own->mail_uid == 0) {
        buf_printf(err, "mail_owner %s must not be a privileged user",
                   config_str(cfg, "mail_owner"));
        return -1;
    }
    return priv_lookup_group(config_str(cfg, "setgid_group"), &own->setgid_gid, err);
}

/* The uid and gid entry i must have. */
static void want_owner(const struct queue_owner *own, size_t i, uid_t *uid, gid_t *gid)
{
    if (!own->privileged) {
        *uid = own->mail_uid;
        *gid = own->mail_gid;
        return;
    }
    switch (tree[i].owner) {
    case OWN_ROOT: *uid = 0; *gid = 0; break;
    case OWN_MAIL: *uid = own->mail_uid; *gid = own->mail_gid; break;
    case OWN_MAIL_SETGID: *uid = own->mail_uid; *gid = own->setgid_gid; break;
    }
}

/* queue_directory itself may be a symlink (a spool moved elsewhere); nothing under it. */
static int entry_stat(size_t i, const char *path, struct stat *st)
{
    return *tree[i].name ? lstat(path, st) : stat(path, st);
}

static void entry_path(const struct config *cfg, size_t i, struct buf *path)
{
    buf_set(path, config_str(cfg, "queue_directory"));
    if (*tree[i].name)
        buf_printf(path, "/%s", tree[i].name);
}

int queue_tree_create(const struct config *cfg, const struct queue_owner *own,
                      struct buf *err)
{
    struct buf path = BUF_INIT;
    struct stat st;
    uid_t uid = 0;
    gid_t gid = 0;
    int ret = 0;

    for (size_t i = 0; i < TREE_SIZE && ret == 0; i++) {
        entry_path(cfg, i, &path);
        want_owner(own, i, &uid, &gid);
        if (mkdir(buf_str(&path), tree[i].mode) < 0 && errno != EEXIST) {
            buf_printf(err, "create %s: %s", buf_str(&path), strerror(errno));
            ret = -1;
        } else if (entry_stat(i, buf_str(&path), &st) < 0 || !S_ISDIR(st.st_mode)) {
            buf_printf(err, "%s: not a directory", buf_str(&path));
            ret = -1;
        } else if ((own->privileged && (st.st_uid != uid || st.st_gid != gid)
                    && chown(buf_str(&path), uid, gid) < 0)
                   || chmod(buf_str(&path), tree[i].mode) < 0) {
            buf_printf(err, "set owner/mode of %s: %s", buf_str(&path), strerror(errno));
            ret = -1;
        }
    }
    buf_free(&path);
    return ret;
}

int queue_tree_check(const struct config *cfg, const struct queue_owner *own,
                     struct buf *problems)
{
    struct buf path = BUF_INIT;
    struct stat st;
    uid_t uid = 0;
    gid_t gid = 0;
    int count = 0;

    for (size_t i = 0; i < TREE_SIZE; i++) {
        entry_path(cfg, i, &path);
        want_owner(own, i, &uid, &gid);
        if (entry_stat(i, buf_str(&path), &st) < 0) {
            buf_printf(problems, "%s: %s\n", buf_str(&path), strerror(errno));
            count++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            buf_printf(problems, "%s: not a directory\n", buf_str(&path));
            count++;
            continue;
        }
        if ((st.st_mode & 07777) != tree[i].mode) {
            buf_printf(problems, "%s: mode %04o, should be %04o\n", buf_str(&path),
                       (unsigned)(st.st_mode & 07777), (unsigned)tree[i].mode);
            count++;
        }
        if (st.st_uid != uid || st.st_gid != gid) {
            buf_printf(problems, "%s: owner %ld:%ld, should be %ld:%ld\n",
                       buf_str(&path), (long)st.st_uid, (long)st.st_gid,
                       (long)uid, (long)gid);
            count++;
        }
    }
    buf_free(&path);
    return count;
}
