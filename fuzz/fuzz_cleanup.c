/*
 * fuzz_cleanup - libFuzzer target for lib/cleanup: arbitrary message
 * content (headers, folding, junk, long lines) through the header and
 * address-rewriting code, with canonical, masquerade and virtual alias
 * tables and sendmail -t.
 *
 * Input: byte 0 picks local submission / -t / a small header_size_limit
 * configuration; byte 1 the size of the pieces lines are fed in; the
 * rest is the content, split at LF. Checks: the result is the same
 * whatever the piece size (status, recipients, content length apart
 * from the queue ID); an accepted message commits and reads back as a
 * valid queue file whose content starts with Received: and ends in LF.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "queue_file.h"

static char dir[64];
static struct cleanup *cl[2];
static struct config *cfgs[2];

static const char base_cf[] =
    "myhostname = mx.example.com\nmydomain = example.com\nmyorigin = example.com\n"
    "recipient_delimiter = +\n"
    "masquerade_domains = !keep.example.com, example.com\n"
    "masquerade_classes = envelope_sender, envelope_recipient, header_sender, "
    "header_recipient\n"
    "masquerade_exceptions = root\n"
    "canonical_maps = inline:{old@example.com=new@host.example.com, @a.example=@b.example}\n"
    "virtual_alias_maps = inline:{ {list@example.com = a@example.com, b, list@example.com},"
    " loop1@example.com=loop2@example.com, loop2@example.com=loop1@example.com,"
    " {big@example.com = 1@x, 2@x, 3@x, 4@x, 5@x, 6@x} }\n"
    "virtual_alias_recursion_limit = 30\nvirtual_alias_expansion_limit = 5\n";

static void init(void)
{
    struct buf cf = BUF_INIT, err = BUF_INIT;
    char sub[128];

    log_init("fuzz_cleanup");
    log_to_stderr(0);
    strcpy(dir, "/dev/shm/fuzz_cleanup.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        strcpy(dir, "/tmp/fuzz_cleanup.XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
    }
    snprintf(sub, sizeof(sub), "%s/incoming", dir);
    mkdir(sub, 0700);
    for (int i = 0; i < 2; i++) {
        buf_reset(&cf);
        buf_printf(&cf, "%squeue_directory = %s\n%s", base_cf, dir,
                   i ? "header_size_limit = 300\nhopcount_limit = 3\n" : "");
        cfgs[i] = config_parse("main.cf", cf.data, cf.len, &err);
        if (cfgs[i] == NULL || (cl[i] = cleanup_open(cfgs[i], &err)) == NULL) {
            fprintf(stderr, "%s\n", buf_str(&err));
            abort();
        }
    }
    buf_free(&cf);
    buf_free(&err);
}

struct outcome {
    struct cleanup_status st;
    struct buf rcpts;
    size_t content_len;         /* without the queue ID's occurrences */
};

static size_t count_sub(const char *s, size_t len, const char *sub)
{
    size_t n = 0, k = strlen(sub);

    for (size_t i = 0; k && i + k <= len; i++)
        if (memcmp(s + i, sub, k) == 0)
            n++;
    return n;
}

static void one(const uint8_t *data, size_t size, int mode, size_t piece, struct outcome *o)
{
    struct buf err = BUF_INIT, path = BUF_INIT, content = BUF_INIT;
    struct cleanup_envelope env;
    struct queue_file_writer *w;
    struct cleanup_msg *m;
    char qid[QUEUE_ID_SIZE];
    size_t pos = 0;
    static const char *const rcpts[] = {"bob@host.example.com", "list@example.com",
                                        "old+x@example.com", NULL};

    memset(o, 0, sizeof(*o));
    buf_init(&o->rcpts, 0);
    memset(&env, 0, sizeof(env));
    env.sender = (mode & 8) ? "" : "root@host.example.com";
    if (mode & 1) {
        env.local_submission = 1;
        env.extract_recipients = (mode & 2) != 0;
        env.full_name = "Fuzz \"Q\" User";
        env.login_user = "fuzz";
        env.protocol = "LOCAL";
    } else {
        env.client_name = "client.example";
        env.client_addr = (mode & 16) ? "2001:db8::1" : "192.0.2.1";
        env.helo = (mode & 32) ? NULL : "helo.example";
        env.protocol = "ESMTP";
    }
    buf_printf(&path, "%s/incoming", dir);
    if ((w = queue_file_create(buf_str(&path), &err)) == NULL)
        abort();
    snprintf(qid, sizeof(qid), "%s", queue_file_writer_id(w));
    m = cleanup_begin(cl[(mode >> 2) & 1], w, &env, &o->st);
    if (m == NULL)
        abort();
    for (int i = 0; rcpts[i] && !((mode & 2) && (mode & 1) && i > 0); i++)
        if ((o->st = cleanup_rcpt(m, rcpts[i], NULL, 0)).result != CLEANUP_OK)
            break;
    while (pos < size && o->st.result == CLEANUP_OK) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - data) - pos : size - pos, off = 0;

        do {
            size_t k = n - off < piece ? n - off : piece;

            o->st = cleanup_content(m, (const char *)data + pos + off, k,
                                    off + k == n && nl != NULL);
            off += k;
        } while (off < n && o->st.result == CLEANUP_OK);
        pos += n + (nl != NULL);
    }
    if (o->st.result == CLEANUP_OK)
        o->st = cleanup_finish(m);
    if (o->st.result == CLEANUP_OK) {
        struct queue_file *qf;
        struct qf_rcpt r;
        int corrupt = 0;
        char chunk[4096];
        ssize_t k;

        cleanup_free(m);
        if (queue_file_commit(w, buf_str(&path), 0, &err) != 0)
            abort();
        buf_printf(&path, "/%s", qid);
        if (queue_file_open(buf_str(&path), QF_OPEN_RDONLY, &qf, &corrupt, &err) != 0) {
            fprintf(stderr, "bad queue file: %s\n", buf_str(&err));
            abort();
        }
        queue_file_rcpt_rewind(qf);
        while (queue_file_rcpt_next(qf, &r, &err) == 1)
            buf_printf(&o->rcpts, "%s|%s ", r.address, r.orcpt);
        queue_file_content_rewind(qf);
        while ((k = queue_file_content_read(qf, chunk, sizeof(chunk), &err)) > 0)
            buf_append(&content, chunk, (size_t)k);
        queue_file_close(qf);
        unlink(buf_str(&path));
        if (content.len < 10 || memcmp(content.data, "Received: ", 10) != 0
            || content.data[content.len - 1] != '\n')
            abort();
        o->content_len = content.len - strlen(qid) * count_sub(content.data, content.len, qid);
    } else {
        cleanup_free(m);
        queue_file_abort(w);
    }
    buf_free(&content);
    buf_free(&err);
    buf_free(&path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome a, b;
    int mode;
    size_t piece;

    if (dir[0] == 0)
        init();
    if (size < 2)
        return 0;
    mode = data[0];
    piece = 1 + data[1] % 64;
    one(data + 2, size - 2, mode, (size_t)-1, &a);
    one(data + 2, size - 2, mode, piece, &b);
    if (a.st.result != b.st.result || a.st.code != b.st.code
        || strcmp(buf_str(&a.rcpts), buf_str(&b.rcpts)) != 0 || a.content_len != b.content_len) {
        fprintf(stderr, "piece size %zu changed the result: %d/%d %s / %s, %zu/%zu\n", piece,
                a.st.code, b.st.code, buf_str(&a.rcpts), buf_str(&b.rcpts), a.content_len,
                b.content_len);
        abort();
    }
    buf_free(&a.rcpts);
    buf_free(&b.rcpts);
    return 0;
}
