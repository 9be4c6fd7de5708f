/*
 * pidlock - the lock file that says a master runs on a queue directory.
 *
 * queue_directory/pid/master.pid holds the master's pid and is locked
 * with fcntl() for as long as it runs. The lock, not the file's content,
 * is the truth: a stale file left by a crash is simply locked again, and
 * the lock's holder is found with F_GETLK even if the file lies.
 */
#ifndef POSTERN_PIDLOCK_H
#define POSTERN_PIDLOCK_H

#include <sys/types.h>

#include "buf.h"

/*
 * Take the lock and write our pid; the descriptor stays open (close-on-
 * exec) for the life of the process. Returns 0 when we hold it, the pid of
 * the holder when another process does, -1 with err on other failures.
 */
pid_t pidlock_acquire(const char *path, struct buf *err);
/* The pid holding the lock, 0 if none (or no file), -1 on error. */
pid_t pidlock_holder(const char *path);

#endif
