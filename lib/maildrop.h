/*
 * maildrop - the files postdrop leaves in maildrop/ and pickup takes
 * out again: one message as a local user submitted it, before clean-up.
 *
 * Why not the queue file format: a maildrop file may have no envelope
 * recipient at all (sendmail -t takes them from the headers later, in
 * clean-up), which a queue file forbids, and it carries submission
 * details (full name, -t) that a queue file has no record for.
 *
 * FORMAT (version 1, text envelope, then the content as is)
 *
 *   "POSTERN-MAILDROP 1\n"
 *   envelope lines, one letter then the value, each ending in "\n":
 *     T<sec>       submission time, decimal                 1, first
 *     S<sender>    envelope sender, "" for <>                1
 *     F<name>      full name (sendmail -F)                   0..1
 *     N<notify>    DSN NOTIFY as QF_NOTIFY_* bits, decimal   0..1
 *     V<envid>     DSN ENVID                                 0..1
 *     E<ret>       DSN RET, "F" or "H"                       0..1
 *     X<flags>     "t": extract recipients from the headers  0..1
 *     R<address>   envelope recipient                        0..QF_MAX_RCPT
 *     Z<size>      content bytes, 20 decimal digits          1, last
 *   "\n"
 *   content: exactly Z bytes, the message with LF line endings, then
 *   the end of the file.
 *
 * Values hold no NUL, CR or LF and obey the queue file's limits
 * (QF_MAX_ADDR and friends). A message needs at least one recipient or
 * the "t" flag. The file's owner (st_uid) is the submitting user: postdrop
 * runs with the user's real uid (it is only setgid), so the owner cannot
 * be forged.
 *
 * DURABILITY as for queue files: postdrop writes "maildrop/tmp.PID.N"
 * (O_EXCL, never a valid queue ID, so pickup skips it), patches Z in
 * place, fsyncs, makes the file readable to pickup (0644, as Postfix's
 * maildrop files), renames it to maildrop/QUEUEID (queue_id.h, unique part
 * = inode) and fsyncs maildrop/. Only then does sendmail report success.
 */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "queue_file.h"

#define MAILDROP_MAGIC      "POSTERN-MAILDROP 1\n"
#define MAILDROP_MAX_ENVELOPE (64u * 1024u * 1024u)     /* envelope bytes */

/* ---------------------------------------------------------------- writer */

struct maildrop_env {
    const char *sender;         /* "" for <> */
    const char *full_name;      /* NULL: none */
    unsigned notify;            /* QF_NOTIFY_* or 0 */
    const char *envid;          /* NULL: none */
    int ret;                    /* 0, QF_RET_FULL, QF_RET_HDRS */
    int extract;                /* -t */
    const char *const *rcpt;    /* nrcpt addresses */
    size_t nrcpt;
};

struct maildrop_writer;

/* Check env and start a file in dir (the maildrop directory). */
struct maildrop_writer *maildrop_create(const char *dir, const struct maildrop_env *env,
                                        struct buf *err);
/* Append content bytes. 0, or -1 with err (the writer is still valid for abort). */
int maildrop_write(struct maildrop_writer *w, const void *data, size_t len,
                   struct buf *err);
/* Patch the size, fsync, rename to dir/QUEUEID, fsync dir. Frees w. */
int maildrop_commit(struct maildrop_writer *w, char id_out[QUEUE_ID_SIZE],
                    struct buf *err);
void maildrop_abort(struct maildrop_writer *w);

/* ---------------------------------------------------------------- reader */

struct maildrop_msg {
    time_t time;
    char *sender;
    char *full_name;            /* NULL if none */
    unsigned notify;
    char *envid;                /* NULL if none */
    int ret;
    int extract;
    char **rcpt;
    size_t nrcpt;
    uint64_t size;              /* content bytes */
    uid_t uid;                  /* file owner: the submitting user */
    off_t file_size;
    FILE *fp;                   /* positioned at the content */
};

/*
 * Open and check a maildrop file (O_NOFOLLOW, regular, one link): the
 * whole envelope, and that the content is exactly Z bytes to the end.
 * 0 on success; -1 with why, and *corrupt 1 when the file is malformed,
 * 0 for a system error (ENOENT, I/O).
 */
int maildrop_open(const char *path, struct maildrop_msg *m, int *corrupt,
                  struct buf *why);
/* Back to the start of the content. */
int maildrop_rewind(struct maildrop_msg *m);
void maildrop_close(struct maildrop_msg *m);

#endif
