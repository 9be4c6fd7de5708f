/*
 * postalias - build and query alias databases, as Postfix's postalias(1);
 * run as "newaliases" (a link to this program), it rebuilds every table
 * named in alias_database.
 *
 *   postalias [-c DIR] [-f] [-N|-n] [-o] [-p] [-r|-w] [-v] [type:]file ...
 *   postalias [-c DIR] [-f] [-v] -q KEY|- type:name ...
 *   postalias [-c DIR] [-f] [-v] -s type:name ...
 *   newaliases [-c DIR] [-v]
 *
 * Build: each aliases(5) source file (see alias_source.h) is compiled into
 * a new table (dict_open with DICT_FLAG_CREATE, lmdb unless the name has
 * another type) that replaces the old one atomically; a source with
 * errors names every bad file and line and leaves the old table in place
 * (exit 1). The value is stored as written, white space normalised. Like
 * Postfix, the table also gets the entry "@" = "@" (sendmail
 * compatibility: it tells sendmail-style readers that the database is
 * complete), unless the source has an "@" entry of its own. A duplicate
 * name keeps the first value with a warning ("FILE, line N: duplicate
 * entry: "name""); -r keeps the last, -w keeps the first silently. Names
 * are folded to lower case unless -f. Unless -p, the table gets no more
 * permissions than its source file.
 *
 * -q KEY looks KEY up in each table in turn and prints the first value:
 * exit 0 found, 1 not found, 2 (with a message) when a table cannot answer
 * or cannot be opened. -q - reads keys from standard input and prints
 * "key:<TAB>value" for each one found (exit 0 if any was). -s prints every
 * entry as "key:<TAB>value", except the "@" sentinel.
 *
 * -N, -n (NUL terminators) and -o (keep root privileges) are accepted for
 * compatibility and change nothing, as in postmap.
 *
 * The configuration directory is -c, else $MAIL_CONFIG, else
 * /etc/postern; without a main.cf there the compiled-in defaults apply
 * (newaliases needs a main.cf only for a non-default alias_database).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias_source.h"
#include "buf.h"
#include "confdir.h"
#include "dict.h"
#include "log.h"
#include "mail_tool.h"
#include "table_query.h"
#include "maincf.h"
#include "mem.h"

#define SENTINEL        "@"                 /* the "@" = "@" entry */

static int newaliases_mode;

static _Noreturn void usage(void)
{
    if (newaliases_mode)
        msg_fatal("usage: newaliases [-c config_dir] [-v]");
    msg_fatal("usage: postalias [-c config_dir] [-f] [-N|-n] [-o] [-p] [-r|-w] [-v]"
              " [-q key | -s] [type:]file ...");
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
    int has_sentinel;
    struct buf why;
};

static int build_entry(const char *key, const char *value, int line, void *arg)
{
    struct build *b = arg;
    int rc;

    if (strcmp(key, SENTINEL) == 0)
        b->has_sentinel = 1;
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

/* Compile one aliases file into its table; fatal (exit 1) on errors. */
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
    errors = alias_source_read(b.source, 0, build_entry, &b, &err) + b.errors;
    if (errors == 0 && !b.has_sentinel) {
        buf_reset(&b.why);
        if (dict_update(b.dict, SENTINEL, SENTINEL, &b.why) < 0) {
            (void)buf_printf(&err, "%s: %s\n", spec, buf_str(&b.why));
            errors++;
        }
    }
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

/* ----------------------------------------------------------------- dump */

static int print_entry(const char *key, const char *value, void *arg)
{
    (void)arg;
    if (strcmp(key, SENTINEL) == 0 && strcmp(value, SENTINEL) == 0)
        return 0;
    printf("%s:\t%s\n", key, value);
    return ferror(stdout) ? 1 : 0;
}

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

/* ----------------------------------------------------------------- main */

/* newaliases: rebuild every table in alias_database. */
static int newaliases(const char *opt_dir)
{
    struct config *cfg = tool_load_config(confdir_resolve(opt_dir));
    char *const *tables = config_list(cfg, "alias_database");

    for (char *const *p = tables; *p; p++)
        build_table(*p, DICT_FLAG_FOLD, 0, cfg);
    config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    const char *opt_dir = NULL, *query_key = NULL, *base;
    int flags = DICT_FLAG_FOLD, keep_perms = 0, dump_mode = 0;
    int ch, status = 0;
    struct config *cfg;

    base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    newaliases_mode = strcmp(base, "newaliases") == 0;
    log_init(newaliases_mode ? "newaliases" : "postalias");
    if (newaliases_mode) {
        while ((ch = getopt(argc, argv, "c:v")) != -1) {
            switch (ch) {
            case 'c': opt_dir = optarg; break;
            case 'v': log_set_verbose(msg_verbose + 1); break;
            default: usage();
            }
        }
        if (optind != argc)
            usage();
        status = newaliases(opt_dir);
        if (fflush(stdout) != 0 || ferror(stdout))
            msg_fatal("write error on standard output: %s", strerror(errno));
        return status;
    }
    while ((ch = getopt(argc, argv, "c:fNnopq:rsvw")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'f': flags &= ~DICT_FLAG_FOLD; break;
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
    if (optind == argc || (query_key && dump_mode))
        usage();
    if (query_key || dump_mode)
        log_set_fatal_hook(exit_two);
    cfg = tool_load_config(confdir_resolve(opt_dir));
    if (query_key) {
        status = table_query(query_key, argv + optind, argc - optind, flags, cfg, ":\t");
    } else if (dump_mode) {
        status = dump(argv + optind, argc - optind, flags, cfg);
    } else {
        for (int i = optind; i < argc; i++)
            build_table(argv[i], flags, keep_perms, cfg);
    }
    config_free(cfg);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %s", strerror(errno));
    return status;
}
