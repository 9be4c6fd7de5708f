/*
 * qmgr_scan - directory scans: crash recovery of active/ at start, and
 * moving messages from incoming/ and deferred/ into active/ while there
 * is room (qmgr_message_active_limit). A scan that stops at the limit
 * stays requested and goes on when a message leaves active/.
 *
 * deferred/ holds each message until its retry time, the file's mtime
 * (Postfix's convention); a flush takes them all, except files changed
 * after the flush began (ctime), so that a message deferred again during
 * the flush is not taken twice in one pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "qmgr.h"

static int want_incoming, want_deferred, want_flush;
static int scanning, rescan;

/* Put every message left in active/ back into incoming/. */
void qmgr_recover_active(void)
{
    DIR *d = opendir(QMGR_ACTIVE);
    struct dirent *de;
    char from[512], to[512];
    int n = 0;

    if (d == NULL) {
        msg_warn("open directory %s: %m", QMGR_ACTIVE);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (!queue_id_valid(de->d_name))
            continue;
        snprintf(from, sizeof(from), "%s/%s", QMGR_ACTIVE, de->d_name);
        snprintf(to, sizeof(to), "%s/%s", QMGR_INCOMING, de->d_name);
        if (rename(from, to) < 0)
            msg_warn("%s: move to %s: %m", from, QMGR_INCOMING);
        else
            n++;
    }
    closedir(d);
    if (n > 0)
        msg_info("recovered %d message%s from the active queue", n, n == 1 ? "" : "s");
}

void qmgr_scan_request(int incoming, int deferred, int flush)
{
    want_incoming |= incoming;
    want_deferred |= deferred;
    want_flush |= flush;
}

/* Move queue/ID into active/ and start working on it. */
static void take(const char *queue, const char *id)
{
    char from[512], to[512];

    snprintf(from, sizeof(from), "%s/%s", queue, id);
    snprintf(to, sizeof(to), "%s/%s", QMGR_ACTIVE, id);
    if (rename(from, to) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: move to %s: %m", from, QMGR_ACTIVE);
        return;
    }
    (void)qmgr_message_open(id);
}

/* Is a file's ctime at or after the scan started? */
static int changed_since(const struct stat *st, const struct timespec *start)
{
    return st->st_ctim.tv_sec > start->tv_sec
        || (st->st_ctim.tv_sec == start->tv_sec && st->st_ctim.tv_nsec > start->tv_nsec);
}

/* Take what is due from one directory; 1 when the whole of it was seen. */
static int scan_dir(const char *queue, int due_only, int flush)
{
    DIR *d = opendir(queue);
    struct dirent *de;
    struct timespec start;
    time_t now = time(NULL);
    char path[512];
    int complete = 1;

    if (d == NULL) {
        msg_warn("open directory %s: %m", queue);
        return 1;
    }
    clock_gettime(CLOCK_REALTIME_COARSE, &start);
    while ((de = readdir(d)) != NULL) {
        struct stat st;

        if (!queue_id_valid(de->d_name))
            continue;
        if (qmgr.nmessages >= qmgr.set.active_limit || qmgr.retiring) {
            complete = 0;
            break;
        }
        snprintf(path, sizeof(path), "%s/%s", queue, de->d_name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (due_only ? st.st_mtime > now : flush && changed_since(&st, &start))
            continue;
        take(queue, de->d_name);
    }
    closedir(d);
    return complete;
}

/* Run the requested scans while there is room in active/, then schedule. */
void qmgr_scan_run(void)
{
    if (scanning) {
        rescan = 1;
        return;
    }
    scanning = 1;
    do {
        rescan = 0;
        if (qmgr.retiring)
            break;
        if (want_incoming && qmgr.nmessages < qmgr.set.active_limit) {
            want_incoming = 0;
            if (!scan_dir(QMGR_INCOMING, 0, 0))
                want_incoming = 1;
        }
        if (want_deferred && qmgr.nmessages < qmgr.set.active_limit) {
            int flush = want_flush;

            want_deferred = want_flush = 0;
            if (!scan_dir(QMGR_DEFERRED, !flush, flush)) {
                want_deferred = 1;
                want_flush |= flush;
            }
        }
    } while (rescan && (want_incoming || want_deferred)
             && qmgr.nmessages < qmgr.set.active_limit);
    scanning = 0;
    qmgr_schedule();
}
