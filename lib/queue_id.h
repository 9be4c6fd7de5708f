/*
 * queue_id - queue IDs: unique, sortable by arrival, printable, safe as
 * file names, in the shape of Postfix's long queue IDs.
 *
 * Format (fixed positions, 12 to 23 characters):
 *
 *   SSSSSS UUUU z NNN...
 *   0      6    10 11
 *
 *   SSSSSS  arrival time, seconds since the epoch, 6 digits base 52
 *           (good until the year 2594; larger times are refused)
 *   UUUU    the microseconds of the arrival time, 4 digits base 52
 *   z       a literal 'z' that separates time and unique part
 *   NNN     the unique part, 1 to 12 digits base 51 without leading
 *           zeros: the inode number of the queue file
 *
 * The base-52 alphabet is the digits, then the upper-case consonants,
 * then the lower-case consonants (no vowels, so no words), in ASCII
 * order: "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz". Base 51
 * is the same without the final 'z'. Because the time fields have fixed
 * width and the alphabet is in ASCII order, strcmp() orders IDs by
 * arrival time (IDs of the same microsecond by unique part).
 *
 * Uniqueness: the unique part is the inode number of the queue file, so
 * two files that exist at the same time on the queue file system never
 * share an ID, and a reused inode gets a later time. Within one process
 * queue_id_new() never hands out the same (second, microsecond) twice: if
 * the clock has not moved on (or went back), it uses the last time plus
 * one microsecond. Callers that have no file (tests) pass any number
 * that no concurrent generator uses, e.g. the process ID.
 *
 * Hashed subdirectories (DESIGN: large queues): like Postfix with long
 * queue IDs, the directory names are the first `depth` hexadecimal digits
 * of the microseconds, "%05X"-formatted, one directory level per digit:
 * microseconds 0x1A2B3 at depth 2 give "1/A/". Depth 0 is a flat queue.
 */
#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H

#include <stdint.h>
#include <sys/time.h>

#include "buf.h"

#define QUEUE_ID_SEC_DIGITS   6
#define QUEUE_ID_USEC_DIGITS  4
#define QUEUE_ID_TIME_DIGITS  (QUEUE_ID_SEC_DIGITS + QUEUE_ID_USEC_DIGITS)
#define QUEUE_ID_SEPARATOR    'z'
#define QUEUE_ID_MAX_UNIQUE   12
#define QUEUE_ID_MIN_LEN      (QUEUE_ID_TIME_DIGITS + 2)
#define QUEUE_ID_MAX_LEN      (QUEUE_ID_TIME_DIGITS + 1 + QUEUE_ID_MAX_UNIQUE)
#define QUEUE_ID_SIZE         (QUEUE_ID_MAX_LEN + 1)    /* with the NUL */
#define QUEUE_ID_MAX_DEPTH    5

/*
 * Format the ID of (tv, unique) into out. -1 if tv is out of range
 * (negative, seconds beyond 6 digits, microseconds >= 1000000).
 */
int queue_id_format(char out[QUEUE_ID_SIZE], const struct timeval *tv,
                    uint64_t unique);

/*
 * A new ID for now and unique (see above); the time it encodes goes to
 * *when if when is not NULL. -1 only if the clock is out of range.
 */
int queue_id_new(char out[QUEUE_ID_SIZE], uint64_t unique, struct timeval *when);

/* Is s a well-formed queue ID? 1 or 0. */
int queue_id_valid(const char *s);

/* Decode a well-formed ID; -1 if it is not one. Either output may be NULL. */
int queue_id_parse(const char *s, struct timeval *tv, uint64_t *unique);

/*
 * The hashed subdirectory of a valid ID at depth 0..QUEUE_ID_MAX_DEPTH:
 * "" at depth 0, else "X/" per level. Appended to out; -1 for a bad ID or
 * depth (out unchanged).
 */
int queue_id_hash_dir(struct buf *out, const char *id, int depth);

/*
 * DIR/HASH/ID appended to out (see queue_id_hash_dir). -1 for a bad ID or
 * depth.
 */
int queue_id_path(struct buf *out, const char *dir, const char *id, int depth);

#endif
