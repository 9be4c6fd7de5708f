/*
 * queue_scan - walk the queue directories (with their hashed
 * subdirectories) for postqueue and postsuper.
 */
#ifndef POSTERN_QUEUE_SCAN_H
#define POSTERN_QUEUE_SCAN_H

#include "queue_id.h"

/* Queue names in listing order: maildrop, incoming, active, deferred, hold. */
extern const char *const queue_scan_names[];

struct queue_entry {
    const char *queue;          /* "deferred" */
    char *path;                 /* relative to queue_directory: "deferred/1/ID" */
    char *name;                 /* the file name: "ID" or "tmp.12.3" */
    int is_id;                  /* name is a valid queue ID */
};

/*
 * Call fn for each file under queue (relative to the current directory,
 * which must be queue_directory), descending into single-character hash
 * directories; a nonzero return stops the walk and is returned. Entries
 * come sorted by name within each directory.
 */
int queue_scan(const char *queue, int (*fn)(const struct queue_entry *e, void *ctx),
               void *ctx);

#endif
