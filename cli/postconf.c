/*
 * postconf - show and edit main.cf, show master.cf, list table types.
 *
 *   postconf [-c DIR] [-d | -n] [-h] [-x] [name ...]
 *   postconf [-c DIR] -e 'name = value' ...
 *   postconf [-c DIR] -X name ...
 *   postconf [-c DIR] -M [service[/type] ...]
 *   postconf -m
 *
 * Output follows Postfix's postconf: "name = value" lines sorted by name,
 * white space in values collapsed to single spaces. An unknown name on the
 * command line is a warning, as in Postfix (exit status 0).
 *
 * -e and -X edit main.cf in place the way Postfix does: a logical line
 * (with its continuation lines) whose name matches is replaced by
 * "name = value" or removed; comment lines, blank lines and everything
 * else keep their place; new names are appended in name order. The result
 * is parsed before it is written, and the edit is refused when it adds a
 * problem (unknown parameter, bad value, ...) that main.cf did not already
 * have; problems it already had do not block an edit, so a broken main.cf
 * can be repaired one setting at a time. The file is replaced atomically.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "confdir.h"
#include "log.h"
#include "maincf.h"
#include "mastercf.h"
#include "mem.h"
#include "param_table.h"
#include "safe_file.h"
#include "table_types.h"

#define SHOW_DEFS   0x1         /* -d: compiled-in defaults */
#define SHOW_NONDEF 0x2         /* -n: only settings from main.cf */
#define SHOW_VALUE  0x4         /* -h: value only */
#define SHOW_EVAL   0x8         /* -x: expand $name */

#define BLANKS " \t\r\v\f"

/* One -e or -X request. */
struct edit {
    char *name;
    char *value;                /* NULL for -X */
    int found;
};

/* Print usage and exit. */
static _Noreturn void usage(void)
{
    msg_fatal("usage: postconf [-c config_dir] [-d | -n] [-h] [-x] [name ...]"
              " | -e name=value ... | -X name ... | -M [service[/type] ...] | -m");
}

/* ----------------------------------------------------------------- show */

/* Print one value as Postfix does: words separated by single spaces. */
static void print_line(const char *name, const char *value)
{
    const char *p = value;
    size_t n;
    int first = 1;

    if (name)
        printf("%s =", name);
    for (;;) {
        p += strspn(p, BLANKS "\n");
        if (*p == 0)
            break;
        n = strcspn(p, BLANKS "\n");
        if (name || !first)
            putchar(' ');
        fwrite(p, 1, n, stdout);
        p += n;
        first = 0;
    }
    putchar('\n');
}

/* Print one parameter in the chosen mode. */
static void show_one(const struct config *cfg, const char *name, int mode)
{
    const char *value;

    if ((mode & SHOW_NONDEF) && !config_is_set(cfg, name))
        return;
    value = (mode & SHOW_EVAL) ? config_str(cfg, name) : config_raw(cfg, name);
    print_line((mode & SHOW_VALUE) ? NULL : name, value);
}

/* Compare two strings through pointers, for qsort(). */
static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name to show: built-in ones plus user-defined ones, sorted. */
static const char **all_names(const struct config *cfg, int mode, size_t *count)
{
    char *const *set = config_names_set(cfg);
    size_t n = 0, cap = param_count + 1;
    const char **v;

    for (char *const *p = set; *p; p++)
        cap++;
    v = xcalloc(cap, sizeof(*v));
    for (size_t i = 0; i < param_count; i++)
        v[n++] = param_table[i].name;
    if (!(mode & SHOW_DEFS))
        for (char *const *p = set; *p; p++)
            if (param_find(*p) == NULL)
                v[n++] = *p;
    qsort(v, n, sizeof(*v), cmp_strp);
    *count = n;
    return v;
}

/* Print every parameter, or the named ones. */
static void show_params(const struct config *cfg, int mode, char **names)
{
    size_t n;
    const char **v;

    if (*names == NULL) {
        v = all_names(cfg, mode, &n);
        for (size_t i = 0; i < n; i++)
            show_one(cfg, v[i], mode);
        free(v);
        return;
    }
    for (; *names; names++) {
        if (!config_has(cfg, *names) || ((mode & SHOW_DEFS) && !param_find(*names)))
            msg_warn("%s: unknown parameter", *names);
        else
            show_one(cfg, *names, mode);
    }
}

/* Print each line of err as an error, then give up. */
static _Noreturn void fatal_lines(const struct buf *err, const char *what)
{
    const char *p = buf_str(err);
    size_t n;

    while (*p) {
        n = strcspn(p, "\n");
        if (n)
            msg_error("%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
    msg_fatal("%s", what);
}

/* Load DIR/main.cf or exit with its errors. */
static struct config *load_or_die(const char *dir)
{
    struct buf err = BUF_INIT;
    struct config *cfg = config_load(dir, &err);

    if (cfg == NULL)
        fatal_lines(&err, "main.cf has errors; nothing shown");
    buf_free(&err);
    return cfg;
}

/* --------------------------------------------------------------- master */

/* Does service s match "name" or "name/type"? */
static int service_matches(const struct service_def *s, const char *pattern)
{
    const char *slash = strchr(pattern, '/');
    size_t n = slash ? (size_t)(slash - pattern) : strlen(pattern);
    const char *type = s->type == SERVICE_INET ? "inet" : "unix";

    if (strlen(s->name) != n || strncmp(s->name, pattern, n) != 0)
        return 0;
    return slash == NULL || strcmp(slash + 1, type) == 0;
}

/* Is s selected by the patterns (all services when there are none)? */
static int service_selected(const struct service_def *s, char **patterns)
{
    if (*patterns == NULL)
        return 1;
    for (; *patterns; patterns++)
        if (service_matches(s, *patterns))
            return 1;
    return 0;
}

/* postconf -M: print master.cf entries in normalised form. */
static void show_master(const char *dir, char **patterns)
{
    struct config *cfg = load_or_die(dir);
    struct buf path = BUF_INIT, err = BUF_INIT, line = BUF_INIT;
    struct mastercf *mcf;

    (void)buf_printf(&path, "%s/master.cf", dir);
    if ((mcf = mastercf_load(buf_str(&path), cfg, &err)) == NULL)
        fatal_lines(&err, "master.cf has errors; nothing shown");
    for (int i = 0; i < mcf->count; i++) {
        if (!service_selected(&mcf->services[i], patterns))
            continue;
        buf_reset(&line);
        service_def_format(&mcf->services[i], &line);
        printf("%s\n", buf_str(&line));
    }
    mastercf_free(mcf);
    config_free(cfg);
    buf_free(&path);
    buf_free(&err);
    buf_free(&line);
}

/* ----------------------------------------------------------------- edit */

/* Strip leading and trailing blanks in place. */
static char *trim(char *s)
{
    size_t n;

    s += strspn(s, BLANKS);
    n = strlen(s);
    while (n > 0 && strchr(BLANKS, s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Is s a valid parameter name? */
static int valid_name(const char *s)
{
    if (*s == 0)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* Parse the -e / -X arguments; a later request for a name replaces an earlier one. */
static struct edit *parse_edits(char **args, int with_value, size_t *count)
{
    size_t n = 0, argc = 0;
    struct edit *v;

    while (args[argc])
        argc++;
    v = xcalloc(argc + 1, sizeof(*v));
    for (size_t i = 0; i < argc; i++) {
        char *copy = xstrdup(args[i]), *name = copy, *eq;

        if (strchr(copy, '\n'))
            msg_fatal("-e or -X accepts no multi-line input");
        name += strspn(name, BLANKS);
        if (*name == '#')
            msg_fatal("-e or -X accepts no comment input");
        eq = strchr(name, '=');
        if (with_value && eq == NULL)
            msg_fatal("missing '=' after parameter name: \"%s\"", args[i]);
        if (!with_value && eq != NULL)
            msg_fatal("-X requires parameter names without value");
        if (eq)
            *eq = 0;
        name = trim(name);
        if (!valid_name(name))
            msg_fatal("bad parameter name: \"%s\"", args[i]);
        for (size_t j = 0; j < n; j++) {
            if (strcmp(v[j].name, name) == 0) {
                if (with_value)
                    msg_warn("ignoring earlier request: '%s = %s'", v[j].name, v[j].value);
                free(v[j].name);
                free(v[j].value);
                v[j] = v[--n];
                break;
            }
        }
        v[n].name = xstrdup(name);
        v[n].value = eq ? xstrdup(trim(eq + 1)) : NULL;
        n++;
        free(copy);
    }
    *count = n;
    return v;
}

/* The request for the logical line that starts at p, or NULL. */
static struct edit *edit_for(struct edit *edits, size_t n, const char *p, size_t len)
{
    size_t k = 0;

    while (k < len && !strchr(BLANKS "=", p[k]))
        k++;
    for (size_t i = 0; i < n; i++)
        if (strlen(edits[i].name) == k && strncmp(edits[i].name, p, k) == 0)
            return &edits[i];
    return NULL;
}

/* Compare edits by name, for qsort(). */
static int cmp_edit(const void *a, const void *b)
{
    return strcmp(((const struct edit *)a)->name, ((const struct edit *)b)->name);
}

/* Copy main.cf text to out, replacing or removing the requested settings. */
static void rewrite(const char *path, const struct buf *in, struct edit *edits,
                    size_t n, struct buf *out)
{
    const char *text = buf_str(in), *p, *nl;
    size_t pos = 0, len = in->len, linelen, k;
    struct edit *cur = NULL;

    while (pos < len) {
        p = text + pos;
        nl = memchr(p, '\n', len - pos);
        linelen = nl ? (size_t)(nl - p) + 1 : len - pos;
        pos += linelen;
        for (k = 0; k < linelen && strchr(BLANKS "\n", p[k]); k++)
            /* void */ ;
        if (k == linelen || p[k] == '#') {
            (void)buf_append(out, p, linelen);          /* comment or blank */
        } else if (k > 0) {
            if (cur == NULL)                             /* continuation */
                (void)buf_append(out, p, linelen);
        } else if ((cur = edit_for(edits, n, p, linelen)) != NULL) {
            if (cur->found++ == 1)
                msg_warn("%s: multiple entries for \"%s\"", path, cur->name);
            if (cur->value)
                (void)buf_printf(out, "%s = %s\n", cur->name, cur->value);
        } else {
            (void)buf_append(out, p, linelen);
        }
    }
    if (out->len > 0 && out->data[out->len - 1] != '\n')
        (void)buf_putc(out, '\n');
    qsort(edits, n, sizeof(*edits), cmp_edit);
    for (size_t i = 0; i < n; i++)
        if (edits[i].value && edits[i].found == 0)
            (void)buf_printf(out, "%s = %s\n", edits[i].name, edits[i].value);
}

/* One problem config_parse() reports: the line, and the line without its place. */
struct problem {
    char *full;
    const char *what;           /* points into full */
};

/* The problems config_parse() finds in text. */
static struct problem *problems(const char *path, const struct buf *text, size_t *count)
{
    struct buf err = BUF_INIT;
    struct config *cfg = config_parse(path, buf_str(text), text->len, &err);
    size_t plen = strlen(path), n = 0, cap = 8;
    struct problem *v = xcalloc(cap, sizeof(*v));
    const char *p = buf_str(&err), *q;

    config_free(cfg);
    while (*p) {
        size_t len = strcspn(p, "\n");

        if (n + 1 >= cap)
            v = xreallocarray(v, cap *= 2, sizeof(*v));
        v[n].full = xstrndup(p, len);
        q = v[n].full;
        if (strncmp(q, path, plen) == 0) {
            q += plen;
            if (strncmp(q, ", line ", 7) == 0)
                q += 7 + strspn(q + 7, "0123456789");
            if (strncmp(q, ": ", 2) == 0)
                q += 2;
        }
        v[n++].what = q;
        p += len + (p[len] == '\n');
    }
    buf_free(&err);
    *count = n;
    return v;
}

/* Free a problem list. */
static void free_problems(struct problem *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].full);
    free(v);
}

/*
 * Refuse the edit if the new text has a problem the old one did not have
 * (compared without line numbers, counting repeats).
 */
static void check_not_worse(const char *path, const struct buf *old, const struct buf *new)
{
    size_t nold, nnew, added = 0;
    struct problem *pold = problems(path, old, &nold);
    struct problem *pnew = problems(path, new, &nnew);

    for (size_t i = 0; i < nnew; i++) {
        size_t j;

        for (j = 0; j < nold; j++)
            if (pold[j].what && strcmp(pold[j].what, pnew[i].what) == 0)
                break;
        if (j < nold) {
            pold[j].what = NULL;
        } else {
            msg_error("%s", pnew[i].full);
            added++;
        }
    }
    free_problems(pold, nold);
    free_problems(pnew, nnew);
    if (added)
        msg_fatal("%s: not changed", path);
}

/* postconf -e / -X: edit main.cf in place. */
static void edit_main(const char *dir, char **args, int with_value)
{
    struct buf path = BUF_INIT, old = BUF_INIT, new = BUF_INIT, err = BUF_INIT;
    struct edit *edits;
    struct stat st;
    size_t n;

    if (*args == NULL)
        usage();
    edits = parse_edits(args, with_value, &n);
    (void)buf_printf(&path, "%s/main.cf", dir);
    buf_init(&old, MAINCF_MAX_FILE + 1);
    if (read_file(buf_str(&path), MAINCF_MAX_FILE, &old) < 0)
        msg_fatal("open %s: %s", buf_str(&path), strerror(errno));
    if (stat(buf_str(&path), &st) < 0)
        msg_fatal("stat %s: %s", buf_str(&path), strerror(errno));
    buf_init(&new, MAINCF_MAX_FILE + 64 * 1024);
    rewrite(buf_str(&path), &old, edits, n, &new);
    if (new.len > MAINCF_MAX_FILE)
        msg_fatal("%s: result larger than %d bytes; not changed", buf_str(&path),
                  MAINCF_MAX_FILE);
    check_not_worse(buf_str(&path), &old, &new);
    if (atomic_replace_file(buf_str(&path), buf_str(&new), new.len,
                            st.st_mode & 07777, &err) < 0)
        msg_fatal("%s", buf_str(&err));
    for (size_t i = 0; i < n; i++) {
        free(edits[i].name);
        free(edits[i].value);
    }
    free(edits);
    buf_free(&path);
    buf_free(&old);
    buf_free(&new);
    buf_free(&err);
}

/* --------------------------------------------------------------- main */

/* postconf -m: supported lookup table types. */
static void show_table_types(void)
{
    for (const char *const *p = table_type_names(); *p; p++)
        printf("%s\n", *p);
}

int main(int argc, char **argv)
{
    const char *opt_dir = NULL, *dir;
    int mode = 0, cmd = 0, ch;
    struct config *cfg;

    log_init("postconf");
    while ((ch = getopt(argc, argv, "c:dehmMnvxX")) != -1) {
        switch (ch) {
        case 'c': opt_dir = optarg; break;
        case 'd': mode |= SHOW_DEFS; break;
        case 'h': mode |= SHOW_VALUE; break;
        case 'n': mode |= SHOW_NONDEF; break;
        case 'x': mode |= SHOW_EVAL; break;
        case 'v': log_set_verbose(msg_verbose + 1); break;
        case 'e': case 'm': case 'M': case 'X':
            if (cmd && cmd != ch)
                msg_fatal("specify only one of -e, -m, -M or -X");
            cmd = ch;
            break;
        default: usage();
        }
    }
    if ((mode & SHOW_DEFS) && (mode & SHOW_NONDEF))
        msg_fatal("specify only one of -d or -n");
    dir = confdir_resolve(opt_dir);
    argv += optind;
    switch (cmd) {
    case 'e': edit_main(dir, argv, 1); break;
    case 'X': edit_main(dir, argv, 0); break;
    case 'M': show_master(dir, argv); break;
    case 'm': show_table_types(); break;
    default:
        cfg = (mode & SHOW_DEFS) ? config_defaults() : load_or_die(dir);
        show_params(cfg, mode, argv);
        config_free(cfg);
        break;
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %s", strerror(errno));
    return 0;
}
