/*
 * queue_file - the queue file: one message with its envelope, as smtpd
 * and pickup write it and qmgr, the delivery agents, postqueue and
 * postsuper read it.
 *
 * FORMAT (version 1; all integers big-endian)
 *
 *   file    = record*
 *   record  = type:u8 length:u32 payload[length]
 *
 * The records come in this order:
 *
 *   V                         version, first record
 *   T I S W N F C A R ...     the envelope, in any order
 *   Z                         message size; closes the envelope
 *   B ...                     the content, in chunks
 *   E                         end; the last bytes of the file
 *
 * Each type means exactly one thing and has its own payload limits:
 *
 *   type       payload                                   count
 *   'V' version   u8 = 1                                 1, first
 *   'T' arrival   sec:u64 usec:u32 (usec < 10^6)          1
 *   'I' queue ID  the ID (queue_id.h), no NUL             1
 *   'S' sender    address, 0..QF_MAX_ADDR bytes;         1
 *                 empty for the null sender <>
 *   'W' warn time sec:u64, when to send a delay warning  1
 *                 (0: none); fixed size, updated in place
 *   'N' ENVID     RFC 3461 ENVID (xtext-decoded),        0..1
 *                 1..QF_MAX_ENVID bytes 0x21-0x7e
 *   'F' RET       one byte: 'F' (FULL) or 'H' (HDRS)     0..1
 *   'C' client    four fields, each len:u16 + bytes:     0..1
 *                 name, address, helo, protocol
 *                 (each 0..QF_MAX_CLIENT_FIELD bytes)
 *   'A' attribute name=value; name 1..QF_MAX_ATTR_NAME   0..QF_MAX_ATTRS
 *                 of [a-z0-9_], value 0..QF_MAX_ATTR_VALUE
 *   'R' recipient status:u8 notify:u8 addrlen:u16        1..QF_MAX_RCPT
 *                 address[addrlen] orcpt[rest]
 *   'Z' size      content bytes:u64 (= sum of B lengths) 1, ends envelope
 *   'B' content   1..QF_MAX_CHUNK bytes of the message   any
 *   'E' end       empty                                  1, last
 *
 * Strings (addresses, ORCPT, client fields, attribute values) never hold
 * NUL, CR or LF, so readers hand them out as C strings. The recipient
 * status byte is the first payload byte of its record: 'P' pending or 'D'
 * done. A delivery agent marks a recipient done by overwriting that one
 * byte in place (pwrite + fsync), never by rewriting the file. NOTIFY is
 * a bit set of QF_NOTIFY_* (0: not given, NEVER only alone). ORCPT is
 * stored as TYPE;ADDRESS with the address decoded (no xtext: smtpd
 * decoded it; "rfc822;a+b@example"), empty if none; the smtp client
 * encodes it again.
 *
 * Content is opaque here: the message bytes, streamed in B chunks while
 * they arrive, so neither smtpd nor a delivery agent ever holds a whole
 * message in memory. By convention the content is the message in local
 * form: LF line endings, dot-unstuffed; the smtp client turns it back
 * into CRLF and dot-stuffs it.
 *
 * The whole file is at most QF_MAX_FILE bytes. A reader checks all of
 * it before it hands anything out: every record in bounds and of a known
 * type, payloads as above, required records present and single records
 * single, the order above, exactly one E and nothing after it, Z equal
 * to the content length, and the I record equal to the file's name when
 * that name is a queue ID. Anything else is a corrupt file: the reader
 * says why, and queue_file_quarantine() moves it to corrupt/.
 *
 * DURABILITY. A writer creates the file under a temporary name
 * ("tmp.PID.N", never a valid queue ID, so queue scans skip it) with
 * O_EXCL and mode 0600, names it by the creation time and its inode
 * (queue_id.h), appends records, and commits: E record, fsync, rename
 * to DIR/HASH/ID without replacing anything, fsync of the directory.
 * Only after queue_file_commit() returned 0 may smtpd say 250. A crash
 * before that leaves at most a temporary file, never a file under a
 * queue ID.
 *
 * Not thread-safe; each handle belongs to one thread.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "buf.h"
#include "queue_id.h"

#define QF_VERSION          1
#define QF_HEADER_SIZE      5               /* type + length */

/* Hard limits: a reader rejects a file that breaks any of them. */
#define QF_MAX_ADDR         2048            /* sender, recipient, ORCPT */
#define QF_MAX_ENVID        100             /* RFC 3461 */
#define QF_MAX_CLIENT_FIELD 1024
#define QF_MAX_ATTR_NAME    64
#define QF_MAX_ATTR_VALUE   4096
#define QF_MAX_ATTRS        256
#define QF_MAX_RCPT         100000
#define QF_MAX_CHUNK        65536
#define QF_MAX_FILE         ((uint64_t)4 << 30)     /* 4 GiB */

/* Record types. */
enum qf_rec_type {
    QF_REC_VERSION = 'V',
    QF_REC_TIME = 'T',
    QF_REC_QUEUE_ID = 'I',
    QF_REC_SENDER = 'S',
    QF_REC_WARN = 'W',
    QF_REC_ENVID = 'N',
    QF_REC_RET = 'F',
    QF_REC_CLIENT = 'C',
    QF_REC_ATTR = 'A',
    QF_REC_RCPT = 'R',
    QF_REC_SIZE = 'Z',
    QF_REC_CONTENT = 'B',
    QF_REC_END = 'E',
};

/* Recipient status byte. */
#define QF_RCPT_PENDING 'P'
#define QF_RCPT_DONE    'D'

/* DSN NOTIFY (RFC 3461); 0 means the client did not say. */
#define QF_NOTIFY_SUCCESS 0x01
#define QF_NOTIFY_FAILURE 0x02
#define QF_NOTIFY_DELAY   0x04
#define QF_NOTIFY_NEVER   0x08

/* DSN RET. */
enum qf_ret {
    QF_RET_NONE = 0,
    QF_RET_FULL = 'F',
    QF_RET_HDRS = 'H',
};

/* ---------------------------------------------------------------- writer */

struct queue_file_writer;

/*
 * Create a new queue file under a temporary name in tmp_dir (the final
 * directory or another on the same file system) and give it its queue
 * ID. NULL with err on failure.
 */
struct queue_file_writer *queue_file_create(const char *tmp_dir, struct buf *err);

/* The new message's queue ID and arrival time. */
const char *queue_file_writer_id(const struct queue_file_writer *w);
struct timeval queue_file_writer_arrival(const struct queue_file_writer *w);

/*
 * Envelope. Each returns 0, or -1 when a value breaks a limit or the
 * file cannot be written; the first error sticks to the writer (later
 * calls fail too, commit fails and says why), so a caller may check
 * only at the end. Envelope calls after the first content byte fail.
 */
int queue_file_put_sender(struct queue_file_writer *w, const char *sender);
int queue_file_put_envid(struct queue_file_writer *w, const char *envid);
int queue_file_put_ret(struct queue_file_writer *w, enum qf_ret ret);
/* Any field may be NULL (stored empty). */
int queue_file_put_client(struct queue_file_writer *w, const char *name,
                          const char *addr, const char *helo, const char *proto);
int queue_file_put_attr(struct queue_file_writer *w, const char *name,
                        const char *value);
/* orcpt may be NULL; notify is a QF_NOTIFY_* set. */
int queue_file_put_rcpt(struct queue_file_writer *w, const char *address,
                        const char *orcpt, unsigned notify);

/* When to send a delay warning (the W record; 0: none, the default). */
int queue_file_put_warn_time(struct queue_file_writer *w, time_t when);

/* Content, in pieces of any size; binary-safe. */
int queue_file_put_content(struct queue_file_writer *w, const void *data, size_t len);
/* Content bytes so far (for message_size_limit checks). */
uint64_t queue_file_content_size(const struct queue_file_writer *w);

/*
 * Finish: end record, fsync, rename to final_dir/HASH/ID (hash subdirs of
 * depth hash_depth are made when missing), fsync of that directory.
 * Returns 0 only when the file is durable under its final name; -1 with
 * err otherwise, and then no file is left under either name. The writer
 * is freed in both cases.
 */
int queue_file_commit(struct queue_file_writer *w, const char *final_dir,
                      int hash_depth, struct buf *err);

/* Give up: remove the temporary file and free the writer. */
void queue_file_abort(struct queue_file_writer *w);

/* ---------------------------------------------------------------- reader */

struct queue_file;

/* The envelope, valid while the handle is open. */
struct qf_envelope {
    int version;
    struct timeval arrival;
    char queue_id[QUEUE_ID_SIZE];
    const char *sender;         /* "" for the null sender */
    uint64_t size;              /* content bytes */
    time_t warn_time;           /* 0: no delay warning scheduled */
    const char *envid;          /* NULL if none */
    enum qf_ret ret;
    const char *client_name;    /* NULL if no client record */
    const char *client_addr;
    const char *client_helo;
    const char *client_proto;
    size_t nrcpt;               /* all recipients */
    size_t ndone;               /* of which done */
};

struct qf_rcpt {
    const char *address;        /* valid until the next rcpt call */
    const char *orcpt;          /* "" if none */
    unsigned notify;
    int done;
    size_t index;               /* 0-based among the file's recipients */
    uint64_t offset;            /* of the record: for queue_file_mark_done */
};

#define QF_OPEN_RDONLY 0
#define QF_OPEN_RDWR   1        /* needed for marking recipients done */

/*
 * Open and check a queue file (O_NOFOLLOW, regular, one link). 0 on
 * success; -1 with why on failure. *corrupt is set to 1 when the file is
 * there but malformed (quarantine it), 0 for a system error (ENOENT, I/O)
 * that is not the file's fault.
 */
int queue_file_open(const char *path, int mode, struct queue_file **out,
                    int *corrupt, struct buf *why);

/* The same checks on a file image in memory (fuzzing, tests); read only. */
int queue_file_open_mem(const void *data, size_t len, struct queue_file **out,
                        struct buf *why);

void queue_file_close(struct queue_file *qf);

const struct qf_envelope *queue_file_envelope(const struct queue_file *qf);

/* Attributes in file order: 1 and name/value, or 0 past the end. */
int queue_file_attr_at(const struct queue_file *qf, size_t i,
                       const char **name, const char **value);
/* The value of the first attribute with this name, or NULL. */
const char *queue_file_attr(const struct queue_file *qf, const char *name);

/*
 * Recipients in file order: rewind, then next until 0. 1: *r filled;
 * 0: no more; -1: the file changed under us or an I/O error (why).
 */
void queue_file_rcpt_rewind(struct queue_file *qf);
int queue_file_rcpt_next(struct queue_file *qf, struct qf_rcpt *r, struct buf *why);

/*
 * Content as a read loop: rewind, then read until 0. Returns bytes read
 * (at most len), 0 at the end, -1 on error (why).
 */
void queue_file_content_rewind(struct queue_file *qf);
ssize_t queue_file_content_read(struct queue_file *qf, void *data, size_t len,
                                struct buf *why);
/*
 * Content through a callback, chunk by chunk from the start; a callback
 * that returns nonzero stops the walk and its value is returned.
 * -1 on a read error (why).
 */
int queue_file_content_foreach(struct queue_file *qf,
                               int (*fn)(const void *data, size_t len, void *ctx),
                               void *ctx, struct buf *why);

/*
 * Mark recipients done in place: one pwrite of the status byte each,
 * then one fsync; returns only when that is durable. The handle must be
 * QF_OPEN_RDWR. -1 with why on failure.
 */
int queue_file_mark_done(struct queue_file *qf, const struct qf_rcpt *r,
                         struct buf *why);
int queue_file_mark_done_many(struct queue_file *qf, const struct qf_rcpt *const *r,
                              size_t n, struct buf *why);

/* Update the delay-warning time in place (pwrite + fsync). */
int queue_file_set_warn_time(struct queue_file *qf, time_t when, struct buf *why);

/*
 * Move a corrupt queue file into corrupt_dir under its own name (a
 * ".N" suffix if that is taken), fsync that directory, and log
 * "warning: QUEUEID: corrupt queue file: WHY". -1 if it could not be
 * moved (logged too).
 */
int queue_file_quarantine(const char *path, const char *corrupt_dir, const char *why);

#endif
