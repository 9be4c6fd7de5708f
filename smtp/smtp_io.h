/*
 * smtp_io - the smtp client's connection I/O: read a line, write, flush,
 * each with its own time limit, over a small table of transport
 * operations (plain sockets now; STARTTLS later swaps in TLS operations
 * on the same connection without touching the protocol code).
 */
#ifndef POSTERN_SMTP_IO_H
#define POSTERN_SMTP_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum smtp_io_error {
    SMTP_IO_OK = 0,
    SMTP_IO_TIMEOUT,            /* a time limit ran out */
    SMTP_IO_EOF,                /* the peer closed or reset the connection */
    SMTP_IO_LONG,               /* a line longer than the caller's limit */
};

struct smtp_io;

/*
 * Transport operations on a non-blocking fd. recv/send return bytes, 0
 * (recv: end of file), or -1 with errno (EAGAIN: wait for *want, POLLIN
 * or POLLOUT, as TLS may need the other direction).
 */
struct smtp_io_ops {
    ssize_t (*recv)(struct smtp_io *io, void *data, size_t len, short *want);
    ssize_t (*send)(struct smtp_io *io, const void *data, size_t len, short *want);
};

struct smtp_io {
    int fd;
    const struct smtp_io_ops *ops;
    void *ctx;                  /* for the ops (TLS state) */
    char rbuf[4096];
    size_t rpos, rlen;
    struct buf wbuf;
    enum smtp_io_error error;   /* the first error, sticky */
};

/* Take over a connected non-blocking fd with the plain operations. */
void smtp_io_init(struct smtp_io *io, int fd);
/* Close the fd and free the buffers. */
void smtp_io_close(struct smtp_io *io);

/*
 * Read one line (LF or CRLF ended; the ending is removed) into line,
 * waiting at most timeout seconds in all. A line longer than max fails
 * with SMTP_IO_LONG. 0, or -1 with io->error set.
 */
int smtp_io_read_line(struct smtp_io *io, struct buf *line, size_t max, int timeout);

/* Queue bytes for sending (no I/O). -1 if the buffer would exceed its limit. */
int smtp_io_write(struct smtp_io *io, const void *data, size_t len);
/* Pending output bytes. */
size_t smtp_io_pending(const struct smtp_io *io);
/*
 * Send everything queued; each wait for the socket to take more bytes is
 * limited to timeout seconds. 0, or -1 with io->error set.
 */
int smtp_io_flush(struct smtp_io *io, int timeout);

#endif
