/*
 * test_queue_file - unit tests for lib/queue_file in a private mkdtemp()
 * directory: round trips (many recipients, binary content, the null
 * sender), marking recipients done in place, every truncation and every
 * single-byte change of a valid file, unknown types, oversize lengths,
 * trailing junk, the commit and abort rules, a writer that dies before
 * commit, quarantine into corrupt/, and the writer's own limits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "queue_file.h"
#include "safe_file.h"

struct fixture {
    char dir[64];
    char incoming[96];
    char corrupt[96];
    struct buf path;            /* scratch */
    struct buf err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_queue_file.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->incoming, sizeof(f->incoming), "%s/incoming", f->dir);
    snprintf(f->corrupt, sizeof(f->corrupt), "%s/corrupt", f->dir);
    if (mkdir(f->incoming, 0700) < 0 || mkdir(f->corrupt, 0700) < 0)
        return -1;
    buf_init(&f->path, 0);
    buf_init(&f->err, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct buf cmd = BUF_INIT;

    buf_printf(&cmd, "rm -rf '%s'", f->dir);
    if (system(buf_str(&cmd)) != 0)
        return -1;
    buf_free(&cmd);
    buf_free(&f->path);
    buf_free(&f->err);
    free(f);
    return 0;
}

/* Names in dir (not . and ..), sorted, joined by spaces. */
static char *list_dir(const char *dir)
{
    struct buf out = BUF_INIT;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);

    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
            buf_printf(&out, "%s%s", out.len ? " " : "", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return buf_steal(&out);
}

/* Content with NUL bytes, a line longer than a chunk, and CR LF mixes. */
static void make_content(struct buf *c, size_t len)
{
    buf_reset(c);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)((i * 7919u) >> 3);

        if (i > 3 * QF_MAX_CHUNK && i % 997 == 0)
            ch = '\n';
        buf_putc(c, ch);
    }
}

/* Write and commit a message; its path (in f->path). */
static const char *write_message(struct fixture *f, const char *sender, int nrcpt,
                                 const struct buf *content, int depth)
{
    struct queue_file_writer *w = queue_file_create(f->incoming, &f->err);
    char addr[64], orcpt[80];
    char id[QUEUE_ID_SIZE];
    size_t piece = 1;

    assert_non_null(w);
    strcpy(id, queue_file_writer_id(w));
    assert_int_equal(queue_file_put_sender(w, sender), 0);
    assert_int_equal(queue_file_put_client(w, "mail.example.org", "192.0.2.1",
                                           "mail.example.org", "ESMTP"), 0);
    assert_int_equal(queue_file_put_envid(w, "QQ314159"), 0);
    assert_int_equal(queue_file_put_ret(w, QF_RET_HDRS), 0);
    assert_int_equal(queue_file_put_attr(w, "rewrite_context", "remote"), 0);
    assert_int_equal(queue_file_put_attr(w, "log_ident", ""), 0);
    for (int i = 0; i < nrcpt; i++) {
        snprintf(addr, sizeof(addr), "user%d@example.test", i);
        snprintf(orcpt, sizeof(orcpt), "rfc822;User%d@Example.TEST", i);
        assert_int_equal(queue_file_put_rcpt(w, addr, i % 3 ? orcpt : NULL,
                                             i % 2 ? QF_NOTIFY_SUCCESS | QF_NOTIFY_FAILURE
                                             : (i % 5 ? 0 : QF_NOTIFY_NEVER)), 0);
    }
    /* Feed the content in pieces of growing size. */
    for (size_t off = 0; off < content->len; off += piece, piece = piece * 3 + 1) {
        size_t n = content->len - off < piece ? content->len - off : piece;

        assert_int_equal(queue_file_put_content(w, content->data + off, n), 0);
    }
    assert_true(queue_file_content_size(w) == content->len);
    if (queue_file_commit(w, f->incoming, depth, &f->err) != 0)
        fail_msg("commit: %s", buf_str(&f->err));
    buf_reset(&f->path);
    assert_int_equal(queue_id_path(&f->path, f->incoming, id, depth), 0);
    return buf_str(&f->path);
}

/* Open path, failing the test with the reason if it does not validate. */
static struct queue_file *must_open(struct fixture *f, const char *path, int mode)
{
    struct queue_file *qf;
    int corrupt;

    buf_reset(&f->err);
    if (queue_file_open(path, mode, &qf, &corrupt, &f->err) != 0)
        fail_msg("open %s: %s", path, buf_str(&f->err));
    return qf;
}

/* Read the whole content with a read loop of odd-sized reads. */
static void read_content(struct queue_file *qf, struct buf *out, size_t step)
{
    char tmp[70000];
    struct buf why = BUF_INIT;
    ssize_t n;

    buf_reset(out);
    queue_file_content_rewind(qf);
    while ((n = queue_file_content_read(qf, tmp, step, &why)) > 0)
        assert_int_equal(buf_append(out, tmp, (size_t)n), 0);
    if (n < 0)
        fail_msg("content read: %s", buf_str(&why));
    buf_free(&why);
}

static int collect(const void *data, size_t len, void *ctx)
{
    return buf_append(ctx, data, len) < 0 ? -1 : 0;
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct buf content = BUF_INIT, back = BUF_INIT;
    const struct qf_envelope *env;
    struct queue_file *qf;
    struct qf_rcpt r;
    const char *name, *value, *path;
    char want[80];
    int i, got;

    make_content(&content, 5 * QF_MAX_CHUNK + 12345);
    path = write_message(f, "sender@example.org", 1000, &content, 0);
    qf = must_open(f, path, QF_OPEN_RDONLY);
    env = queue_file_envelope(qf);
    assert_int_equal(env->version, QF_VERSION);
    assert_string_equal(env->queue_id, strrchr(path, '/') + 1);
    assert_string_equal(env->sender, "sender@example.org");
    assert_true(env->size == content.len);
    assert_string_equal(env->envid, "QQ314159");
    assert_int_equal(env->ret, QF_RET_HDRS);
    assert_string_equal(env->client_name, "mail.example.org");
    assert_string_equal(env->client_addr, "192.0.2.1");
    assert_string_equal(env->client_helo, "mail.example.org");
    assert_string_equal(env->client_proto, "ESMTP");
    assert_int_equal(env->nrcpt, 1000);
    assert_int_equal(env->ndone, 0);
    assert_int_equal(env->warn_time, 0);
    assert_true(env->arrival.tv_sec > 1600000000);
    assert_string_equal(queue_file_attr(qf, "rewrite_context"), "remote");
    assert_string_equal(queue_file_attr(qf, "log_ident"), "");
    assert_null(queue_file_attr(qf, "unknown_name"));
    assert_int_equal(queue_file_attr_at(qf, 1, &name, &value), 1);
    assert_string_equal(name, "log_ident");
    assert_int_equal(queue_file_attr_at(qf, 2, &name, &value), 0);
    for (int pass = 0; pass < 2; pass++) {
        queue_file_rcpt_rewind(qf);
        for (i = 0; (got = queue_file_rcpt_next(qf, &r, &f->err)) == 1; i++) {
            snprintf(want, sizeof(want), "user%d@example.test", i);
            assert_string_equal(r.address, want);
            snprintf(want, sizeof(want), "rfc822;User%d@Example.TEST", i);
            assert_string_equal(r.orcpt, i % 3 ? want : "");
            assert_int_equal(r.notify, i % 2 ? QF_NOTIFY_SUCCESS | QF_NOTIFY_FAILURE
                             : (i % 5 ? 0 : QF_NOTIFY_NEVER));
            assert_int_equal(r.done, 0);
            assert_int_equal(r.index, i);
        }
        assert_int_equal(got, 0);
        assert_int_equal(i, 1000);
    }
    read_content(qf, &back, 777);
    assert_int_equal(back.len, content.len);
    assert_memory_equal(back.data, content.data, content.len);
    read_content(qf, &back, 1);         /* rewind works, tiny reads too */
    assert_memory_equal(back.data, content.data, content.len);
    buf_reset(&back);
    assert_int_equal(queue_file_content_foreach(qf, collect, &back, &f->err), 0);
    assert_int_equal(back.len, content.len);
    assert_memory_equal(back.data, content.data, content.len);
    queue_file_close(qf);
    buf_free(&content);
    buf_free(&back);
}

static void test_null_sender_empty_content(void **state)
{
    struct fixture *f = *state;
    struct buf content = BUF_INIT, back = BUF_INIT;
    struct queue_file *qf;
    const char *path = write_message(f, "", 1, &content, 0);

    qf = must_open(f, path, QF_OPEN_RDONLY);
    assert_string_equal(queue_file_envelope(qf)->sender, "");
    assert_true(queue_file_envelope(qf)->size == 0);
    read_content(qf, &back, 100);
    assert_int_equal(back.len, 0);
    queue_file_close(qf);
    buf_free(&back);
}

static void test_mark_done(void **state)
{
    struct fixture *f = *state;
    struct buf content = BUF_INIT;
    struct queue_file *qf, *qf2;
    struct qf_rcpt r[5], bogus;
    const struct qf_rcpt *many[2];
    const char *path;

    buf_puts(&content, "Subject: hi\n\nbody\n");
    path = write_message(f, "a@example.org", 5, &content, 0);
    qf = must_open(f, path, QF_OPEN_RDWR);
    for (int i = 0; i < 5; i++)
        assert_int_equal(queue_file_rcpt_next(qf, &r[i], &f->err), 1);
    assert_int_equal(queue_file_mark_done(qf, &r[1], &f->err), 0);
    assert_int_equal(queue_file_envelope(qf)->ndone, 1);
    many[0] = &r[3];
    many[1] = &r[4];
    assert_int_equal(queue_file_mark_done_many(qf, many, 2, &f->err), 0);
    assert_int_equal(queue_file_mark_done(qf, &r[1], &f->err), 0);     /* again: no-op */
    assert_int_equal(queue_file_envelope(qf)->ndone, 3);
    /* An offset that is not a recipient record is refused. */
    bogus = r[0];
    bogus.offset += 1;
    assert_int_equal(queue_file_mark_done(qf, &bogus, &f->err), -1);
    bogus.offset = 0;
    assert_int_equal(queue_file_mark_done(qf, &bogus, &f->err), -1);
    assert_int_equal(queue_file_set_warn_time(qf, 1700000000, &f->err), 0);

    /* A second reader sees the new state; the file is still valid. */
    qf2 = must_open(f, path, QF_OPEN_RDONLY);
    assert_int_equal(queue_file_envelope(qf2)->ndone, 3);
    assert_int_equal(queue_file_envelope(qf2)->warn_time, 1700000000);
    for (int i = 0; i < 5; i++) {
        struct qf_rcpt x;

        assert_int_equal(queue_file_rcpt_next(qf2, &x, &f->err), 1);
        assert_int_equal(x.done, i == 1 || i == 3 || i == 4);
    }
    /* A read-only handle cannot mark anything. */
    assert_int_equal(queue_file_mark_done(qf2, &r[0], &f->err), -1);
    queue_file_close(qf2);
    /* The first handle re-reads the status bytes it changed. */
    queue_file_rcpt_rewind(qf);
    assert_int_equal(queue_file_rcpt_next(qf, &r[0], &f->err), 1);
    assert_int_equal(queue_file_rcpt_next(qf, &r[1], &f->err), 1);
    assert_int_equal(r[0].done, 0);
    assert_int_equal(r[1].done, 1);
    queue_file_close(qf);
    buf_free(&content);
}

/* A small valid file image (as bytes), written through the writer. */
static void small_image(struct fixture *f, struct buf *img)
{
    struct buf content = BUF_INIT;
    const char *path;

    buf_puts(&content, "From: a\n\nx\0y\n");
    content.len++;                      /* keep the NUL in the content */
    buf_puts(&content, "z");
    path = write_message(f, "s@example.org", 2, &content, 0);
    assert_int_equal(read_file(path, 1 << 20, img), 0);
    assert_int_equal(unlink(path), 0);
    buf_free(&content);
}

/* Does an image validate (and, if so, can it be walked without harm)? */
static int image_ok(const void *data, size_t len, struct buf *why)
{
    struct queue_file *qf;
    struct qf_rcpt r;
    char tmp[100];
    ssize_t n;
    int got;

    buf_reset(why);
    if (queue_file_open_mem(data, len, &qf, why) != 0) {
        assert_true(why->len > 0);
        return 0;
    }
    while ((got = queue_file_rcpt_next(qf, &r, why)) == 1)
        assert_non_null(r.address);
    assert_int_equal(got, 0);
    while ((n = queue_file_content_read(qf, tmp, sizeof(tmp), why)) > 0)
        ;
    assert_int_equal(n, 0);
    queue_file_close(qf);
    return 1;
}

static void test_every_truncation(void **state)
{
    struct fixture *f = *state;
    struct buf img = BUF_INIT, why = BUF_INIT;
    struct queue_file *qf;
    const char *path;
    int fd, corrupt;

    small_image(f, &img);
    assert_true(image_ok(img.data, img.len, &why));
    buf_reset(&f->path);
    buf_printf(&f->path, "%s/trunc", f->dir);
    path = buf_str(&f->path);
    for (size_t len = 0; len < img.len; len++) {
        if (image_ok(img.data, len, &why))
            fail_msg("prefix of %zu/%zu bytes accepted", len, img.len);
        /* The same through the file reader. */
        unlink(path);
        assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
        assert_int_equal(write_all(fd, img.data, len), 0);
        close(fd);
        buf_reset(&why);
        assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &why), -1);
        assert_int_equal(corrupt, 1);
    }
    buf_free(&img);
    buf_free(&why);
}

/* Offsets of each record header in a valid image. */
static size_t record_offsets(const struct buf *img, size_t *offs, size_t max)
{
    const unsigned char *p = (const unsigned char *)img->data;
    size_t n = 0, off = 0;

    while (off < img->len && n < max) {
        offs[n++] = off;
        off += QF_HEADER_SIZE + ((size_t)p[off + 1] << 24 | (size_t)p[off + 2] << 16
                                 | (size_t)p[off + 3] << 8 | p[off + 4]);
    }
    assert_int_equal(off, img->len);
    return n;
}

static void test_single_byte_corruption(void **state)
{
    struct fixture *f = *state;
    struct buf img = BUF_INIT, bad = BUF_INIT, why = BUF_INIT;
    static const int deltas[] = { 1, -1, 0x80, 0x20 };
    size_t offs[64], nrec, accepted = 0, tried = 0;

    small_image(f, &img);
    nrec = record_offsets(&img, offs, 64);
    /* Every byte, several changes each: rejected or walked without harm. */
    for (size_t pos = 0; pos < img.len; pos++) {
        for (int v = 0; v < 6; v++) {
            unsigned char orig = (unsigned char)img.data[pos], b;

            b = v < 4 ? (unsigned char)(orig + deltas[v]) : (v == 4 ? 0 : 0xff);
            if (b == orig)
                continue;
            buf_reset(&bad);
            buf_append(&bad, img.data, img.len);
            bad.data[pos] = (char)b;
            tried++;
            accepted += (size_t)image_ok(bad.data, bad.len, &why);
        }
    }
    /* Length fields and type bytes: always rejected. */
    for (size_t i = 0; i < nrec; i++) {
        for (size_t k = 1; k < QF_HEADER_SIZE; k++) {
            for (int v = 0; v < 256; v++) {
                if ((unsigned char)img.data[offs[i] + k] == v)
                    continue;
                buf_reset(&bad);
                buf_append(&bad, img.data, img.len);
                bad.data[offs[i] + k] = (char)v;
                if (image_ok(bad.data, bad.len, &why))
                    fail_msg("record %zu length byte %zu = %d accepted", i, k, v);
            }
        }
        for (int v = 0; v < 256; v++) {
            if ((unsigned char)img.data[offs[i]] == v)
                continue;
            buf_reset(&bad);
            buf_append(&bad, img.data, img.len);
            bad.data[offs[i]] = (char)v;
            if (image_ok(bad.data, bad.len, &why) && strchr("VTISWNFCARZBE", v) == NULL)
                fail_msg("record %zu with unknown type %d accepted", i, v);
        }
    }
    print_message("    %zu of %zu single-byte changes accepted (content, addresses)\n",
                  accepted, tried);
    buf_free(&img);
    buf_free(&bad);
    buf_free(&why);
}

/* Append a raw record to an image. */
static void raw_record(struct buf *img, int type, const void *data, uint32_t len)
{
    unsigned char hdr[5] = { (unsigned char)type, (unsigned char)(len >> 24),
                             (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                             (unsigned char)len };

    buf_append(img, hdr, 5);
    if (len)
        buf_append(img, data, len);
}

/* Build a minimal valid image by hand, with hooks to break it. */
static void hand_image(struct buf *img, int extra_type, uint32_t chunk_len)
{
    unsigned char v = 1, t[12] = { 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 5 };
    unsigned char w[8] = { 0 }, z[8] = { 0 };
    unsigned char r[4 + 5] = { 'P', 0, 0, 5, 'a', '@', 'b', '.', 'c' };
    char id[QUEUE_ID_SIZE];
    struct timeval tv = { 0x6553f100, 5 };
    static char chunk[QF_MAX_CHUNK + 10];

    buf_reset(img);
    queue_id_format(id, &tv, 99);
    raw_record(img, 'V', &v, 1);
    raw_record(img, 'T', t, 12);
    raw_record(img, 'I', id, (uint32_t)strlen(id));
    raw_record(img, 'S', "", 0);
    raw_record(img, 'W', w, 8);
    raw_record(img, 'R', r, sizeof(r));
    if (extra_type)
        raw_record(img, extra_type, "x", 1);
    z[4] = (unsigned char)(chunk_len >> 24);
    z[5] = (unsigned char)(chunk_len >> 16);
    z[6] = (unsigned char)(chunk_len >> 8);
    z[7] = (unsigned char)chunk_len;
    raw_record(img, 'Z', z, 8);
    memset(chunk, 'm', sizeof(chunk));
    if (chunk_len)
        raw_record(img, 'B', chunk, chunk_len);
    raw_record(img, 'E', NULL, 0);
}

static void test_hand_made(void **state)
{
    struct buf img = BUF_INIT, why = BUF_INIT;

    hand_image(&img, 0, 10);
    assert_true(image_ok(img.data, img.len, &why));
    hand_image(&img, 0, QF_MAX_CHUNK);
    assert_true(image_ok(img.data, img.len, &why));

    /* Unknown record type. */
    hand_image(&img, 'Q', 10);
    assert_false(image_ok(img.data, img.len, &why));
    assert_non_null(strstr(buf_str(&why), "unknown record type"));
    /* Oversize chunk, oversize length field. */
    hand_image(&img, 0, QF_MAX_CHUNK + 1);
    assert_false(image_ok(img.data, img.len, &why));
    assert_non_null(strstr(buf_str(&why), "bad record length"));
    hand_image(&img, 0, 10);
    memset(img.data + 1, 0xff, 4);          /* the V record's length */
    assert_false(image_ok(img.data, img.len, &why));
    assert_non_null(strstr(buf_str(&why), "truncated record"));
    /* Trailing junk: one byte, and a second end record. */
    hand_image(&img, 0, 10);
    buf_putc(&img, 0);
    assert_false(image_ok(img.data, img.len, &why));
    hand_image(&img, 0, 10);
    raw_record(&img, 'E', NULL, 0);
    assert_false(image_ok(img.data, img.len, &why));
    assert_non_null(strstr(buf_str(&why), "after the end record"));
    /* A content record in the envelope, an envelope record in the content. */
    hand_image(&img, 'B', 10);
    assert_false(image_ok(img.data, img.len, &why));
    hand_image(&img, 0, 10);
    img.len -= 5;
    raw_record(&img, 'A', "a=b", 3);
    raw_record(&img, 'E', NULL, 0);
    assert_false(image_ok(img.data, img.len, &why));
    /* Duplicate single record. */
    hand_image(&img, 'F', 10);              /* RET 'x' */
    assert_false(image_ok(img.data, img.len, &why));
    /* Size record that disagrees with the content. */
    hand_image(&img, 0, 10);
    img.data[img.len - 5 - 10 - 5 - 1] = 11;
    assert_false(image_ok(img.data, img.len, &why));
    assert_non_null(strstr(buf_str(&why), "differs from size"));
    /* Nothing at all, and a file of only a version record. */
    assert_false(image_ok("", 0, &why));
    assert_false(image_ok("V\0\0\0\1\1", 6, &why));
    buf_free(&img);
    buf_free(&why);
}

static void test_commit_and_abort(void **state)
{
    struct fixture *f = *state;
    struct queue_file_writer *w;
    struct buf content = BUF_INIT;
    struct queue_file *qf;
    struct stat st;
    char *names;
    const char *path;

    buf_puts(&content, "hello\n");
    path = write_message(f, "a@b.c", 1, &content, 0);
    names = list_dir(f->incoming);
    assert_string_equal(names, strrchr(path, '/') + 1);      /* no temp file */
    free(names);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    qf = must_open(f, path, QF_OPEN_RDONLY);
    queue_file_close(qf);
    assert_int_equal(unlink(path), 0);

    /* Hashed: incoming/X/Y/ID, made on demand. */
    path = write_message(f, "a@b.c", 1, &content, 2);
    qf = must_open(f, path, QF_OPEN_RDONLY);
    queue_file_close(qf);
    assert_int_equal(strlen(path), strlen(f->incoming) + 1 + 4 + strlen(strrchr(path, '/') + 1));

    /* Abort leaves nothing behind. */
    assert_int_equal(unlink(path), 0);
    w = queue_file_create(f->incoming, &f->err);
    assert_non_null(w);
    queue_file_put_sender(w, "x@y.z");
    queue_file_put_rcpt(w, "p@q.r", NULL, 0);
    queue_file_put_content(w, "data", 4);
    queue_file_abort(w);
    names = list_dir(f->incoming);
    assert_true(strchr(names, ' ') != NULL || strlen(names) == 1);  /* only hash dirs */
    assert_null(strstr(names, "tmp."));
    free(names);
    buf_free(&content);
}

static void test_writer_limits(void **state)
{
    struct fixture *f = *state;
    struct queue_file_writer *w;
    char big[QF_MAX_ADDR + 10];
    char *names;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;

    /* No recipients: commit fails and leaves nothing. */
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_sender(w, "a@b"), 0);
    buf_reset(&f->err);
    assert_int_equal(queue_file_commit(w, f->incoming, 0, &f->err), -1);
    assert_non_null(strstr(buf_str(&f->err), "no recipients"));
    /* Oversize address; the error sticks. */
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_sender(w, "a@b"), 0);
    assert_int_equal(queue_file_put_rcpt(w, big, NULL, 0), -1);
    assert_int_equal(queue_file_put_rcpt(w, "ok@b", NULL, 0), -1);
    buf_reset(&f->err);
    assert_int_equal(queue_file_commit(w, f->incoming, 0, &f->err), -1);
    assert_non_null(strstr(buf_str(&f->err), "bad recipient address"));
    /* Bad values of each kind. */
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_sender(w, "a\nb"), -1);
    queue_file_abort(w);
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_envid(w, "has space"), -1);
    queue_file_abort(w);
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_attr(w, "Bad-Name", "v"), -1);
    queue_file_abort(w);
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_rcpt(w, "a@b", NULL, QF_NOTIFY_NEVER | QF_NOTIFY_DELAY), -1);
    queue_file_abort(w);
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_ret(w, (enum qf_ret)'X'), -1);
    queue_file_abort(w);
    /* Envelope after content. */
    w = queue_file_create(f->incoming, &f->err);
    assert_int_equal(queue_file_put_sender(w, "a@b"), 0);
    assert_int_equal(queue_file_put_rcpt(w, "c@d", NULL, 0), 0);
    assert_int_equal(queue_file_put_content(w, "x", 1), 0);
    assert_int_equal(queue_file_put_rcpt(w, "e@f", NULL, 0), -1);
    queue_file_abort(w);
    names = list_dir(f->incoming);
    assert_string_equal(names, "");
    free(names);
}

static void test_crash_before_commit(void **state)
{
    struct fixture *f = *state;
    struct dirent **names;
    pid_t pid;
    int status, n;

    for (int round = 0; round < 3; round++) {
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct buf err = BUF_INIT;
            struct queue_file_writer *w = queue_file_create(f->incoming, &err);
            static char data[200000];

            if (w == NULL)
                _exit(2);
            queue_file_put_sender(w, "a@b");
            queue_file_put_rcpt(w, "c@d", NULL, 0);
            if (round > 0)
                queue_file_put_content(w, data, sizeof(data));
            _exit(0);                   /* dies before commit */
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    n = scandir(f->incoming, &names, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (queue_id_valid(names[i]->d_name))
            fail_msg("queue file %s appeared without commit", names[i]->d_name);
        if (names[i]->d_name[0] != '.')
            assert_true(strncmp(names[i]->d_name, "tmp.", 4) == 0);
        free(names[i]);
    }
    free(names);
}

static void test_quarantine(void **state)
{
    struct fixture *f = *state;
    struct buf content = BUF_INIT, img = BUF_INIT, logpath = BUF_INIT, log = BUF_INIT;
    struct buf line = BUF_INIT;
    struct queue_file *qf;
    char id[QUEUE_ID_SIZE], path[256], other[256];
    int fd, corrupt;

    buf_puts(&content, "x\n");
    strcpy(path, write_message(f, "a@b.c", 2, &content, 0));
    strcpy(id, strrchr(path, '/') + 1);
    /* Chop the end record off, as a crash in the middle of a copy might. */
    assert_int_equal(read_file(path, 1 << 20, &img), 0);
    assert_int_equal(truncate(path, (off_t)img.len - 5), 0);
    buf_reset(&f->err);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &f->err), -1);
    assert_int_equal(corrupt, 1);
    buf_printf(&logpath, "%s/maillog", f->dir);
    assert_int_equal(log_to_file(buf_str(&logpath)), 0);
    assert_int_equal(queue_file_quarantine(path, f->corrupt, buf_str(&f->err)), 0);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(other, sizeof(other), "%s/%s", f->corrupt, id);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(read_file(buf_str(&logpath), 1 << 20, &log), 0);
    buf_printf(&line, "warning: %s: corrupt queue file: ", id);
    assert_non_null(strstr(buf_str(&log), buf_str(&line)));
    assert_non_null(strstr(buf_str(&log), "no end record"));

    /* A second file of the same name goes next to the first. */
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
    close(fd);
    assert_int_equal(queue_file_quarantine(path, f->corrupt, "test"), 0);
    snprintf(other, sizeof(other), "%s/%s.1", f->corrupt, id);
    assert_int_equal(access(other, F_OK), 0);

    /* A valid file under another queue ID's name is corrupt too. */
    strcpy(path, write_message(f, "a@b.c", 1, &content, 0));
    snprintf(other, sizeof(other), "%s/0000000000z1", f->incoming);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(queue_file_open(other, QF_OPEN_RDONLY, &qf, &corrupt, &f->err), -1);
    assert_int_equal(corrupt, 1);
    /* A symlink is refused, a missing file is not "corrupt". */
    assert_int_equal(symlink(other, path), 0);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &f->err), -1);
    assert_int_equal(corrupt, 1);
    unlink(path);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &f->err), -1);
    assert_int_equal(corrupt, 0);
    buf_free(&content);
    buf_free(&img);
    buf_free(&logpath);
    buf_free(&log);
    buf_free(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_sender_empty_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_byte_corruption, setup, teardown),
        cmocka_unit_test(test_hand_made),
        cmocka_unit_test_setup_teardown(test_commit_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
    };

    log_init("test_queue_file");
    log_to_stderr(0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
