/*
 * test_mailbox - unit tests for lib/mail_copy.c, lib/maildir.c,
 * lib/mbox.c and lib/delivered_to.c in a private mkdtemp() directory:
 * Maildir names, placement and headers; mbox From_ line, >From quoting,
 * blank line and locks; refusal of symlinks, foreign owners, hard links
 * and non-files; size limits with the mailbox left as it was; the
 * Delivered-To: scan with folded, case-varied and chunked headers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "delivered_to.h"
#include "eugid.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"
#include "queue_file.h"
#include "safe_file.h"

struct fixture {
    char dir[64];
    char path[256];             /* scratch */
    struct buf why;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_mailbox.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    buf_init(&f->why, 0);
    log_init("test_mailbox");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    buf_free(&f->why);
    free(f);
    return 0;
}

/* A queue file in the fixture dir whose content is the pieces given (NULL-ended). */
static struct queue_file *make_qf(struct fixture *f, const char *sender, ...)
{
    struct queue_file_writer *w;
    struct queue_file *qf;
    struct buf err = BUF_INIT;
    char path[256];
    const char *piece;
    va_list ap;
    int corrupt;

    w = queue_file_create(f->dir, &err);
    assert_non_null(w);
    snprintf(path, sizeof(path), "%s/%s", f->dir, queue_file_writer_id(w));
    queue_file_put_sender(w, sender);
    queue_file_put_rcpt(w, "bob@example.test", NULL, 0);
    va_start(ap, sender);
    while ((piece = va_arg(ap, const char *)) != NULL)
        assert_int_equal(queue_file_put_content(w, piece, strlen(piece)), 0);
    va_end(ap);
    assert_int_equal(queue_file_commit(w, f->dir, 0, &err), 0);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &err), 0);
    buf_free(&err);
    return qf;
}

/* A whole small file as a string. */
static char *slurp(const char *path)
{
    struct buf b = BUF_INIT;

    assert_int_equal(read_file(path, 1 << 20, &b), 0);
    return buf_steal(&b);
}

/* The only entry of a directory (not . or ..), or NULL if not exactly one. */
static char *only_entry(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *name = NULL;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        free(name);
        name = xstrdup(e->d_name);
    }
    closedir(d);
    if (n != 1) {
        free(name);
        return NULL;
    }
    return name;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static const struct mailbox_opts maildir_opts = {
    .copy_flags = MAIL_COPY_MAILDIR,
    .flags = MAILBOX_CREATE,
    .sender = "alice@example.org",
    .delivered_to = "bob@example.test",
    .original_to = "Bob@Example.Test",
};

static void test_maildir(void **state)
{
    struct fixture *f = *state;
    struct queue_file *qf = make_qf(f, "alice@example.org", "Subject: hi\n\n",
                                    "From me\nbody", NULL);
    char md[200], sub[256], file[512], *name, *text, want[64];
    regex_t re;
    struct stat st;
    int is_temp = -1;

    /* The domain directory does not exist yet: it is made too. */
    snprintf(md, sizeof(md), "%s/example.test/bob/", f->dir);
    assert_int_equal(maildir_deliver(md, qf, &maildir_opts, &is_temp, &f->why), 0);

    snprintf(sub, sizeof(sub), "%snew", md);
    name = only_entry(sub);
    assert_non_null(name);
    assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\.[^/:]+,S=[0-9]+$",
                             REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, name, 0, NULL, 0), 0);
    regfree(&re);
    snprintf(file, sizeof(file), "%s/%s", sub, name);
    assert_int_equal(lstat(file, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_nlink, 1);
    snprintf(want, sizeof(want), ",S=%lld", (long long)st.st_size);
    assert_non_null(strstr(name, want));
    text = slurp(file);
    assert_string_equal(text, "Return-Path: <alice@example.org>\n"
                              "Delivered-To: bob@example.test\n"
                              "X-Original-To: Bob@Example.Test\n"
                              "Subject: hi\n\nFrom me\nbody\n");
    free(text);
    free(name);
    snprintf(sub, sizeof(sub), "%stmp", md);
    assert_int_equal(count_entries(sub), 0);
    snprintf(sub, sizeof(sub), "%scur", md);
    assert_int_equal(lstat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);

    /* A second delivery gets a different name. */
    assert_int_equal(maildir_deliver(md, qf, &maildir_opts, &is_temp, &f->why), 0);
    snprintf(sub, sizeof(sub), "%snew", md);
    assert_int_equal(count_entries(sub), 2);
    queue_file_close(qf);
}

static void test_maildir_refusals(void **state)
{
    struct fixture *f = *state;
    struct queue_file *qf = make_qf(f, "", "Subject: big\n\n",
                                    "0123456789012345678901234567890123456789\n", NULL);
    struct mailbox_opts o = maildir_opts;
    char md[200], link[200], sub[256];
    int is_temp = -1;

    /* Missing and not to be created: a temporary error. */
    o.flags = 0;
    snprintf(md, sizeof(md), "%s/nosuch/", f->dir);
    assert_int_equal(maildir_deliver(md, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 1);
    assert_non_null(strstr(buf_str(&f->why), "maildir delivery failed"));

    /* A symlinked Maildir is refused for good. */
    o.flags = MAILBOX_CREATE;
    snprintf(md, sizeof(md), "%s/real/", f->dir);
    assert_int_equal(maildir_deliver(md, qf, &o, &is_temp, &f->why), 0);
    snprintf(link, sizeof(link), "%s/link", f->dir);
    snprintf(md, sizeof(md), "%s/real", f->dir);
    assert_int_equal(symlink(md, link), 0);
    buf_reset(&f->why);
    strcat(link, "/");
    assert_int_equal(maildir_deliver(link, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 0);

    /* Over the size limit: permanent, EFBIG, nothing left behind. */
    o.size_limit = 40;
    snprintf(md, sizeof(md), "%s/small/", f->dir);
    buf_reset(&f->why);
    assert_int_equal(maildir_deliver(md, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(is_temp, 0);
    assert_non_null(strstr(buf_str(&f->why), "size limit"));
    snprintf(sub, sizeof(sub), "%snew", md);
    assert_int_equal(count_entries(sub), 0);
    snprintf(sub, sizeof(sub), "%stmp", md);
    assert_int_equal(count_entries(sub), 0);
    queue_file_close(qf);
}

static const struct mailbox_opts mbox_opts = {
    .copy_flags = MAIL_COPY_MBOX,
    .flags = MAILBOX_CREATE | MAILBOX_LOCK_DOTLOCK | MAILBOX_LOCK_FCNTL,
    .sender = "alice@example.org",
    .delivered_to = "bob@example.test",
};

static void test_mbox(void **state)
{
    struct fixture *f = *state;
    /* "From " split across content records, and a last line without newline. */
    struct queue_file *qf = make_qf(f, "alice@example.org", "Subject: hi\n\nFr",
                                    "om the start\nFrom\nFrom", " x\n>From y\nnot From z\n",
                                    "end", NULL);
    struct queue_file *null_qf = make_qf(f, "", "Subject: bounce\n\nFro", NULL);
    char mbox[200], lock[256], *text, *p;
    const char *want;
    struct mailbox_opts null_opts = mbox_opts;
    regex_t re;
    int is_temp = -1;
    struct stat st;

    snprintf(mbox, sizeof(mbox), "%s/bob", f->dir);
    assert_int_equal(mbox_deliver(mbox, qf, &mbox_opts, &is_temp, &f->why), 0);
    null_opts.sender = "";
    assert_int_equal(mbox_deliver(mbox, null_qf, &null_opts, &is_temp, &f->why), 0);
    snprintf(lock, sizeof(lock), "%s.lock", mbox);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(lstat(mbox, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    text = slurp(mbox);
    assert_int_equal(regcomp(&re, "^From alice@example.org "
                             "[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] "
                             "[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\n",
                             REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
    regfree(&re);
    p = strchr(text, '\n') + 1;
    want = "Return-Path: <alice@example.org>\n"
           "Delivered-To: bob@example.test\n"
           "Subject: hi\n\n"
           ">From the start\nFrom\n>From x\n>From y\nnot From z\nend\n\n"
           "From MAILER-DAEMON ";
    assert_memory_equal(p, want, strlen(want));
    p = strstr(p, "From MAILER-DAEMON ");
    p = strchr(p, '\n') + 1;
    assert_string_equal(p, "Return-Path: <>\nDelivered-To: bob@example.test\n"
                           "Subject: bounce\n\nFro\n\n");
    free(text);
    queue_file_close(qf);
    queue_file_close(null_qf);
}

static void test_mbox_stale_lock(void **state)
{
    struct fixture *f = *state;
    struct queue_file *qf = make_qf(f, "a@b", "Subject: x\n\nx\n", NULL);
    char mbox[200], lock[256];
    struct timeval old[2] = {{1000, 0}, {1000, 0}};
    int fd, is_temp;

    snprintf(mbox, sizeof(mbox), "%s/carol", f->dir);
    snprintf(lock, sizeof(lock), "%s.lock", mbox);
    fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(utimes(lock, old), 0);
    assert_int_equal(mbox_deliver(mbox, qf, &mbox_opts, &is_temp, &f->why), 0);
    assert_int_equal(access(lock, F_OK), -1);
    queue_file_close(qf);
}

static void test_mbox_refusals(void **state)
{
    struct fixture *f = *state;
    struct queue_file *qf = make_qf(f, "a@b", "Subject: x\n\nx\n", NULL);
    struct mailbox_opts o = mbox_opts;
    char mbox[200], target[200], other[220], *text;
    struct stat st;
    int fd, is_temp = -1;

    /* A symlink: refused for good, the target untouched. */
    snprintf(target, sizeof(target), "%s/target", f->dir);
    snprintf(mbox, sizeof(mbox), "%s/sym", f->dir);
    fd = open(target, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink(target, mbox), 0);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 0);
    assert_non_null(strstr(buf_str(&f->why), "symbolic link"));
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 0);

    /* A dangling symlink is not followed to create a file either. */
    snprintf(mbox, sizeof(mbox), "%s/dangling", f->dir);
    snprintf(other, sizeof(other), "%s/created", f->dir);
    assert_int_equal(symlink(other, mbox), 0);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(access(other, F_OK), -1);

    /* Owned by someone else while check_owner: refused for now (Postfix defers). */
    o.check_owner = 1;
    o.owner = geteuid();
    if (geteuid() == 0) {
        assert_int_equal(chown(target, 4242, 4242), 0);
        buf_reset(&f->why);
        assert_int_equal(mbox_deliver(target, qf, &o, &is_temp, &f->why), -1);
        assert_int_equal(is_temp, 1);
        assert_non_null(strstr(buf_str(&f->why), "owned by uid 4242"));
        o.owner = 4242;
    }
    /* The right owner: delivered. */
    assert_int_equal(mbox_deliver(target, qf, &o, &is_temp, &f->why), 0);
    o.check_owner = 0;

    /* Two hard links: refused. */
    snprintf(other, sizeof(other), "%s/hardlink", f->dir);
    assert_int_equal(link(target, other), 0);
    buf_reset(&f->why);
    assert_int_equal(mbox_deliver(target, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 0);
    assert_non_null(strstr(buf_str(&f->why), "hard links"));
    unlink(other);

    /* Not a regular file: a directory and a FIFO (which must not hang us). */
    snprintf(mbox, sizeof(mbox), "%s/adir", f->dir);
    assert_int_equal(mkdir(mbox, 0700), 0);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 0);
    snprintf(mbox, sizeof(mbox), "%s/fifo", f->dir);
    assert_int_equal(mkfifo(mbox, 0600), 0);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 0);

    /* Missing and not to be created: temporary. */
    o.flags &= ~(unsigned)MAILBOX_CREATE;
    snprintf(mbox, sizeof(mbox), "%s/nobody", f->dir);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(is_temp, 1);
    assert_int_equal(access(mbox, F_OK), -1);

    text = slurp(target);
    assert_non_null(strstr(text, "From alice@example.org "));
    free(text);
    queue_file_close(qf);
}

static void test_mbox_size_limit(void **state)
{
    struct fixture *f = *state;
    struct queue_file *qf = make_qf(f, "a@b", "Subject: x\n\n",
                                    "a body line that makes the message long enough\n", NULL);
    struct mailbox_opts o = mbox_opts;
    char mbox[200], *text;
    struct stat st;
    int is_temp = -1;

    snprintf(mbox, sizeof(mbox), "%s/dave", f->dir);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), 0);
    assert_int_equal(stat(mbox, &st), 0);
    text = slurp(mbox);

    /* Room for less than one more message: refused, file as it was. */
    o.size_limit = (uint64_t)st.st_size + 50;
    buf_reset(&f->why);
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(is_temp, 0);
    assert_non_null(strstr(buf_str(&f->why), "size limit"));
    {
        char *now = slurp(mbox);

        assert_string_equal(now, text);
        free(now);
    }
    /* Fails after some of the message was written: truncated back. */
    {
        char *big = xmalloc(300001), *now;
        struct queue_file *bigqf;

        memset(big, 'b', 300000);
        for (int i = 99; i < 300000; i += 100)
            big[i] = '\n';
        big[300000] = 0;
        bigqf = make_qf(f, "a@b", "Subject: big\n\n", big, NULL);
        o.size_limit = (uint64_t)st.st_size + 200000;
        assert_int_equal(mbox_deliver(mbox, bigqf, &o, &is_temp, &f->why), -1);
        assert_int_equal(errno, EFBIG);
        now = slurp(mbox);
        assert_string_equal(now, text);
        free(now);
        free(big);
        queue_file_close(bigqf);
    }
    /* Already over the limit. */
    o.size_limit = 10;
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), -1);
    assert_int_equal(errno, EFBIG);
    /* Room enough. */
    o.size_limit = (uint64_t)st.st_size * 3;
    assert_int_equal(mbox_deliver(mbox, qf, &o, &is_temp, &f->why), 0);
    free(text);
    queue_file_close(qf);
}

/* In a child, as a plain user: deliver with these lock flags; 0 or 1+is_temp. */
static int deliver_as_user(struct fixture *f, const char *mbox, unsigned flags)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        struct queue_file *qf = make_qf(f, "a@b", "Subject: x\n\nx\n", NULL);
        struct mailbox_opts o = mbox_opts;
        int is_temp = -1;

        if (geteuid() == 0 && eugid_drop_forever(4242, 4242) < 0)
            _exit(9);
        o.flags = flags;
        if (mbox_deliver(mbox, qf, &o, &is_temp, &f->why) == 0)
            _exit(0);
        _exit(1 + is_temp);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* No permission for PATH.lock: deferred, unless the dot-lock may fail. */
static void test_mbox_dotlock_may_fail(void **state)
{
    struct fixture *f = *state;
    char dir[128], mbox[160];
    int fd;

    snprintf(dir, sizeof(dir), "%s/ro", f->dir);
    snprintf(mbox, sizeof(mbox), "%s/eve", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    fd = open(mbox, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    if (geteuid() == 0) {
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(chown(mbox, 4242, 4242), 0);
        assert_int_equal(chown(dir, 4242, 4242), 0);
    }
    assert_int_equal(chmod(dir, 0555), 0);
    assert_int_equal(deliver_as_user(f, mbox, MAILBOX_LOCK_DOTLOCK | MAILBOX_LOCK_FCNTL), 2);
    assert_int_equal(deliver_as_user(f, mbox, MAILBOX_LOCK_DOTLOCK | MAILBOX_LOCK_FCNTL
                                     | MAILBOX_DOTLOCK_MAY_FAIL), 0);
    assert_int_equal(chmod(dir, 0755), 0);
}

/* Scan text in pieces of step bytes. */
static int scan_text(const char *text, const char *addr, size_t step)
{
    struct delivered_to_scan s;
    size_t len = strlen(text);

    delivered_to_init(&s, addr);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;

        if (delivered_to_feed(&s, text + i, n) != 0)
            break;
    }
    return delivered_to_finish(&s);
}

static void test_delivered_to_scan(void **state)
{
    static const struct {
        const char *text;
        int found;
    } cases[] = {
        {"Delivered-To: bob@example.test\n\nbody\n", 1},
        {"Subject: x\nDELIVERED-TO: BOB@Example.TEST\n\n", 1},
        {"delivered-to:bob@example.test\n", 1},
        {"Delivered-To :  <bob@example.test>  \n\n", 1},
        {"Delivered-To:\n\tbob@example.test\nSubject: x\n\n", 1},
        {"Received: from x\n by y\nDelivered-To:\n  bob@example.test", 1},
        {"Delivered-To: bob@example.test\r\n\r\n", 1},
        {"Delivered-To: alice@example.test\n\n", 0},
        {"Delivered-To: bob@example.test.evil\n\n", 0},
        {"X-Delivered-To: bob@example.test\n\n", 0},
        {"Delivered-To: bob@\n example.test\n", 0},     /* folding keeps the space */
        {"Subject: x\n\nDelivered-To: bob@example.test\n", 0},
        {"not a header line\nDelivered-To: bob@example.test\n", 0},
        {" continuation first\nDelivered-To: bob@example.test\n", 0},
        {"", 0},
        {"\n", 0},
        {"Delivered-To", 0},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (size_t step = 1; step <= 64; step *= 4) {
            if (scan_text(cases[c].text, "bob@example.test", step) != cases[c].found)
                fail_msg("case %zu step %zu: want %d", c, step, cases[c].found);
        }
    }
}

static void test_delivered_to_bounds(void **state)
{
    struct buf text = BUF_INIT;

    (void)state;
    /* A huge field before ours: skipped, ours still found. */
    buf_puts(&text, "X-Long: ");
    for (int i = 0; i < 3 * DELIVERED_TO_MAX_FIELD; i++)
        buf_putc(&text, 'a');
    buf_puts(&text, "\n\tmore\nDelivered-To: bob@example.test\n\n");
    assert_int_equal(scan_text(buf_str(&text), "bob@example.test", 1000), 1);
    /* A huge Delivered-To cannot match. */
    buf_reset(&text);
    buf_puts(&text, "Delivered-To: bob@example.test");
    for (int i = 0; i < 2 * DELIVERED_TO_MAX_FIELD; i++)
        buf_putc(&text, ' ');
    buf_puts(&text, "x\n\n");
    assert_int_equal(scan_text(buf_str(&text), "bob@example.test", 333), 0);
    buf_free(&text);
}

static void test_has_delivered_to(void **state)
{
    struct fixture *f = *state;
    struct queue_file *yes = make_qf(f, "a@b", "Received: x\nDelivered-",
                                     "To: Bob@Example.Test\nSubject: loop\n\nbody\n", NULL);
    struct queue_file *no = make_qf(f, "a@b", "Subject: no\n\n",
                                    "Delivered-To: bob@example.test\n", NULL);

    assert_int_equal(mail_has_delivered_to(yes, "bob@example.test", &f->why), 1);
    assert_int_equal(mail_has_delivered_to(yes, "carol@example.test", &f->why), 0);
    assert_int_equal(mail_has_delivered_to(no, "bob@example.test", &f->why), 0);
    queue_file_close(yes);
    queue_file_close(no);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_maildir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maildir_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mbox_stale_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mbox_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mbox_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mbox_dotlock_may_fail, setup, teardown),
        cmocka_unit_test(test_delivered_to_scan),
        cmocka_unit_test(test_delivered_to_bounds),
        cmocka_unit_test_setup_teardown(test_has_delivered_to, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
