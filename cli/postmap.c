/*
 * postmap - build and query lookup tables, as Postfix's postmap(1).
 *
 *   postmap [-c DIR] [-f] [-N|-n] [-o] [-p] [-r|-w] [-v] [type:]file ...
 *   postmap [-c DIR] [-f] [-v] -q KEY|- type:name ...
 *   postmap [-c DIR] [-f] [-v] -s type:name ...
 *   postmap [-c DIR] [-f] [-v] -d KEY|- type:name ...
 *   postmap [-c DIR] [-f] [-r|-w] [-v] -i type:name ...
 *
 * Build: each source file ("key value" lines, see table_source.h) is
 * compiled into a new table that replaces the old one atomically; a
 * source with errors names every bad file and line and leaves the old
 * table in place (exit 1). A duplicate key keeps the first value with a
 * warning ("FILE, line N: duplicate entry: "key""); -r keeps the last,
 * -w keeps the first silently. Keys are folded to lower case unless -f.
 * Unless -p, the table gets no more permissions than its source file
 * (umask 022 plus what the source denies to group and others).
 *
 * -q KEY looks KEY up in each table in turn and prints the first value
 * found: exit 0 found, 1 not found, 2 (with a message) when a table
 * cannot answer or cannot be opened. -q - reads one key per line from
 * standard input and prints "key<TAB>value" for each found (exit 0 if
 * any was found). -s prints every entry as "key<TAB>value". -d KEY (or
 * -d - for keys from standard input) removes entries: exit 0 if any was
 * removed, 1 if none, 2 on error. -i adds "key value" lines from
 * standard input to existing tables (created if missing).
 *
 * -N and -n (NUL terminators in keys and values) and -o (keep root
 * privileges) are accepted for compatibility and change nothing: tables
 * store keys and values without NUL, and postmap never changes its
 * privileges.
 *
 * The configuration directory is -c, else $MAIL_CONFIG, else
 * /etc/postern; without a main.cf there, the compiled-in defaults apply,
 * so postmap works on a machine where postern is not configured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "confdir.h"
#include "dict.h"
#include "log.h"
#include "mail_tool.h"
#include "table_query.h"
#include "maincf.h"
#include "mem.h"
#include "table_source.h"

#define MAX_STDIN       (1024UL * 1024UL * 1024UL)  /* -i input */

static _Noreturn void usage(void)
{
    msg_fatal("usage: postmap [-c config_dir] [-f] [-N|-n] [-o] [-p] [-r|-w] [-v]"
              " [-i | -q key | -d key | -s] [type:]file ...");
}

/* A fatal error in a query mode exits 2, not 1 (1 means "not found"). */
static void exit_two(void)
{
    (void)fflush(stdout);
    exit(2);
}

/* The name part of "type:name" (as dict_open() splits it). */
static const char *spec_name(const char *spec)
{
    const char *colon = strchr(spec, ':');

    if (colon && colon > spec && strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789_")
                                 == (size_t)(colon - spec))
        return colon + 1;
    return spec;
}

/* ---------------------------------------------------------------- build */

struct build {
    struct dict *dict;
    const char *source;
    struct buf *err;
    int errors;
    int dup_warn;
    struct buf why;
};

/* table_source callback: add one entry. */
static int build_entry(const char *key, const char *value, int line, void *arg)
{
    struct build *b = arg;
    int rc;

    buf_reset(&b->why);
    rc = dict_update(b->dict, key, value, &b->why);
    if (rc == 1 && b->dup_warn) {
        msg_warn("%s, line %d: duplicate entry: \"%s\"", b->source, line, key);
    } else if (rc < 0) {
        b->errors++;
        (void)buf_printf(b->err, "%s, line %d: %s\n", b->source, line, buf_str(&b->why));
    }
    return 0;
}

/* Compile one source file into its table. */
static void build_table(const char *spec, int flags, int keep_perms, const struct config *cfg)
{
    struct buf err = BUF_INIT, why = BUF_INIT;
    struct build b;
    struct stat st;
    mode_t saved = 0;
    int errors;

    memset(&b, 0, sizeof(b));
    b.source = spec_name(spec);
    if (stat(b.source, &st) < 0)
        msg_fatal("open %s: %s", b.source, strerror(errno));
    if (!keep_perms)
        saved = umask(022 | (~st.st_mode & 077));
    b.dict = table_open_or_die(spec, flags | DICT_FLAG_CREATE, cfg);
    if (!keep_perms)
        (void)umask(saved);
    b.err = &err;
    b.dup_warn = !(flags & (DICT_FLAG_DUP_REPLACE | DICT_FLAG_DUP_IGNORE));
    buf_init(&b.why, 0);
    errors = table_source_read(b.source, 0, build_entry, &b, &err) + b.errors;
    buf_free(&b.why);
    if (errors > 0) {
        dict_close(b.dict);             /* discards the new table */
        tool_error_lines(&err);
        msg_fatal("%s: %d error%s; %s not changed", b.source, errors,
                  errors == 1 ? "" : "s", spec);
    }
    if (dict_commit(b.dict, &why) < 0) {
        dict_close(b.dict);
        msg_fatal("%s", buf_str(&why));
    }
    dict_close(b.dict);
    buf_free(&err);
    buf_free(&why);
}

/* ---------------------------------------------------------------- query */

/* ----------------------------------------------------------------- dump */

static int print_entry(const char *key, const char *value, void *arg)
{
    printf("%s\t%s\n", key, value);
    return ferror(stdout) ? 1 : 0;
}

/* postmap -s: 0, or 2 on error. */
static int dump(char **specs, int count, int flags, const struct config *cfg)
{
    struct buf why = BUF_INIT;
    int status = 0;

    for (int i = 0; i < count; i++) {
        struct dict *d = table_open_or_die(specs[i], flags, cfg);

        buf_reset(&why);
        if (dict_iterate(d, print_entry, NULL, &why) < 0) {
            msg_warn("%s", buf_str(&why));
            status = 2;
        }
        dict_close(d);
    }
    buf_free(&why);
    return status;
}

/* --------------------------------------------------------------- delete */

/* Remove key from every table; counts removals and failures. */
static void delete_one(struct dict **tables, int count, const char *key, int *found,
                       int *failed)
{
    struct buf why = BUF_INIT;

    for (int i = 0; i < count; i++) {
        buf_reset(&why);
        switch (dict_remove(tables[i], key, &why)) {
        case DICT_FOUND: *found = 1; break;
        case DICT_NOTFOUND: break;
        default:
            msg_warn("%s: delete \"%s\": %s", tables[i]->spec, key, buf_str(&why));
            *failed = 1;
        }
    }
    buf_free(&why);
}

/* postmap -d: exit 0 removed, 1 not found, 2 error. */
static int delete(const char *key, char **specs, int count, int flags,
                  const struct config *cfg)
{
    struct dict **tables = xcalloc((size_t)count, sizeof(*tables));
    struct buf line, why = BUF_INIT;
    int found = 0, failed = 0, r;

    for (int i = 0; i < count; i++)
        tables[i] = table_open_or_die(specs[i], flags | DICT_FLAG_WRITE, cfg);
    if (strcmp(key, "-") != 0) {
        delete_one(tables, count, key, &found, &failed);
    } else {
        buf_init(&line, TABLE_MAX_KEY_LINE);
        while ((r = table_read_key_line(&line)) != 0)
            if (r > 0 && line.len > 0)
                delete_one(tables, count, buf_str(&line), &found, &failed);
        buf_free(&line);
    }
    for (int i = 0; i < count; i++) {
        buf_reset(&why);
        if (!failed && dict_commit(tables[i], &why) < 0) {
            msg_warn("%s", buf_str(&why));
            failed = 1;
        }
        dict_close(tables[i]);
    }
    free(tables);
    buf_free(&why);
    return failed ? 2 : found ? 0 : 1;
}

/* ---------------------------------------------------------------- -i */

struct incr {
    struct dict **tables;
    int count;
    int dup_warn;
    int errors;
    struct buf *err;
};

static int incr_entry(const char *key, const char *value, int line, void *arg)
{
    struct incr *in = arg;
    struct buf why = BUF_INIT;

    for (int i = 0; i < in->count; i++) {
        buf_reset(&why);
        switch (dict_update(in->tables[i], key, value, &why)) {
        case 0:
            break;
        case 1:
            if (in->dup_warn)
                msg_warn("%s, line %d: duplicate entry: \"%s\"", "stdin", line, key);
            break;
        default:
            in->errors++;
            (void)buf_printf(in->err, "stdin, line %d: %s\n", line, buf_str(&why));
        }
    }
    buf_free(&why);
    return 0;
}

/* postmap -i: add "key value" lines from standard input. */
static void incremental(char **specs, int count, int flags, const struct config *cfg)
{
    struct buf text, err = BUF_INIT, why = BUF_INIT;
    struct incr in;
    char chunk[65536];
    size_t n;
    int errors;

    memset(&in, 0, sizeof(in));
    in.tables = xcalloc((size_t)count, sizeof(*in.tables));
    in.count = count;
    in.err = &err;
    in.dup_warn = !(flags & (DICT_FLAG_DUP_REPLACE | DICT_FLAG_DUP_IGNORE));
    buf_init(&text, MAX_STDIN);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (buf_append(&text, chunk, n) < 0)
            msg_fatal("standard input: more than %lu bytes", MAX_STDIN);
    if (ferror(stdin))
        msg_fatal("read standard input: %s", strerror(errno));
    for (int i = 0; i < count; i++)
        in.tables[i] = table_open_or_die(specs[i], flags | DICT_FLAG_WRITE, cfg);
    errors = table_source_parse("stdin", text.data ? text.data : "", text.len, incr_entry,
                                &in, &err) + in.errors;
    if (errors > 0) {
        for (int i = 0; i < count; i++)
            dict_close(in.tables[i]);   /* discards the changes */
        tool_error_lines(&err);
        msg_fatal("stdin: %d error%s; no table changed", errors, errors == 1 ? "" : "s");
    }
    for (int i = 0; i < count; i++) {
        buf_reset(&why);
        if (dict_commit(in.tables[i], &why) < 0)
            msg_fatal("%s", buf_str(&why));
        dict_close(in.tables[i]);
    }
    free(in.tables);
    buf_free(&text);
    buf_free(&err);
    buf_free(&why);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    const char *opt_dir = NULL, *query_key = NULL, *delete_key = NULL;
    int flags = DICT_FLAG_FOLD, keep_perms = 0, dump_mode = 0, incr_mode = 0;
    int ch, status = 0, modes;
    struct config *cfg;

    log_init("postmap");
    while ((ch = getopt(argc, argv, "c:d:fiNnopq:rsvw")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'd': delete_key = optarg; break;
        case 'f': flags &= ~DICT_FLAG_FOLD; break;
        case 'i': incr_mode = 1; break;
        case 'N': case 'n': case 'o': break;
        case 'p': keep_perms = 1; break;
        case 'q': query_key = optarg; break;
        case 'r': flags = (flags & ~DICT_FLAG_DUP_IGNORE) | DICT_FLAG_DUP_REPLACE; break;
        case 's': dump_mode = 1; break;
        case 'v': log_set_verbose(msg_verbose + 1); break;
        case 'w': flags = (flags & ~DICT_FLAG_DUP_REPLACE) | DICT_FLAG_DUP_IGNORE; break;
        default: usage();
        }
    }
    modes = (query_key != NULL) + (delete_key != NULL) + dump_mode + incr_mode;
    if (modes > 1)
        msg_fatal("specify only one of -d, -i, -q or -s");
    if (optind >= argc)
        usage();
    if (!(flags & (DICT_FLAG_DUP_REPLACE | DICT_FLAG_DUP_IGNORE)))
        flags |= DICT_FLAG_DUP_WARN;
    cfg = tool_load_config(confdir_resolve(opt_dir));
    argv += optind;
    argc -= optind;
    if (query_key || delete_key || dump_mode)
        log_set_fatal_hook(exit_two);
    if (query_key)
        status = table_query(query_key, argv, argc, flags, cfg, "\t");
    else if (delete_key)
        status = delete(delete_key, argv, argc, flags, cfg);
    else if (dump_mode)
        status = dump(argv, argc, flags, cfg);
    else if (incr_mode)
        incremental(argv, argc, flags, cfg);
    else
        for (int i = 0; i < argc; i++)
            build_table(argv[i], flags, keep_perms, cfg);
    config_free(cfg);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %s", strerror(errno));
    return status;
}
