/*
 * test_addr_lookup - the lookup order of aliases, virtual and access maps
 * (user+ext@domain, user@domain, user+ext, user, @domain), several tables,
 * delimiters, and a temporary failure that stops the search at once.
 * Uses a fake table that records the keys it was asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr_lookup.h"

struct fake {
    struct dict d;
    const char *const *keys;    /* key, value, key, value, ..., NULL */
    const char *tempfail_key;   /* this key gives DICT_TEMPFAIL */
    struct buf asked;           /* "key|key|..." */
};

static int fake_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    struct fake *f = (struct fake *)d;

    buf_printf(&f->asked, "%s|", key);
    if (f->tempfail_key && strcmp(key, f->tempfail_key) == 0) {
        buf_set(why, "server down");
        return DICT_TEMPFAIL;
    }
    for (const char *const *k = f->keys; k && *k; k += 2) {
        if (strcmp(*k, key) == 0) {
            buf_set(value, k[1]);
            return DICT_FOUND;
        }
    }
    return DICT_NOTFOUND;
}

static const struct dict_ops fake_ops = {
    .type = "fake", .caps = 0, .lookup = fake_lookup,
};

static void fake_init(struct fake *f, const char *const *keys)
{
    memset(f, 0, sizeof(*f));
    f->d.ops = &fake_ops;
    f->d.spec = "fake:test";
    f->d.flags = DICT_FLAG_FOLD;
    f->keys = keys;
    buf_init(&f->asked, 0);
}

struct order_case {
    const char *address;
    const char *delims;
    int flags;
    const char *want_asked;
};

static void order_of_forms(void **state)
{
    static const struct order_case cases[] = {
        {"user+ext@example.com", "+", ADDR_LOOKUP_LOCALPART | ADDR_LOOKUP_DOMAIN,
         "user+ext@example.com|user@example.com|user+ext|user|@example.com|"},
        {"user@example.com", "+", ADDR_LOOKUP_LOCALPART | ADDR_LOOKUP_DOMAIN,
         "user@example.com|user|@example.com|"},
        {"user+ext@example.com", "+", ADDR_LOOKUP_DOMAIN,
         "user+ext@example.com|user@example.com|@example.com|"},
        {"user+ext@example.com", "", ADDR_LOOKUP_DOMAIN,
         "user+ext@example.com|@example.com|"},
        {"a-b+c@x.y", "+-", ADDR_LOOKUP_LOCALPART,
         "a-b+c@x.y|a@x.y|a-b+c|a|"},
        /* A delimiter at the start is part of the name, not an extension. */
        {"+ext@x.y", "+", ADDR_LOOKUP_LOCALPART, "+ext@x.y|+ext|"},
        {"owner-list", "-", ADDR_LOOKUP_LOCALPART | ADDR_LOOKUP_DOMAIN, "owner-list|owner|"},
        {"user@", "+", ADDR_LOOKUP_DOMAIN, "user@|"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake f;
        struct dict *t;
        struct buf value = BUF_INIT, why = BUF_INIT;

        fake_init(&f, NULL);
        t = &f.d;
        assert_int_equal(addr_lookup(&t, 1, cases[i].address, cases[i].delims,
                                     cases[i].flags, &value, NULL, &why), DICT_NOTFOUND);
        assert_string_equal(buf_str(&f.asked), cases[i].want_asked);
        buf_free(&f.asked);
        buf_free(&value);
        buf_free(&why);
    }
}

static void first_form_wins_across_tables(void **state)
{
    static const char *const t1_keys[] = {"@example.com", "catchall", NULL};
    static const char *const t2_keys[] = {"user@example.com", "exact", NULL};
    struct fake f1, f2;
    struct dict *tables[2];
    struct buf value = BUF_INIT, key = BUF_INIT, why = BUF_INIT;

    fake_init(&f1, t1_keys);
    fake_init(&f2, t2_keys);
    tables[0] = &f1.d;
    tables[1] = &f2.d;
    /* Every table is asked for a form before the next form is tried. */
    assert_int_equal(addr_lookup(tables, 2, "User+x@Example.COM", "+",
                                 ADDR_LOOKUP_DOMAIN, &value, &key, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "exact");
    assert_string_equal(buf_str(&key), "User@Example.COM");  /* as formed; each table folds */
    assert_string_equal(buf_str(&f1.asked), "user+x@example.com|user@example.com|");
    buf_free(&f1.asked);
    buf_free(&f2.asked);
    buf_free(&value);
    buf_free(&key);
    buf_free(&why);
}

static void tempfail_stops_the_search(void **state)
{
    static const char *const keys[] = {"@example.com", "catchall", NULL};
    struct fake f;
    struct dict *t = &f.d;
    struct buf value = BUF_INIT, why = BUF_INIT;

    fake_init(&f, keys);
    f.tempfail_key = "user@example.com";
    /* Never fall through to the catch-all while the exact answer is unknown. */
    assert_int_equal(addr_lookup(&t, 1, "user+ext@example.com", "+",
                                 ADDR_LOOKUP_LOCALPART | ADDR_LOOKUP_DOMAIN, &value,
                                 NULL, &why), DICT_TEMPFAIL);
    assert_string_equal(buf_str(&why), "server down");
    assert_string_equal(buf_str(&f.asked), "user+ext@example.com|user@example.com|");
    buf_free(&f.asked);
    buf_free(&value);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_of_forms),
        cmocka_unit_test(first_form_wins_across_tables),
        cmocka_unit_test(tempfail_stops_the_search),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
