/*
 * smtp_io - line reading and buffered writing with time limits over the
 * connection's transport operations (see smtp_io.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtp_io.h"

#define WBUF_LIMIT (4u * 1024u * 1024u)

/* Plain socket receive. */
static ssize_t plain_recv(struct smtp_io *io, void *data, size_t len, short *want)
{
    *want = POLLIN;
    return recv(io->fd, data, len, 0);
}

/* Plain socket send. */
static ssize_t plain_send(struct smtp_io *io, const void *data, size_t len, short *want)
{
    *want = POLLOUT;
    return send(io->fd, data, len, MSG_NOSIGNAL);
}

static const struct smtp_io_ops plain_ops = {plain_recv, plain_send};

/* Take over a connected fd. */
void smtp_io_init(struct smtp_io *io, int fd)
{
    memset(io, 0, sizeof(*io));
    io->fd = fd;
    io->ops = &plain_ops;
    buf_init(&io->wbuf, WBUF_LIMIT);
}

/* Close and free. */
void smtp_io_close(struct smtp_io *io)
{
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
    buf_free(&io->wbuf);
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events until the deadline; 0 ready, -1 timed out (io->error set). */
static int wait_io(struct smtp_io *io, short want, long long deadline)
{
    for (;;) {
        struct pollfd p = {io->fd, want, 0};
        long long left = deadline - now_ms();
        int n;

        if (left <= 0) {
            io->error = SMTP_IO_TIMEOUT;
            return -1;
        }
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            io->error = SMTP_IO_EOF;
            return -1;
        }
    }
}

/* Refill the read buffer; -1 with io->error on EOF, error or timeout. */
static int fill(struct smtp_io *io, long long deadline)
{
    for (;;) {
        short want = POLLIN;
        ssize_t n = io->ops->recv(io, io->rbuf, sizeof(io->rbuf), &want);

        if (n > 0) {
            io->rpos = 0;
            io->rlen = (size_t)n;
            return 0;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            io->error = SMTP_IO_EOF;
            return -1;
        }
        if (errno != EINTR && wait_io(io, want, deadline) < 0)
            return -1;
    }
}

/* Read one line. */
int smtp_io_read_line(struct smtp_io *io, struct buf *line, size_t max, int timeout)
{
    long long deadline = now_ms() + (long long)timeout * 1000;

    buf_reset(line);
    if (io->error)
        return -1;
    for (;;) {
        char *nl;
        size_t take;

        if (io->rpos == io->rlen && fill(io, deadline) < 0)
            return -1;
        nl = memchr(io->rbuf + io->rpos, '\n', io->rlen - io->rpos);
        take = nl ? (size_t)(nl - (io->rbuf + io->rpos)) : io->rlen - io->rpos;
        if (line->len + take > max + 1 || buf_append(line, io->rbuf + io->rpos, take) < 0) {
            io->error = SMTP_IO_LONG;
            return -1;
        }
        io->rpos += take;
        if (nl) {
            io->rpos++;
            if (line->len > 0 && line->data[line->len - 1] == '\r')
                buf_truncate(line, line->len - 1);
            if (line->len > max) {
                io->error = SMTP_IO_LONG;
                return -1;
            }
            return 0;
        }
    }
}

/* Queue output. */
int smtp_io_write(struct smtp_io *io, const void *data, size_t len)
{
    return buf_append(&io->wbuf, data, len);
}

/* Pending output bytes. */
size_t smtp_io_pending(const struct smtp_io *io)
{
    return io->wbuf.len;
}

/* Send all queued output. */
int smtp_io_flush(struct smtp_io *io, int timeout)
{
    size_t off = 0;
    int ret = 0;

    if (io->error) {
        buf_reset(&io->wbuf);
        return -1;
    }
    while (off < io->wbuf.len) {
        short want = POLLOUT;
        ssize_t n = io->ops->send(io, io->wbuf.data + off, io->wbuf.len - off, &want);

        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            io->error = SMTP_IO_EOF;
            ret = -1;
            break;
        }
        if (wait_io(io, want, now_ms() + (long long)timeout * 1000) < 0) {
            ret = -1;
            break;
        }
    }
    buf_reset(&io->wbuf);
    return ret;
}
