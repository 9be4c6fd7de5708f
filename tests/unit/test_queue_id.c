/*
 * test_queue_id - unit tests for lib/queue_id: known encodings, the
 * validator, uniqueness over 100,000 IDs in one process and across two
 * forked processes, arrival order under strcmp(), the character set, and
 * hashed subdirectories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "queue_id.h"

#define MANY 100000

/* qsort comparator for an array of fixed-size ID strings. */
static int cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Fail if the sorted array of n IDs holds a duplicate. */
static void assert_no_duplicates(char (*ids)[QUEUE_ID_SIZE], size_t n)
{
    qsort(ids, n, QUEUE_ID_SIZE, cmp_ids);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("duplicate queue ID %s", ids[i]);
}

static void test_known_values(void **state)
{
    char id[QUEUE_ID_SIZE];
    struct timeval tv = { 0, 0 };
    uint64_t u;

    assert_int_equal(queue_id_format(id, &tv, 0), 0);
    assert_string_equal(id, "0000000000z0");
    tv.tv_sec = 52;
    tv.tv_usec = 53;
    assert_int_equal(queue_id_format(id, &tv, 51), 0);
    assert_string_equal(id, "0000100011z10");
    /* The largest time that fits, and the first that does not. */
    tv.tv_sec = 19770609663L;       /* 52^6 - 1 */
    tv.tv_usec = 999999;
    assert_int_equal(queue_id_format(id, &tv, UINT64_MAX), 0);
    assert_int_equal(strlen(id), QUEUE_ID_MAX_LEN);
    assert_int_equal(queue_id_parse(id, NULL, &u), 0);
    assert_true(u == UINT64_MAX);
    tv.tv_sec++;
    assert_int_equal(queue_id_format(id, &tv, 1), -1);
    tv.tv_sec = 1;
    tv.tv_usec = 1000000;
    assert_int_equal(queue_id_format(id, &tv, 1), -1);
    tv.tv_usec = -1;
    assert_int_equal(queue_id_format(id, &tv, 1), -1);
}

static void test_round_trip(void **state)
{
    char id[QUEUE_ID_SIZE];
    struct timeval tv, back;
    uint64_t u, uback;

    srand(42);
    for (int i = 0; i < 10000; i++) {
        tv.tv_sec = (time_t)(((uint64_t)rand() << 8) % 19770609664ULL);
        tv.tv_usec = rand() % 1000000;
        u = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 2) ^ (uint64_t)i;
        assert_int_equal(queue_id_format(id, &tv, u), 0);
        assert_true(queue_id_valid(id));
        assert_int_equal(queue_id_parse(id, &back, &uback), 0);
        assert_true(back.tv_sec == tv.tv_sec && back.tv_usec == tv.tv_usec);
        assert_true(uback == u);
    }
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "", "0000000000z", "0000000000y0", "000000000z0",
        "0000000A00z0",             /* vowel */
        "00000zzzzzz1",             /* microseconds >= 10^6 */
        "0000000000z00",            /* leading zero in the unique part */
        "0000000000z1z",            /* 'z' in the unique part */
        "0000000000z1234567890123", /* unique part too long */
        "0000000000z1/",
        "0000000000z1 ",
        "../000000000z1",
        "0000000000zzzzzzzzzzzzz",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (queue_id_valid(bad[i]))
            fail_msg("accepted %s", bad[i]);
    assert_true(queue_id_valid("0000000000z1"));
    /* 13 base-51 digits overflow 64 bits even without a 'z'. */
    assert_false(queue_id_valid("0000000000zyyyyyyyyyyyyy"));
    assert_false(queue_id_valid("0000000000zyyyyyyyyyyyy"));   /* 51^12-1 > 2^64 */
}

static void test_unique_in_process(void **state)
{
    char (*ids)[QUEUE_ID_SIZE] = malloc((size_t)MANY * QUEUE_ID_SIZE);

    assert_non_null(ids);
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(queue_id_new(ids[i], 7, NULL), 0);
        /* In creation order, every ID sorts after the one before. */
        if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
            fail_msg("%s not after %s", ids[i], ids[i - 1]);
    }
    assert_no_duplicates(ids, MANY);
    free(ids);
}

/* Child: write MANY IDs made with unique=getpid() to fd, then _exit. */
static void child_ids(int fd)
{
    char id[QUEUE_ID_SIZE];

    for (int i = 0; i < MANY; i++) {
        memset(id, 0, sizeof(id));
        if (queue_id_new(id, (uint64_t)getpid(), NULL) < 0
            || write(fd, id, sizeof(id)) != (ssize_t)sizeof(id))
            _exit(1);
    }
    _exit(0);
}

static void test_unique_across_processes(void **state)
{
    char (*ids)[QUEUE_ID_SIZE] = malloc((size_t)2 * MANY * QUEUE_ID_SIZE);
    char path[2][64];
    pid_t pid[2];
    int status;
    FILE *fp;

    assert_non_null(ids);
    for (int c = 0; c < 2; c++) {
        int fd;

        snprintf(path[c], sizeof(path[c]), "/tmp/test_queue_id.XXXXXX");
        assert_true((fd = mkstemp(path[c])) >= 0);
        assert_true((pid[c] = fork()) >= 0);
        if (pid[c] == 0)
            child_ids(fd);
        close(fd);
    }
    for (int c = 0; c < 2; c++) {
        assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_non_null(fp = fopen(path[c], "r"));
        assert_int_equal(fread(ids[c * MANY], QUEUE_ID_SIZE, MANY, fp), MANY);
        fclose(fp);
        unlink(path[c]);
    }
    assert_no_duplicates(ids, 2 * MANY);
    free(ids);
}

static void test_sort_order(void **state)
{
    char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];
    struct timeval ta, tb;

    srand(7);
    for (int i = 0; i < 100000; i++) {
        ta.tv_sec = rand() % 2000000000;
        ta.tv_usec = rand() % 1000000;
        tb = ta;
        switch (i % 3) {
        case 0:
            tb.tv_sec += rand() % 1000;
            break;
        case 1:
            tb.tv_usec = rand() % 1000000;
            break;
        default:
            tb.tv_sec = rand() % 2000000000;
            break;
        }
        /* Different unique parts (and lengths) must not upset the order. */
        assert_int_equal(queue_id_format(a, &ta, (uint64_t)rand() * 977), 0);
        assert_int_equal(queue_id_format(b, &tb, (uint64_t)rand()), 0);
        if (timercmp(&ta, &tb, <))
            assert_true(strcmp(a, b) < 0);
        else if (timercmp(&ta, &tb, >))
            assert_true(strcmp(a, b) > 0);
    }
}

static void test_charset(void **state)
{
    char id[QUEUE_ID_SIZE];

    for (int i = 0; i < 10000; i++) {
        assert_int_equal(queue_id_new(id, (uint64_t)i * 104729u, NULL), 0);
        assert_true(strlen(id) >= QUEUE_ID_MIN_LEN && strlen(id) <= QUEUE_ID_MAX_LEN);
        for (const char *p = id; *p; p++) {
            if (strchr("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz", *p) == NULL)
                fail_msg("bad character '%c' in %s", *p, id);
        }
        assert_int_equal(id[QUEUE_ID_TIME_DIGITS], 'z');
        assert_null(strchr(id + QUEUE_ID_TIME_DIGITS + 1, 'z'));
    }
}

static void test_hash_dir(void **state)
{
    char id[QUEUE_ID_SIZE];
    struct timeval tv = { 1700000000, 0x1A2B3 };
    struct buf b = BUF_INIT;

    assert_int_equal(queue_id_format(id, &tv, 12345), 0);
    assert_int_equal(queue_id_hash_dir(&b, id, 0), 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(queue_id_hash_dir(&b, id, 1), 0);
    assert_string_equal(buf_str(&b), "1/");
    buf_reset(&b);
    assert_int_equal(queue_id_hash_dir(&b, id, 2), 0);
    assert_string_equal(buf_str(&b), "1/A/");
    buf_reset(&b);
    assert_int_equal(queue_id_hash_dir(&b, id, 5), 0);
    assert_string_equal(buf_str(&b), "1/A/2/B/3/");
    buf_reset(&b);
    assert_int_equal(queue_id_hash_dir(&b, id, 6), -1);
    assert_int_equal(queue_id_hash_dir(&b, id, -1), -1);
    assert_int_equal(queue_id_hash_dir(&b, "nonsense", 1), -1);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(queue_id_path(&b, "incoming", id, 2), 0);
    assert_true(strncmp(buf_str(&b), "incoming/1/A/", 13) == 0);
    assert_string_equal(buf_str(&b) + 13, id);
    buf_reset(&b);
    assert_int_equal(queue_id_path(&b, "incoming", id, 0), 0);
    assert_true(strncmp(buf_str(&b), "incoming/", 9) == 0);
    assert_string_equal(buf_str(&b) + 9, id);
    /* Level digits are upper-case hex: 16 directories per level. */
    for (int usec = 0; usec < 1000000; usec += 4999) {
        tv.tv_usec = usec;
        assert_int_equal(queue_id_format(id, &tv, 1), 0);
        buf_reset(&b);
        assert_int_equal(queue_id_hash_dir(&b, id, 3), 0);
        for (int i = 0; i < 6; i += 2) {
            assert_non_null(strchr("0123456789ABCDEF", buf_str(&b)[i]));
            assert_int_equal(buf_str(&b)[i + 1], '/');
        }
    }
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_unique_in_process),
        cmocka_unit_test(test_unique_across_processes),
        cmocka_unit_test(test_sort_order),
        cmocka_unit_test(test_charset),
        cmocka_unit_test(test_hash_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
