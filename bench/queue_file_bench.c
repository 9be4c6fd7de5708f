/*
 * queue_file_bench - how fast messages go durably into the queue and
 * back out.
 *
 * usage: queue_file_bench [messages [size [recipients [dir]]]]
 *
 * In a fresh temporary directory (under dir, default $TMPDIR or /tmp)
 * it writes and commits `messages` queue files (default 1000) of `size`
 * content bytes (default 4096) with `recipients` recipients each
 * (default 1): create, envelope, content in 4 KiB pieces as smtpd would
 * write it during DATA, commit (fsync, rename, directory fsync). That is
 * the durable rate, the one smtpd can answer 250 at. For comparison it
 * then does the bare minimum the same durability needs (write the same
 * bytes to a temporary file, fsync, rename, fsync the directory) and
 * prints the ratio. Then it opens, validates and reads every file back
 * (envelope, each recipient, all content), and marks one recipient done
 * in each (one pwrite + fsync), as a delivery agent would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "numparse.h"
#include "queue_file.h"
#include "safe_file.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write and commit one message; its ID goes to id. */
static void write_one(const char *dir, const char *content, long size, long nrcpt,
                      char id[QUEUE_ID_SIZE])
{
    struct buf err = BUF_INIT;
    struct queue_file_writer *w = queue_file_create(dir, &err);
    char rcpt[64];

    if (w == NULL)
        msg_fatal("%s", buf_str(&err));
    strcpy(id, queue_file_writer_id(w));
    queue_file_put_sender(w, "someone.with.a.long.name@example.org");
    queue_file_put_client(w, "mail.example.org", "192.0.2.1", "mail.example.org", "ESMTP");
    for (long i = 0; i < nrcpt; i++) {
        snprintf(rcpt, sizeof(rcpt), "user%ld@example.test", i);
        queue_file_put_rcpt(w, rcpt, NULL, 0);
    }
    for (long off = 0; off < size; off += 4096)
        queue_file_put_content(w, content + off, (size_t)(size - off < 4096 ? size - off : 4096));
    if (queue_file_commit(w, dir, 0, &err) < 0)
        msg_fatal("commit: %s", buf_str(&err));
    buf_free(&err);
}

/* The same durability with no format: write, fsync, rename, dir fsync. */
static void raw_one(const char *dir, const char *content, long size, long n)
{
    struct buf tmp = BUF_INIT, final = BUF_INIT;
    int fd;

    buf_printf(&tmp, "%s/raw.tmp", dir);
    buf_printf(&final, "%s/raw.%ld", dir, n);
    if ((fd = safe_create(buf_str(&tmp), O_WRONLY, 0600)) < 0
        || write_all(fd, content, (size_t)size) < 0
        || commit_rename(fd, buf_str(&tmp), buf_str(&final)) < 0)
        msg_fatal("raw write: %s", strerror(errno));
    close(fd);
    buf_free(&tmp);
    buf_free(&final);
}

/* Open, validate and read back one file; mark its first recipient done. */
static uint64_t read_one(const char *path, char *chunk, int mark)
{
    struct buf why = BUF_INIT;
    struct queue_file *qf;
    struct qf_rcpt r, first;
    uint64_t bytes = 0;
    ssize_t n;
    int corrupt, got;

    if (queue_file_open(path, mark ? QF_OPEN_RDWR : QF_OPEN_RDONLY, &qf, &corrupt, &why) < 0)
        msg_fatal("%s: %s", path, buf_str(&why));
    for (got = 0; queue_file_rcpt_next(qf, &r, &why) == 1; got++)
        if (got == 0)
            first = r;
    if ((size_t)got != queue_file_envelope(qf)->nrcpt)
        msg_fatal("%s: recipients lost", path);
    while ((n = queue_file_content_read(qf, chunk, QF_MAX_CHUNK, &why)) > 0)
        bytes += (uint64_t)n;
    if (n < 0 || bytes != queue_file_envelope(qf)->size)
        msg_fatal("%s: content: %s", path, buf_str(&why));
    if (mark && queue_file_mark_done(qf, &first, &why) < 0)
        msg_fatal("%s: %s", path, buf_str(&why));
    queue_file_close(qf);
    buf_free(&why);
    return bytes;
}

int main(int argc, char **argv)
{
    long n = 1000, size = 4096, nrcpt = 1;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[512], (*ids)[QUEUE_ID_SIZE], *content, *chunk;
    struct buf path = BUF_INIT;
    double t0, t_write, t_raw, t_read, t_mark;
    struct stat st;
    uint64_t file_bytes = 0;

    log_init("queue_file_bench");
    if ((argc > 1 && parse_long(argv[1], 1, 10000000L, &n) < 0)
        || (argc > 2 && parse_long(argv[2], 0, 1L << 30, &size) < 0)
        || (argc > 3 && parse_long(argv[3], 1, QF_MAX_RCPT, &nrcpt) < 0))
        msg_fatal("usage: queue_file_bench [messages [size [recipients [dir]]]]");
    if (argc > 4)
        base = argv[4];
    snprintf(dir, sizeof(dir), "%s/queue_file_bench.XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp %s: %s", dir, strerror(errno));
    ids = calloc((size_t)n, QUEUE_ID_SIZE);
    content = malloc((size_t)size + 1);
    chunk = malloc(QF_MAX_CHUNK);
    if (ids == NULL || content == NULL || chunk == NULL)
        msg_fatal("out of memory");
    for (long i = 0; i < size; i++)
        content[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);

    t0 = now();
    for (long i = 0; i < n; i++)
        write_one(dir, content, size, nrcpt, ids[i]);
    t_write = now() - t0;

    t0 = now();
    for (long i = 0; i < n; i++)
        raw_one(dir, content, size, i);
    t_raw = now() - t0;

    t0 = now();
    for (long i = 0; i < n; i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, ids[i]);
        if (i == 0 && stat(buf_str(&path), &st) == 0)
            file_bytes = (uint64_t)st.st_size;
        read_one(buf_str(&path), chunk, 0);
    }
    t_read = now() - t0;

    t0 = now();
    for (long i = 0; i < n; i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, ids[i]);
        read_one(buf_str(&path), chunk, 1);
    }
    t_mark = now() - t0;

    printf("queue files: %ld messages, %ld content bytes, %ld recipient(s), "
           "%llu bytes on disk each, in %s\n", n, size, nrcpt,
           (unsigned long long)file_bytes, dir);
    printf("write+commit (durable): %8.0f msg/s  %7.1f MB/s\n",
           (double)n / t_write, (double)n * (double)size / t_write / 1e6);
    printf("raw write+fsync+rename: %8.0f msg/s  (queue_file/raw = %.2f)\n",
           (double)n / t_raw, t_raw / t_write);
    printf("open+validate+read:     %8.0f msg/s  %7.1f MB/s\n",
           (double)n / t_read, (double)n * (double)size / t_read / 1e6);
    printf("read+mark one done:     %8.0f msg/s\n", (double)n / t_mark);

    buf_reset(&path);
    buf_printf(&path, "rm -rf '%s'", dir);
    if (system(buf_str(&path)) != 0)
        msg_warn("could not remove %s", dir);
    buf_free(&path);
    free(ids);
    free(content);
    free(chunk);
    return 0;
}
