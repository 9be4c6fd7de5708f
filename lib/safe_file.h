/*
 * safe_file - opening and committing files the way mail must be written.
 *
 * Opens never follow a symlink in the last component (O_NOFOLLOW) and
 * check that what they got is a regular file. New files are created with
 * O_EXCL. A commit is write + fsync + rename + fsync of the directory, so
 * after it returns the file survives a crash under its final name and
 * before it the final name either does not exist or holds the old content.
 */
#ifndef POSTERN_SAFE_FILE_H
#define POSTERN_SAFE_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Create path, which must not exist (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC). */
int safe_create(const char *path, int flags, mode_t mode);
/*
 * Open an existing regular file without following a symlink; refuses a
 * file with more than one hard link. -1 with errno (ELOOP for a symlink,
 * EINVAL for a non-regular file, EMLINK for extra links).
 */
int safe_open_existing(const char *path, int flags);

/* write(2) until done; retries EINTR. 0 or -1 with errno. */
int write_all(int fd, const void *data, size_t len);
/* read(2) until len bytes or EOF; returns bytes read or -1. */
ssize_t read_all(int fd, void *data, size_t len);
/* Read a whole regular file of at most limit bytes into out. */
int read_file(const char *path, size_t limit, struct buf *out);

/* fsync(2) the directory that holds path. */
int fsync_parent_dir(const char *path);
/* fsync fd, rename tmp to final, fsync final's directory. */
int commit_rename(int fd, const char *tmp, const char *final);
/*
 * Replace path's content atomically: write to "path.tmp.PID", fsync,
 * rename, fsync the directory. The new file gets mode. On failure path is
 * unchanged and err says why.
 */
int atomic_replace_file(const char *path, const void *data, size_t len,
                        mode_t mode, struct buf *err);

#endif
