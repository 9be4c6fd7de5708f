/*
 * test_safe_file - unit tests for lib/safe_file in a private mkdtemp()
 * directory: symlinks, hard links, directories and FIFOs refused, O_EXCL
 * creation, read_file limits, and atomic_replace_file keeping the old
 * content when the new one cannot be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "safe_file.h"

/* The per-test temporary directory and a scratch path buffer. */
struct fixture {
    char dir[64];
    struct buf path;
};

/* dir/name in f->path. */
static const char *path_of(struct fixture *f, const char *name)
{
    buf_reset(&f->path);
    buf_printf(&f->path, "%s/%s", f->dir, name);
    return buf_str(&f->path);
}

/* Create a file holding text (plain stdio, no library code). */
static void make_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* The content of a file as a malloc()ed string. */
static char *slurp(const char *path)
{
    struct buf b;

    buf_init(&b, 0);
    if (read_file(path, 1 << 20, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_safe_file.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    buf_init(&f->path, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct buf cmd;

    buf_init(&cmd, 0);
    buf_printf(&cmd, "rm -rf '%s'", f->dir);
    if (system(buf_str(&cmd)) != 0)
        return -1;
    buf_free(&cmd);
    buf_free(&f->path);
    free(f);
    return 0;
}

static void test_create_excl(void **state)
{
    struct fixture *f = *state;
    const char *p = path_of(f, "new");
    struct stat st;
    int fd;

    fd = safe_create(p, O_WRONLY, 0640);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, "hello", 5), 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 5);
    errno = 0;
    assert_int_equal(safe_create(p, O_WRONLY, 0640), -1);
    assert_int_equal(errno, EEXIST);
}

static void test_create_refuses_symlink(void **state)
{
    struct fixture *f = *state;
    struct buf target;

    buf_init(&target, 0);
    buf_printf(&target, "%s/target", f->dir);
    assert_int_equal(symlink(buf_str(&target), path_of(f, "link")), 0);
    errno = 0;
    assert_int_equal(safe_create(path_of(f, "link"), O_WRONLY, 0600), -1);
    assert_int_equal(errno, EEXIST);           /* dangling link: not followed */
    assert_int_equal(access(buf_str(&target), F_OK), -1);
    buf_free(&target);
}

static void test_open_existing(void **state)
{
    struct fixture *f = *state;
    char got[16];
    int fd;

    make_file(path_of(f, "plain"), "content");
    fd = safe_open_existing(path_of(f, "plain"), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read_all(fd, got, sizeof(got)), 7);
    assert_memory_equal(got, "content", 7);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);   /* restored */
    close(fd);
    /* O_TRUNC works on a good file */
    fd = safe_open_existing(path_of(f, "plain"), O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    make_file(path_of(f, "plain2"), "x");
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "missing"), O_RDONLY), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_open_refuses_symlink(void **state)
{
    struct fixture *f = *state;
    struct buf target;
    char *content;

    buf_init(&target, 0);
    buf_printf(&target, "%s/real", f->dir);
    make_file(buf_str(&target), "secret");
    assert_int_equal(symlink(buf_str(&target), path_of(f, "sym")), 0);
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "sym"), O_RDWR | O_TRUNC), -1);
    assert_int_equal(errno, ELOOP);
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "sym"), O_RDONLY), -1);
    assert_int_equal(errno, ELOOP);
    assert_null(slurp(path_of(f, "sym")));
    assert_int_equal(errno, ELOOP);
    content = slurp(buf_str(&target));
    assert_string_equal(content, "secret");      /* O_TRUNC never reached it */
    free(content);
    buf_free(&target);
}

static void test_open_refuses_hard_link(void **state)
{
    struct fixture *f = *state;
    struct buf other;
    char *content;

    buf_init(&other, 0);
    buf_printf(&other, "%s/one", f->dir);
    make_file(buf_str(&other), "linked");
    assert_int_equal(link(buf_str(&other), path_of(f, "two")), 0);
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "two"), O_WRONLY | O_TRUNC), -1);
    assert_int_equal(errno, EMLINK);
    content = slurp(buf_str(&other));
    assert_string_equal(content, "linked");      /* not truncated */
    free(content);
    buf_free(&other);
}

static void test_open_refuses_non_regular(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(mkdir(path_of(f, "subdir"), 0700), 0);
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "subdir"), O_RDONLY), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(safe_open_existing(path_of(f, "subdir"), O_WRONLY), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mkfifo(path_of(f, "fifo"), 0600), 0);
    errno = 0;                                   /* must not block */
    assert_int_equal(safe_open_existing(path_of(f, "fifo"), O_RDONLY), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(slurp(path_of(f, "subdir")));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(safe_open_existing("/dev/null", O_RDONLY), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_read_file_limit(void **state)
{
    struct fixture *f = *state;
    struct buf b;

    buf_init(&b, 0);
    make_file(path_of(f, "ten"), "0123456789");
    assert_int_equal(read_file(path_of(f, "ten"), 10, &b), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_str(&b), "0123456789");
    assert_int_equal(read_file(path_of(f, "ten"), 100, &b), 0);   /* replaces */
    assert_int_equal(b.len, 10);
    errno = 0;
    assert_int_equal(read_file(path_of(f, "ten"), 9, &b), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(b.len, 0);
    make_file(path_of(f, "empty"), "");
    assert_int_equal(read_file(path_of(f, "empty"), 0, &b), 0);
    assert_int_equal(b.len, 0);
    /* the buffer's own limit counts as well */
    buf_free(&b);
    buf_init(&b, 5);
    errno = 0;
    assert_int_equal(read_file(path_of(f, "ten"), 100, &b), -1);
    assert_int_equal(errno, EFBIG);
    buf_free(&b);
}

static void test_read_write_all(void **state)
{
    int pv[2];
    char got[8];

    assert_int_equal(pipe(pv), 0);
    assert_int_equal(write_all(pv[1], "abc", 3), 0);
    assert_int_equal(write_all(pv[1], "", 0), 0);
    close(pv[1]);
    assert_int_equal(read_all(pv[0], got, sizeof(got)), 3);    /* short at EOF */
    assert_int_equal(read_all(pv[0], got, sizeof(got)), 0);
    close(pv[0]);
    assert_int_equal(write_all(-1, "x", 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(read_all(-1, got, 1), -1);
}

static void test_fsync_and_commit(void **state)
{
    struct fixture *f = *state;
    struct buf tmp;
    char *content;
    int fd;

    assert_int_equal(fsync_parent_dir(path_of(f, "anything")), 0);
    assert_int_equal(fsync_parent_dir("/tmp"), 0);
    assert_int_equal(fsync_parent_dir("relative"), 0);
    assert_int_equal(fsync_parent_dir(path_of(f, "no/such/dir/x")), -1);
    buf_init(&tmp, 0);
    buf_printf(&tmp, "%s/commit.tmp", f->dir);
    fd = safe_create(buf_str(&tmp), O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, "committed", 9), 0);
    assert_int_equal(commit_rename(fd, buf_str(&tmp), path_of(f, "committed")), 0);
    close(fd);
    assert_int_equal(access(buf_str(&tmp), F_OK), -1);
    content = slurp(path_of(f, "committed"));
    assert_string_equal(content, "committed");
    free(content);
    buf_free(&tmp);
}

static void test_atomic_replace(void **state)
{
    struct fixture *f = *state;
    struct buf err;
    struct stat st;
    char *content;

    buf_init(&err, 0);
    assert_int_equal(atomic_replace_file(path_of(f, "conf"), "v1\n", 3, 0644, &err), 0);
    assert_int_equal(atomic_replace_file(path_of(f, "conf"), "v2\n", 3, 0600, &err), 0);
    content = slurp(path_of(f, "conf"));
    assert_string_equal(content, "v2\n");
    free(content);
    assert_int_equal(stat(path_of(f, "conf"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(err.len, 0);
    buf_free(&err);
}

/* The parent of the target is a regular file: nothing can be written. */
static void test_atomic_replace_bad_parent(void **state)
{
    struct fixture *f = *state;
    struct buf err, target;

    buf_init(&err, 0);
    buf_init(&target, 0);
    make_file(path_of(f, "notadir"), "keep");
    buf_printf(&target, "%s/notadir/conf", f->dir);
    assert_int_equal(atomic_replace_file(buf_str(&target), "new", 3, 0644, &err), -1);
    assert_non_null(strstr(buf_str(&err), "notadir/conf.tmp."));
    assert_non_null(strstr(buf_str(&err), strerror(ENOTDIR)));
    buf_free(&target);
    buf_free(&err);
}

/* The target is a directory: the rename fails and the tmp file goes away. */
static void test_atomic_replace_rename_fails(void **state)
{
    struct fixture *f = *state;
    struct buf err, tmp;

    buf_init(&err, 0);
    buf_init(&tmp, 0);
    assert_int_equal(mkdir(path_of(f, "isdir"), 0700), 0);
    make_file(path_of(f, "isdir/inside"), "x");
    assert_int_equal(atomic_replace_file(path_of(f, "isdir"), "new", 3, 0644, &err), -1);
    assert_true(err.len > 0);
    buf_printf(&tmp, "%s/isdir.tmp.%ld", f->dir, (long)getpid());
    assert_int_equal(access(buf_str(&tmp), F_OK), -1);
    assert_int_equal(access(path_of(f, "isdir/inside"), F_OK), 0);
    buf_free(&tmp);
    buf_free(&err);
}

/*
 * The write itself fails (RLIMIT_FSIZE in a child; root ignores file
 * modes): the old content stays and no temporary file is left.
 */
static void test_atomic_replace_write_fails(void **state)
{
    struct fixture *f = *state;
    char *content, big[4096];
    int status;
    pid_t pid;

    make_file(path_of(f, "keep"), "old content\n");
    memset(big, 'n', sizeof(big));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = { 100, 100 };
        struct buf err;

        buf_init(&err, 0);
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(2);
        if (atomic_replace_file(path_of(f, "keep"), big, sizeof(big), 0644, &err) == 0)
            _exit(3);
        _exit(strstr(buf_str(&err), "write ") ? 0 : 4);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    content = slurp(path_of(f, "keep"));
    assert_string_equal(content, "old content\n");
    free(content);
    buf_reset(&f->path);
    buf_printf(&f->path, "%s/keep.tmp.%ld", f->dir, (long)pid);
    assert_int_equal(access(buf_str(&f->path), F_OK), -1);
}

/* A stale temporary file (or a symlink planted there) is replaced, not followed. */
static void test_atomic_replace_stale_tmp(void **state)
{
    struct fixture *f = *state;
    struct buf err, tmp, victim;
    char *content;

    buf_init(&err, 0);
    buf_init(&tmp, 0);
    buf_init(&victim, 0);
    buf_printf(&victim, "%s/victim", f->dir);
    make_file(buf_str(&victim), "untouched");
    buf_printf(&tmp, "%s/target.tmp.%ld", f->dir, (long)getpid());
    assert_int_equal(symlink(buf_str(&victim), buf_str(&tmp)), 0);
    assert_int_equal(atomic_replace_file(path_of(f, "target"), "fresh", 5, 0644, &err), 0);
    content = slurp(buf_str(&victim));
    assert_string_equal(content, "untouched");
    free(content);
    content = slurp(path_of(f, "target"));
    assert_string_equal(content, "fresh");
    free(content);
    buf_free(&err);
    buf_free(&tmp);
    buf_free(&victim);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_excl),
        T(test_create_refuses_symlink),
        T(test_open_existing),
        T(test_open_refuses_symlink),
        T(test_open_refuses_hard_link),
        T(test_open_refuses_non_regular),
        T(test_read_file_limit),
        T(test_read_write_all),
        T(test_fsync_and_commit),
        T(test_atomic_replace),
        T(test_atomic_replace_bad_parent),
        T(test_atomic_replace_rename_fails),
        T(test_atomic_replace_write_fails),
        T(test_atomic_replace_stale_tmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
