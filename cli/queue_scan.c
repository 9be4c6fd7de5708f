/*
 * queue_scan - walk queue directories (see queue_scan.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "queue_scan.h"

const char *const queue_scan_names[] = {
    "maildrop", "incoming", "active", "deferred", "hold", NULL,
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *queue, const char *dir, int depth,
                int (*fn)(const struct queue_entry *e, void *ctx), void *ctx)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct stat st;
    struct buf path = BUF_INIT;

    if ((d = opendir(dir)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %s", dir, strerror(errno));
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xreallocarray(names, cap, sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, names[i]);
        if (rc == 0 && lstat(buf_str(&path), &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (strlen(names[i]) == 1 && depth < QUEUE_ID_MAX_DEPTH)
                    rc = walk(queue, buf_str(&path), depth + 1, fn, ctx);
            } else {
                struct queue_entry e;

                e.queue = queue;
                e.path = (char *)buf_str(&path);
                e.name = names[i];
                e.is_id = queue_id_valid(names[i]);
                rc = fn(&e, ctx);
            }
        }
        free(names[i]);
    }
    free(names);
    buf_free(&path);
    return rc;
}

int queue_scan(const char *queue, int (*fn)(const struct queue_entry *e, void *ctx),
               void *ctx)
{
    return walk(queue, queue, 0, fn, ctx);
}
