/*
 * ipc_frame - the one request/response format of every internal
 * conversation (master wakeups excepted): a versioned, length-framed
 * record of name=value attributes.
 *
 * Wire format (all integers big-endian):
 *
 *   frame     = header payload
 *   header    = version:u8 (=1) flags:u8 (=0) count:u16 length:u32
 *   payload   = count * attribute, exactly length bytes in all
 *   attribute = namelen:u8 name valuelen:u32 value
 *
 * Names are 1..IPC_MAX_NAME bytes of [a-z0-9_]; values are binary-safe
 * (a value may hold NUL bytes) and at most IPC_MAX_VALUE bytes. A frame is
 * at most IPC_MAX_FRAME bytes with at most IPC_MAX_ATTRS attributes. A
 * decoder rejects anything else with a reason, never reads past its input,
 * and asks for more bytes when a frame is incomplete. Readers look
 * attributes up by name and ignore names they do not know, so a record
 * can grow new attributes without a version change; the version changes
 * only when the framing itself does.
 */
#ifndef POSTERN_IPC_FRAME_H
#define POSTERN_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_VERSION     1
#define IPC_HEADER_SIZE 8
#define IPC_MAX_FRAME   (1024 * 1024)
#define IPC_MAX_ATTRS   1024
#define IPC_MAX_NAME    64
#define IPC_MAX_VALUE   (IPC_MAX_FRAME - IPC_HEADER_SIZE)

struct ipc_attr {
    char name[IPC_MAX_NAME + 1];
    const unsigned char *value;     /* points into the decoded frame's storage */
    size_t len;
};

struct ipc_record {
    struct ipc_attr *attrs;
    size_t count;
    size_t cap;
    struct buf store;               /* owns the bytes values point into */
};

void ipc_record_init(struct ipc_record *rec);
void ipc_record_free(struct ipc_record *rec);
void ipc_record_reset(struct ipc_record *rec);

/* Add attributes (copied). -1 if a limit would be broken or a name is bad. */
int ipc_add(struct ipc_record *rec, const char *name, const void *value, size_t len);
int ipc_add_str(struct ipc_record *rec, const char *name, const char *value);
int ipc_add_long(struct ipc_record *rec, const char *name, long value);

/* First attribute with this name, or NULL. */
const struct ipc_attr *ipc_get(const struct ipc_record *rec, const char *name);
/* String value (NULL if absent or if it holds a NUL byte). */
const char *ipc_get_str(const struct ipc_record *rec, const char *name);
/* 0 and *out on success; -1 if absent or not a strict decimal integer. */
int ipc_get_long(const struct ipc_record *rec, const char *name, long *out);

/* Append the encoded frame to out. -1 if it would exceed IPC_MAX_FRAME. */
int ipc_encode(const struct ipc_record *rec, struct buf *out);

enum ipc_decode_result {
    IPC_OK = 0,         /* a whole frame was decoded; *consumed says how long */
    IPC_NEED_MORE = 1,  /* input ends inside a frame */
    IPC_ERROR = -1,     /* malformed; *why says how */
};

/*
 * Decode one frame from the start of data. rec is reset first. On IPC_OK,
 * *consumed is the frame's total length. On IPC_ERROR, *why is a static
 * string naming the problem.
 */
enum ipc_decode_result ipc_decode(const void *data, size_t len,
                                  struct ipc_record *rec, size_t *consumed,
                                  const char **why);

/*
 * Blocking helpers for simple clients: write a whole frame / read exactly
 * one frame, each with a deadline of timeout seconds (poll). 0 on success,
 * -1 on error or timeout with errno set (EPROTO for a malformed frame,
 * ETIMEDOUT for the deadline).
 */
int ipc_write_frame(int fd, const struct ipc_record *rec, int timeout);
int ipc_read_frame(int fd, struct ipc_record *rec, int timeout);

#endif
