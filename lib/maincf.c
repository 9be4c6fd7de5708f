/*
 * maincf - main.cf: parse, expand, type-check, and answer typed queries.
 *
 * Reading follows Postfix's readlline(): a logical line starts with a
 * non-blank character; a line that starts with white space continues it
 * (the text is joined as is, leading blanks included); empty lines,
 * blank lines and lines whose first non-blank character is '#' are
 * skipped and do not end a logical line. A '#' anywhere else is part of
 * the value. "name = value" is split at the first '='; name and value are
 * trimmed. A parameter set twice takes the last value, as in Postfix.
 * CRLF line ends are accepted; a NUL byte is an error.
 *
 * A config holds one entry per built-in parameter plus one per
 * user-defined parameter: a name that main.cf sets and that some value
 * references as $name (in main.cf, in master.cf next to it when read with
 * config_load(), or as a smtpd_restriction_classes name), as Postfix
 * allows. Every entry's value is expanded once at load time, recursively,
 * with loop detection and the depth and size limits of maincf.h; the
 * result is memoised, so expansion work stays linear in the input size
 * even for values like "$a$a$a..." that reference each other. Typed values
 * are checked after expansion. Besides $name, ${name} and $(name), values
 * may use ${name?text} / ${name:text} and Postfix 3's ${name?{text}},
 * ${name:{text}} and ${name?{text1}:{text2}}; $$ is a literal '$'; any
 * other '$' is an error, as in Postfix. All errors are collected, sorted by line
 * and returned together; a config with errors is never returned.
 *
 * Dynamic defaults: myhostname is gethostname(), or its getaddrinfo()
 * canonical name when that has no dot, or "host.$mydomain" (mydomain when
 * set in main.cf, else "localdomain") as Postfix does;
 * "localhost.localdomain" when the system has no name at all. mydomain is
 * $myhostname minus its first label, or "localdomain".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"
#include "maincf.h"
#include "mem.h"
#include "numparse.h"
#include "param_table.h"

#define MAX_ERRORS      100         /* messages kept; the rest are counted */
#define MAX_LINE        (MAINCF_MAX_VALUE + 1024)   /* one logical line */
#define SHOW_MAX        60          /* bytes of a bad value shown in errors */
#define LIST_SEP        ", \t\r\n\v\f"

enum xstate { X_TODO, X_BUSY, X_DONE, X_FAILED };

/* One parameter: built-in or user-defined. */
struct entry {
    char *name;
    const struct param_def *def;    /* NULL: user-defined */
    char *raw;                      /* value as written, or the default */
    char *value;                    /* raw, expanded */
    char **list;                    /* value split into items */
    char *origin;                   /* config_override() origin, or NULL */
    int set;                        /* set in main.cf or by override */
    int line;                       /* main.cf line, 0 if not from main.cf */
    size_t first_seq;               /* first setting in the file, for names_set */
    long num;                       /* PT_BOOL, PT_INT, PT_TIME */
    uint64_t size;                  /* PT_SIZE */
    enum xstate state;
    int depth;                      /* $name nesting below this value */
};

struct config {
    char *dir;
    char *file;
    char *host;                     /* gethostname() result, cached */
    struct entry *ents;             /* sorted by name */
    size_t count;
    char **names_set;               /* NULL-terminated; points into ents */
};

/* One "name = value" as read from the file. */
struct setting {
    char *name;
    char *value;
    int line;
};

struct settings {
    struct setting *v;
    size_t n, cap;
};

/* Error messages, kept with their line so they can be sorted. */
struct errmsg {
    int line;
    size_t seq;
    char *text;
};

struct errlist {
    struct errmsg *v;
    size_t n, cap;
    size_t dropped;
};

/* Expansion state: the entries being expanded, innermost last. */
struct xctx {
    struct config *cfg;
    struct errlist *errs;
    struct entry *stack[MAINCF_MAX_DEPTH + 2];
    int sp;
};

/* Names referenced as $name somewhere, sorted, for user-defined checks. */
struct refs {
    char **v;
    size_t n, cap;
};

/* ---------------------------------------------------------------- errors */

/* Add one formatted message at line (0: not tied to a line). */
static void __attribute__((format(printf, 3, 4)))
err_add(struct errlist *el, int line, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    if (el->n >= MAX_ERRORS) {
        el->dropped++;
        return;
    }
    va_start(ap, fmt);
    (void)buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (el->n == el->cap) {
        el->cap = el->cap ? el->cap * 2 : 8;
        el->v = xreallocarray(el->v, el->cap, sizeof(*el->v));
    }
    el->v[el->n].line = line;
    el->v[el->n].seq = el->n;
    el->v[el->n].text = buf_steal(&b);
    el->n++;
}

/* Order errors by line, then by the order they were found. */
static int cmp_err(const void *a, const void *b)
{
    const struct errmsg *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the messages into err, one per line; returns how many there were. */
static size_t err_flush(struct errlist *el, const char *file, struct buf *err)
{
    size_t count = el->n + el->dropped;

    if (el->n)
        qsort(el->v, el->n, sizeof(*el->v), cmp_err);
    for (size_t i = 0; i < el->n; i++) {
        if (err)
            (void)buf_printf(err, "%s\n", el->v[i].text);
        free(el->v[i].text);
    }
    if (el->dropped && err)
        (void)buf_printf(err, "%s: %zu more errors not shown\n", file, el->dropped);
    free(el->v);
    el->v = NULL;
    el->n = el->cap = el->dropped = 0;
    return count;
}

/* Append at most SHOW_MAX bytes of s, with non-printable bytes as '?'. */
static void put_visible(struct buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n && i < SHOW_MAX; i++)
        (void)buf_putc(b, isprint((unsigned char)s[i]) ? s[i] : '?');
    if (i < n)
        (void)buf_puts(b, "...");
}

/* Like put_visible(), into a fresh string the caller frees. */
static char *visible(const char *s, size_t n)
{
    struct buf b = BUF_INIT;

    put_visible(&b, s, n);
    return buf_steal(&b);
}

/* --------------------------------------------------------------- helpers */

/* Blank as Postfix's ISSPACE, without newline (lines are already split). */
static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* May c appear in a parameter name? */
static int is_name_char(int c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Is s[0..n) a valid parameter name? */
static int valid_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(s[i]))
            return 0;
    return 1;
}

/* Compare a name with an entry, for bsearch(). */
static int cmp_entry_key(const void *key, const void *ent)
{
    return strcmp((const char *)key, ((const struct entry *)ent)->name);
}

/* Compare two entries by name, for qsort(). */
static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The entry for name, or NULL. */
static struct entry *find_entry(const struct config *cfg, const char *name)
{
    return bsearch(name, cfg->ents, cfg->count, sizeof(*cfg->ents), cmp_entry_key);
}

/* Where an entry's value comes from, for error messages. */
static void entry_where(const struct config *cfg, const struct entry *e, struct buf *b)
{
    buf_reset(b);
    if (e->origin)
        (void)buf_puts(b, e->origin);
    else if (e->line > 0)
        (void)buf_printf(b, "%s, line %d", cfg->file, e->line);
    else
        (void)buf_printf(b, "%s", *cfg->file ? cfg->file : "default");
}

/* Free an entry's derived data (expansion, list). */
static void entry_clear(struct entry *e)
{
    free(e->value);
    e->value = NULL;
    if (e->list) {
        for (char **p = e->list; *p; p++)
            free(*p);
        free(e->list);
        e->list = NULL;
    }
    e->state = X_TODO;
    e->depth = 0;
}

/* --------------------------------------------------------- dynamic values */

/* The system's host name, possibly without a domain; NULL if none. */
static char *system_host_name(void)
{
    char host[256];
    struct addrinfo hints, *res;
    char *name = NULL;

    if (gethostname(host, sizeof(host) - 1) < 0)
        return NULL;
    host[sizeof(host) - 1] = 0;
    if (host[0] == 0)
        return NULL;
    if (strchr(host, '.'))
        return xstrdup(host);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_CANONNAME;
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        if (res->ai_canonname && strchr(res->ai_canonname, '.'))
            name = xstrdup(res->ai_canonname);
        freeaddrinfo(res);
    }
    return name ? name : xstrdup(host);
}

static int expand_entry(struct xctx *x, struct entry *e);

/* Compute the raw default of a PARAM_DYNAMIC entry; -1 if a dependency failed. */
static int dynamic_default(struct xctx *x, struct entry *e)
{
    struct entry *dep;
    const char *dot;
    char *val;

    if (strcmp(e->name, "myhostname") == 0) {
        if (x->cfg->host == NULL)
            x->cfg->host = system_host_name();
        if (x->cfg->host == NULL) {
            val = xstrdup("localhost.localdomain");
        } else if (strchr(x->cfg->host, '.')) {
            val = xstrdup(x->cfg->host);
        } else {
            struct buf b = BUF_INIT;

            dep = find_entry(x->cfg, "mydomain");
            if (dep && dep->set && expand_entry(x, dep) < 0)
                return -1;
            (void)buf_printf(&b, "%s.%s", x->cfg->host,
                             dep && dep->set && *dep->value ? dep->value : "localdomain");
            val = buf_steal(&b);
        }
    } else if (strcmp(e->name, "mydomain") == 0) {
        dep = find_entry(x->cfg, "myhostname");
        if (dep == NULL || expand_entry(x, dep) < 0)
            return -1;
        dot = strchr(dep->value, '.');
        val = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
        e->depth = dep->depth + 1;
    } else {
        msg_panic("no dynamic default for %s", e->name);
    }
    free(e->raw);
    e->raw = val;
    return 0;
}

/* ------------------------------------------------------------- expansion */

/* Report an expansion problem against the innermost entry being expanded. */
static void __attribute__((format(printf, 2, 3)))
xerr(struct xctx *x, const char *fmt, ...)
{
    struct buf msg = BUF_INIT, where = BUF_INIT;
    struct entry *owner = x->sp > 0 ? x->stack[x->sp - 1] : NULL;
    va_list ap;

    va_start(ap, fmt);
    (void)buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (owner) {
        entry_where(x->cfg, owner, &where);
        err_add(x->errs, owner->origin ? 0 : owner->line, "%s: %s: %s",
                buf_str(&where), owner->name, buf_str(&msg));
    } else {
        err_add(x->errs, 0, "%s", buf_str(&msg));
    }
    buf_free(&msg);
    buf_free(&where);
}

/* Append to the expansion result, reporting overflow once. */
static int xappend(struct xctx *x, struct buf *out, const char *s, size_t n)
{
    if (buf_append(out, s, n) == 0)
        return 0;
    xerr(x, "expanded value longer than %d bytes", MAINCF_MAX_VALUE);
    return -1;
}

/* Report the loop that reaching busy entry e closes. */
static void report_loop(struct xctx *x, const struct entry *e)
{
    struct buf path = BUF_INIT;
    int i = 0;

    while (i < x->sp && x->stack[i] != e)
        i++;
    for (; i < x->sp; i++)
        (void)buf_printf(&path, "$%s -> ", x->stack[i]->name);
    (void)buf_printf(&path, "$%s", e->name);
    xerr(x, "expansion loop: %s", buf_str(&path));
    buf_free(&path);
}

/* Look up and expand the entry that $name refers to. */
static struct entry *ref_entry(struct xctx *x, const char *name, size_t n)
{
    char *key = xstrndup(name, n);
    struct entry *e = find_entry(x->cfg, key);

    if (e == NULL)
        xerr(x, "undefined parameter $%s", key);
    free(key);
    if (e == NULL || expand_entry(x, e) < 0)
        return NULL;
    return e;
}

static int expand_text(struct xctx *x, const char *text, size_t len,
                       struct buf *out, int *depth, int level);

/* Note that a value uses entry e: its depth is at least one more. */
static void note_depth(int *depth, const struct entry *e)
{
    if (e->depth + 1 > *depth)
        *depth = e->depth + 1;
}

/* Find the end of a ${...} or $(...) starting at text[i] (the bracket). */
static int match_bracket(const char *text, size_t len, size_t i, size_t *close)
{
    char open = text[i], shut = open == '{' ? '}' : ')';
    int lvl = 1;

    for (size_t j = i + 1; j < len; j++) {
        if (text[j] == open)
            lvl++;
        else if (text[j] == shut && --lvl == 0) {
            *close = j;
            return 0;
        }
    }
    return -1;
}

/* Skip blanks in s[i..len). */
static size_t skip_blanks(const char *s, size_t len, size_t i)
{
    while (i < len && is_blank(s[i]))
        i++;
    return i;
}

/*
 * Split the text after '?' or ':' into branches. Postfix 3 syntax
 * "{text1}" or (after '?') "{text1}:{text2}", blanks allowed around the
 * braces, which are removed; otherwise the whole text is the one branch.
 * Returns -1 on a syntax error.
 */
static int split_branches(const char *s, size_t len, int op, const char **t1,
                          size_t *n1, const char **t2, size_t *n2)
{
    size_t i = skip_blanks(s, len, 0), close;

    *t1 = s;
    *n1 = len;
    *t2 = NULL;
    *n2 = 0;
    if (i == len || s[i] != '{')
        return 0;
    if (match_bracket(s, len, i, &close) < 0)
        return -1;
    *t1 = s + i + 1;
    *n1 = close - i - 1;
    i = skip_blanks(s, len, close + 1);
    if (i == len)
        return 0;
    if (op != '?' || s[i] != ':')
        return -1;
    i = skip_blanks(s, len, i + 1);
    if (i == len || s[i] != '{' || match_bracket(s, len, i, &close) < 0)
        return -1;
    *t2 = s + i + 1;
    *n2 = close - i - 1;
    return skip_blanks(s, len, close + 1) == len ? 0 : -1;
}

/* Report bad ${...} syntax. */
static int bad_syntax(struct xctx *x, const char *what, const char *in, size_t len)
{
    char *show = visible(in, len);

    xerr(x, "%s: \"${%s}\"", what, show);
    free(show);
    return -1;
}

/*
 * Expand the inside of ${...} or $(...): name, name?text, name:text,
 * name?{text}, name:{text} or name?{text1}:{text2}. "?" picks its text
 * when $name is not empty, ":" when it is empty.
 */
static int expand_braced(struct xctx *x, const char *in, size_t len,
                         struct buf *out, int *depth, int level)
{
    const char *t1, *t2;
    size_t n = 0, n1, n2;
    struct entry *e;
    int op, full;

    while (n < len && is_name_char(in[n]))
        n++;
    if (n == 0)
        return bad_syntax(x, "empty macro name", in, len);
    op = n < len ? in[n] : 0;
    if (op != 0 && op != '?' && op != ':')
        return bad_syntax(x, "unsupported macro syntax", in, len);
    if (op && split_branches(in + n + 1, len - n - 1, op, &t1, &n1, &t2, &n2) < 0)
        return bad_syntax(x, "unsupported macro syntax", in, len);
    if ((e = ref_entry(x, in, n)) == NULL)
        return -1;
    note_depth(depth, e);
    if (op == 0)
        return xappend(x, out, e->value, strlen(e->value));
    full = *e->value != 0;
    if (op == ':' ? !full : full)
        return expand_text(x, t1, n1, out, depth, level + 1);
    if (t2)
        return expand_text(x, t2, n2, out, depth, level + 1);
    return 0;
}

/* Expand one $ reference at text[i] (just after the '$'); advance *ip. */
static int expand_dollar(struct xctx *x, const char *text, size_t len, size_t *ip,
                         struct buf *out, int *depth, int level)
{
    size_t i = *ip, j, close;
    struct entry *e;

    if (i < len && (text[i] == '{' || text[i] == '(')) {
        if (match_bracket(text, len, i, &close) < 0) {
            char *show = visible(text, len);

            xerr(x, "truncated macro reference: \"%s\"", show);
            free(show);
            return -1;
        }
        *ip = close + 1;
        return expand_braced(x, text + i + 1, close - i - 1, out, depth, level);
    }
    for (j = i; j < len && is_name_char(text[j]); j++)
        /* void */ ;
    if (j == i) {
        char *show = visible(text, len);

        xerr(x, "empty macro name: \"%s\"", show);
        free(show);
        return -1;
    }
    *ip = j;
    if ((e = ref_entry(x, text + i, j - i)) == NULL)
        return -1;
    note_depth(depth, e);
    return xappend(x, out, e->value, strlen(e->value));
}

/* Expand text into out; *depth gets the deepest $name nesting used. */
static int expand_text(struct xctx *x, const char *text, size_t len,
                       struct buf *out, int *depth, int level)
{
    size_t i = 0;
    const char *dollar;

    if (level > MAINCF_MAX_DEPTH) {
        xerr(x, "expansion nested more than %d levels deep", MAINCF_MAX_DEPTH);
        return -1;
    }
    while (i < len) {
        dollar = memchr(text + i, '$', len - i);
        if (dollar == NULL)
            return xappend(x, out, text + i, len - i);
        if (xappend(x, out, text + i, (size_t)(dollar - text) - i) < 0)
            return -1;
        i = (size_t)(dollar - text) + 1;
        if (i < len && text[i] == '$') {
            if (xappend(x, out, "$", 1) < 0)
                return -1;
            i++;
        } else if (expand_dollar(x, text, len, &i, out, depth, level) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Make sure e->value holds the expansion of e->raw. */
static int expand_entry(struct xctx *x, struct entry *e)
{
    struct buf out;
    int depth = 0, r = 0;

    if (e->state == X_DONE)
        return 0;
    if (e->state == X_FAILED)
        return -1;
    if (e->state == X_BUSY) {
        report_loop(x, e);
        return -1;
    }
    if (x->sp > MAINCF_MAX_DEPTH) {
        xerr(x, "expansion nested more than %d levels deep", MAINCF_MAX_DEPTH);
        return -1;
    }
    e->state = X_BUSY;
    x->stack[x->sp++] = e;
    if (!e->set && e->def && (e->def->flags & PARAM_DYNAMIC))
        r = dynamic_default(x, e);
    depth = e->depth;
    buf_init(&out, MAINCF_MAX_VALUE);
    if (r == 0 && e->def && (e->def->flags & PARAM_RAW))
        buf_append(&out, e->raw, strlen(e->raw));
    else if (r == 0)
        r = expand_text(x, e->raw, strlen(e->raw), &out, &depth, 0);
    if (r == 0 && depth > MAINCF_MAX_DEPTH) {
        xerr(x, "expansion nested more than %d levels deep", MAINCF_MAX_DEPTH);
        r = -1;
    }
    x->sp--;
    if (r < 0) {
        buf_free(&out);
        e->state = X_FAILED;
        return -1;
    }
    e->value = buf_steal(&out);
    e->depth = depth;
    e->state = X_DONE;
    return 0;
}

/* ------------------------------------------------------------ type checks */

/* The default unit of a time parameter: the unit letter of its default. */
static char time_unit(const struct param_def *def)
{
    size_t n = strlen(def->defval);

    if (n > 0 && strchr("smhdw", def->defval[n - 1]))
        return def->defval[n - 1];
    return 's';
}

/* Report a value that does not fit its type. */
static void bad_value(struct config *cfg, struct errlist *el, const struct entry *e,
                      const char *what, const char *extra)
{
    struct buf where = BUF_INIT;
    char *show = visible(e->value, strlen(e->value));

    entry_where(cfg, e, &where);
    err_add(el, e->origin ? 0 : e->line, "%s: bad %s value for %s: %s%s",
            buf_str(&where), what, e->name, show, extra);
    free(show);
    buf_free(&where);
}

/* Is word one of the space-separated choices (case-insensitive)? */
static int is_choice(const char *choices, const char *word, size_t len)
{
    const char *p = choices;

    while (*p) {
        size_t n = strcspn(p, " ");

        if (n == len && strncasecmp(p, word, len) == 0)
            return 1;
        p += n;
        p += strspn(p, " ");
    }
    return 0;
}

/* For parameters with a fixed set of values: every word must be one. */
static int check_choices(struct config *cfg, struct errlist *el, struct entry *e)
{
    const char *p = e->value;
    struct buf extra = BUF_INIT;
    int ok = 1, words = 0;

    if (e->def->choices == NULL)
        return 0;
    for (;;) {
        size_t n;

        p += strspn(p, LIST_SEP);
        if (*p == 0)
            break;
        n = e->def->type == PT_LIST ? strcspn(p, LIST_SEP) : strlen(p);
        words++;
        if (!is_choice(e->def->choices, p, n))
            ok = 0;
        p += n;
    }
    if (words == 0 && *e->def->defval != 0)
        ok = 0;
    if (ok)
        return 0;
    buf_printf(&extra, " (use %s%s)", e->def->type == PT_LIST ? "one or more of: " : "one of: ",
               e->def->choices);
    bad_value(cfg, el, e, e->def->type == PT_LIST ? "list" : "string", buf_str(&extra));
    buf_free(&extra);
    return -1;
}

/* Check e->value against the entry's type and keep the parsed number. */
static int check_type(struct config *cfg, struct errlist *el, struct entry *e)
{
    char range[96];
    int b;

    if (e->def == NULL)
        return 0;
    switch (e->def->type) {
    case PT_STR:
    case PT_LIST:
        return check_choices(cfg, el, e);
    case PT_BOOL:
        if (parse_bool(e->value, &b) == 0) {
            e->num = b;
            return 0;
        }
        bad_value(cfg, el, e, "boolean", " (use yes or no)");
        return -1;
    case PT_INT:
        if (parse_long(e->value, e->def->min, e->def->max, &e->num) == 0)
            return 0;
        snprintf(range, sizeof(range), " (must be between %ld and %ld)",
                 e->def->min, e->def->max);
        bad_value(cfg, el, e, "integer", range);
        return -1;
    case PT_TIME:
        if (parse_time(e->value, time_unit(e->def), &e->num) == 0)
            return 0;
        bad_value(cfg, el, e, "time", " (use a number with unit s, m, h, d or w)");
        return -1;
    case PT_SIZE:
        if (parse_size(e->value, &e->size) == 0)
            return 0;
        bad_value(cfg, el, e, "size", " (use a byte count with optional k, m or g)");
        return -1;
    }
    return 0;
}

/* Split a value into items separated by commas and white space. */
/*
 * Length of the list item at p: up to a separator outside braces, so that
 * "inline:{a=b, c=d}" stays one item, as in Postfix. Unbalanced braces
 * run to the end of the value.
 */
static size_t item_length(const char *p)
{
    size_t i = 0;
    int depth = 0;

    for (; p[i]; i++) {
        if (p[i] == '{')
            depth++;
        else if (p[i] == '}' && depth > 0)
            depth--;
        else if (depth == 0 && strchr(LIST_SEP, p[i]))
            break;
    }
    return i;
}

static char **split_list(const char *value)
{
    size_t n = 0, cap = 4, len;
    char **v = xreallocarray(NULL, cap, sizeof(*v));
    const char *p = value;

    for (;;) {
        p += strspn(p, LIST_SEP);
        if (*p == 0)
            break;
        len = item_length(p);
        if (n + 1 >= cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n++] = xstrndup(p, len);
        p += len;
    }
    v[n] = NULL;
    return v;
}

/*
 * (Re)compute every entry's expansion, typed value and list. Returns the
 * number of errors added to el.
 */
static size_t evaluate_all(struct config *cfg, struct errlist *el)
{
    struct xctx x;
    size_t before = el->n + el->dropped;

    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    x.errs = el;
    for (size_t i = 0; i < cfg->count; i++)
        entry_clear(&cfg->ents[i]);
    for (size_t i = 0; i < cfg->count; i++)
        (void)expand_entry(&x, &cfg->ents[i]);
    for (size_t i = 0; i < cfg->count; i++) {
        struct entry *e = &cfg->ents[i];

        if (e->state == X_DONE && check_type(cfg, el, e) == 0)
            e->list = split_list(e->value);
    }
    return el->n + el->dropped - before;
}

/* ----------------------------------------------------------- line reader */

/* Keep one setting; takes ownership of name and value. */
static void settings_add(struct settings *s, char *name, char *value, int line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
    }
    s->v[s->n].name = name;
    s->v[s->n].value = value;
    s->v[s->n].line = line;
    s->n++;
}

/* Free all settings. */
static void settings_free(struct settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
    }
    free(s->v);
}

/* Split one logical line "name = value" into a setting. */
static void split_setting(const char *file, const char *s, size_t len, int line,
                          struct settings *out, struct errlist *el)
{
    const char *eq = memchr(s, '=', len);
    size_t nlen, vstart, vend;
    char *show;

    if (eq == NULL) {
        show = visible(s, len);
        err_add(el, line, "%s, line %d: missing '=' after parameter name: \"%s\"",
                file, line, show);
        free(show);
        return;
    }
    for (nlen = (size_t)(eq - s); nlen > 0 && is_blank(s[nlen - 1]); nlen--)
        /* void */ ;
    if (!valid_name(s, nlen)) {
        show = visible(s, nlen);
        err_add(el, line, nlen ? "%s, line %d: bad parameter name: \"%s\""
                : "%s, line %d: missing parameter name%s", file, line, show);
        free(show);
        return;
    }
    for (vstart = (size_t)(eq - s) + 1; vstart < len && is_blank(s[vstart]); vstart++)
        /* void */ ;
    for (vend = len; vend > vstart && is_blank(s[vend - 1]); vend--)
        /* void */ ;
    if (vend - vstart > MAINCF_MAX_VALUE) {
        err_add(el, line, "%s, line %d: value of %.*s longer than %d bytes",
                file, line, (int)nlen, s, MAINCF_MAX_VALUE);
        return;
    }
    settings_add(out, xstrndup(s, nlen), xstrndup(s + vstart, vend - vstart), line);
}

/* State of the logical line being assembled. */
struct lline {
    struct buf text;
    int line;           /* first physical line, 0: none open */
    int bad;            /* already reported; drop it */
};

/* Finish the open logical line, if any. */
static void lline_end(struct lline *ll, const char *file, struct settings *out,
                      struct errlist *el)
{
    if (ll->line && !ll->bad)
        split_setting(file, ll->text.data ? ll->text.data : "", ll->text.len,
                      ll->line, out, el);
    buf_reset(&ll->text);
    ll->line = 0;
    ll->bad = 0;
}

/* Add one physical line (without its line end) to the logical line state. */
static void lline_add(struct lline *ll, const char *file, const char *p, size_t n,
                      int lineno, struct settings *out, struct errlist *el)
{
    size_t k = 0;

    while (k < n && is_blank(p[k]))
        k++;
    if (k == n || p[k] == '#')
        return;                                 /* blank or comment line */
    if (k == 0) {
        lline_end(ll, file, out, el);
        ll->line = lineno;
    } else if (ll->line == 0) {
        err_add(el, lineno, "%s, line %d: logical line must not start with white space",
                file, lineno);
        ll->line = lineno;
        ll->bad = 1;
    }
    if (ll->bad)
        return;
    if (memchr(p, 0, n)) {
        err_add(el, lineno, "%s, line %d: NUL byte in text", file, lineno);
        ll->bad = 1;
    } else if (buf_append(&ll->text, p, n) < 0) {
        err_add(el, ll->line, "%s, line %d: logical line longer than %d bytes",
                file, ll->line, MAX_LINE);
        ll->bad = 1;
    }
}

/* Read all settings from text. */
static void read_settings(const char *file, const char *text, size_t len,
                          struct settings *out, struct errlist *el)
{
    struct lline ll;
    size_t pos = 0, n;
    const char *nl;
    int lineno = 0;

    buf_init(&ll.text, MAX_LINE);
    ll.line = 0;
    ll.bad = 0;
    while (pos < len) {
        nl = memchr(text + pos, '\n', len - pos);
        n = nl ? (size_t)(nl - text) - pos : len - pos;
        lineno++;
        lline_add(&ll, file, text + pos, n > 0 && text[pos + n - 1] == '\r' ? n - 1 : n,
                  lineno, out, el);
        pos += n + (nl != NULL);
    }
    lline_end(&ll, file, out, el);
    buf_free(&ll.text);
}

/* ------------------------------------------------------ user-defined names */

/* Remember a referenced name. */
static void refs_add(struct refs *r, const char *name, size_t n)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
    }
    r->v[r->n++] = xstrndup(name, n);
}

/* Collect every $name, ${name...} and $(name...) in text (skipping $$). */
static void refs_scan(struct refs *r, const char *text, size_t len)
{
    size_t i = 0, j;

    while (i < len) {
        const char *d = memchr(text + i, '$', len - i);

        if (d == NULL)
            return;
        i = (size_t)(d - text) + 1;
        if (i < len && text[i] == '$') {
            i++;
            continue;
        }
        if (i < len && (text[i] == '{' || text[i] == '('))
            i++;
        for (j = i; j < len && is_name_char(text[j]); j++)
            /* void */ ;
        if (j > i)
            refs_add(r, text + i, j - i);
        i = j;
    }
}

/* Collect names from master.cf-style text, skipping comment lines. */
static void refs_scan_lines(struct refs *r, const char *text, size_t len)
{
    size_t pos = 0, n, k;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);

        n = nl ? (size_t)(nl - text) - pos : len - pos;
        for (k = 0; k < n && is_blank(text[pos + k]); k++)
            /* void */ ;
        if (k < n && text[pos + k] != '#')
            refs_scan(r, text + pos, n);
        pos += n + (nl != NULL);
    }
}

/* Compare two strings through pointers, for qsort()/bsearch(). */
static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is name in the (sorted) reference set? */
static int refs_has(const struct refs *r, const char *name)
{
    return r->n && bsearch(&name, r->v, r->n, sizeof(*r->v), cmp_strp) != NULL;
}

/*
 * Per-transport settings that Postfix derives from a master.cf service
 * name (smtp_destination_concurrency_limit, relay_destination_recipient_limit
 * ...): any "NAME_SUFFIX" with one of these suffixes is accepted as a
 * user-defined parameter; qmgr checks its value when it reads it.
 */
static int transport_param(const char *name)
{
    static const char *const suffix[] = {
        "_destination_concurrency_limit", "_destination_recipient_limit",
        "_initial_destination_concurrency",
        "_destination_concurrency_failed_cohort_limit",
        "_destination_rate_delay", "_time_limit",
    };
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        size_t k = strlen(suffix[i]);

        if (n > k && strcmp(name + n - k, suffix[i]) == 0)
            return 1;
    }
    return 0;
}

/* Free a reference set. */
static void refs_free(struct refs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
}

/* Every name that some setting (or extra text) refers to. */
static void collect_refs(const struct settings *s, const char *extra, size_t extra_len,
                         struct refs *r)
{
    for (size_t i = 0; i < s->n; i++) {
        refs_scan(r, s->v[i].value, strlen(s->v[i].value));
        if (strcmp(s->v[i].name, "smtpd_restriction_classes") == 0) {
            char **names = split_list(s->v[i].value);

            for (char **p = names; *p; p++) {
                if (valid_name(*p, strlen(*p)))
                    refs_add(r, *p, strlen(*p));
                free(*p);
            }
            free(names);
        }
    }
    if (extra)
        refs_scan_lines(r, extra, extra_len);
    if (r->n)
        qsort(r->v, r->n, sizeof(*r->v), cmp_strp);
}

/* ---------------------------------------------------------- construction */

/* A config with one entry per built-in parameter, all at their defaults. */
static struct config *config_new(const char *dir, const char *file, size_t extra)
{
    struct config *cfg = xcalloc(1, sizeof(*cfg));

    cfg->dir = xstrdup(dir);
    cfg->file = xstrdup(file);
    cfg->ents = xcalloc(param_count + extra, sizeof(*cfg->ents));
    for (size_t i = 0; i < param_count; i++) {
        cfg->ents[i].name = xstrdup(param_table[i].name);
        cfg->ents[i].def = &param_table[i];
        cfg->ents[i].raw = xstrdup(param_table[i].defval);
    }
    cfg->count = param_count;
    return cfg;
}

/* Replace an entry's raw value with a setting from main.cf. */
static void entry_set(struct entry *e, const struct setting *s, size_t seq)
{
    free(e->raw);
    e->raw = xstrdup(s->value);
    if (!e->set)
        e->first_seq = seq;
    e->set = 1;
    e->line = s->line;
}

/* Compare entries by the order in which main.cf first set them. */
static int cmp_first_seq(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Build names_set: names set in main.cf, in the order first set. */
static void build_names_set(struct config *cfg)
{
    struct entry **v = xcalloc(cfg->count + 1, sizeof(*v));
    size_t n = 0;

    for (size_t i = 0; i < cfg->count; i++)
        if (cfg->ents[i].set)
            v[n++] = &cfg->ents[i];
    qsort(v, n, sizeof(*v), cmp_first_seq);
    cfg->names_set = xcalloc(n + 1, sizeof(*cfg->names_set));
    for (size_t i = 0; i < n; i++)
        cfg->names_set[i] = v[i]->name;
    free(v);
}

/* Order user-defined entries by name, then by where they were set. */
static int cmp_user(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/*
 * Merge the user-defined entries ents[param_count..count), which may hold
 * one entry per setting of the same name: the last value wins, the first
 * setting fixes the order in names_set.
 */
static void merge_user(struct config *cfg)
{
    struct entry *v = cfg->ents + param_count;
    size_t n = cfg->count - param_count, out = 0;

    qsort(v, n, sizeof(*v), cmp_user);
    for (size_t i = 0; i < n; i++) {
        if (out > 0 && strcmp(v[out - 1].name, v[i].name) == 0) {
            free(v[out - 1].raw);
            v[out - 1].raw = v[i].raw;
            v[out - 1].line = v[i].line;
            free(v[i].name);
        } else {
            v[out++] = v[i];
        }
    }
    cfg->count = param_count + out;
}

/* Apply all settings to cfg: known names, user-defined names, or errors. */
static void apply_settings(struct config *cfg, const struct settings *s,
                           const struct refs *refs, struct errlist *el)
{
    struct entry *e;

    for (size_t i = 0; i < s->n; i++) {
        const struct setting *st = &s->v[i];

        if ((e = bsearch(st->name, cfg->ents, param_count, sizeof(*cfg->ents),
                         cmp_entry_key)) != NULL) {
            entry_set(e, st, i);
        } else if (refs_has(refs, st->name) || transport_param(st->name)) {
            e = &cfg->ents[cfg->count++];
            e->name = xstrdup(st->name);
            e->raw = xstrdup("");
            entry_set(e, st, i);
        } else {
            err_add(el, st->line, "%s, line %d: unknown parameter: %s",
                    cfg->file, st->line, st->name);
        }
    }
    merge_user(cfg);
    qsort(cfg->ents, cfg->count, sizeof(*cfg->ents), cmp_entries);
}

/* Directory part of a file name ("" if it has none). */
static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');

    if (slash == NULL)
        return xstrdup("");
    if (slash == file)
        return xstrdup("/");
    return xstrndup(file, (size_t)(slash - file));
}

/* Parse main.cf text; extra is master.cf text whose $names count as uses. */
static struct config *parse_common(const char *dir, const char *file,
                                   const char *text, size_t len,
                                   const char *extra, size_t extra_len,
                                   struct buf *err)
{
    struct errlist el = {0};
    struct settings s = {0};
    struct refs refs = {0};
    struct config *cfg;

    if (len > MAINCF_MAX_FILE) {
        if (err)
            (void)buf_printf(err, "%s: file larger than %d bytes\n", file, MAINCF_MAX_FILE);
        return NULL;
    }
    read_settings(file, text, len, &s, &el);
    collect_refs(&s, extra, extra_len, &refs);
    cfg = config_new(dir, file, s.n);
    if (*dir) {
        struct entry *e = find_entry(cfg, "config_directory");

        free(e->raw);
        e->raw = xstrdup(dir);
    }
    apply_settings(cfg, &s, &refs, &el);
    settings_free(&s);
    refs_free(&refs);
    evaluate_all(cfg, &el);
    if (err_flush(&el, file, err) > 0) {
        config_free(cfg);
        return NULL;
    }
    build_names_set(cfg);
    return cfg;
}

/* ------------------------------------------------------------ public API */

/* Parse main.cf text from memory. */
struct config *config_parse(const char *name, const char *text, size_t len,
                            struct buf *err)
{
    char *dir = dir_of(name);
    struct config *cfg = parse_common(dir, name, text, len, NULL, 0, err);

    free(dir);
    return cfg;
}

/* Read a regular file of at most limit bytes; -1 with errno on failure. */
static int read_bounded(const char *path, size_t limit, struct buf *out)
{
    char chunk[8192];
    struct stat st;
    ssize_t n;
    int fd, saved;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        saved = errno;
    else if (!S_ISREG(st.st_mode))
        saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    else
        saved = 0;
    if (saved) {
        close(fd);
        errno = saved;
        return -1;
    }
    buf_init(out, limit);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || buf_append(out, chunk, (size_t)n) < 0) {
            saved = n < 0 ? errno : EFBIG;
            close(fd);
            buf_free(out);
            errno = saved;
            return -1;
        }
    }
    close(fd);
    return 0;
}

/* Read DIR/main.cf, with $name uses in DIR/master.cf counted too. */
struct config *config_load(const char *config_dir, struct buf *err)
{
    struct buf path = BUF_INIT, mpath = BUF_INIT, text, mtext;
    struct config *cfg = NULL;
    int have_master;

    (void)buf_printf(&path, "%s/main.cf", config_dir);
    (void)buf_printf(&mpath, "%s/master.cf", config_dir);
    if (read_bounded(buf_str(&path), MAINCF_MAX_FILE, &text) < 0) {
        if (err && errno == EFBIG)
            (void)buf_printf(err, "%s: file larger than %d bytes\n",
                             buf_str(&path), MAINCF_MAX_FILE);
        else if (err)
            (void)buf_printf(err, "open %s: %s\n", buf_str(&path), strerror(errno));
    } else {
        have_master = read_bounded(buf_str(&mpath), MAINCF_MAX_FILE, &mtext) == 0;
        cfg = parse_common(config_dir, buf_str(&path), buf_str(&text), text.len,
                           have_master ? buf_str(&mtext) : NULL,
                           have_master ? mtext.len : 0, err);
        if (have_master)
            buf_free(&mtext);
        buf_free(&text);
    }
    buf_free(&path);
    buf_free(&mpath);
    return cfg;
}

/* Defaults only. */
struct config *config_defaults(void)
{
    struct config *cfg = parse_common("", "", "", 0, NULL, 0, NULL);

    if (cfg == NULL)
        msg_panic("config_defaults: the compiled-in defaults do not evaluate");
    free(cfg->dir);
    cfg->dir = xstrdup(find_entry(cfg, "config_directory")->value);
    return cfg;
}

/* Free a config and everything it owns. */
void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->count; i++) {
        entry_clear(&cfg->ents[i]);
        free(cfg->ents[i].name);
        free(cfg->ents[i].raw);
        free(cfg->ents[i].origin);
    }
    free(cfg->ents);
    free(cfg->names_set);
    free(cfg->dir);
    free(cfg->file);
    free(cfg->host);
    free(cfg);
}

/* Set name=value on top of main.cf; on failure cfg is unchanged. */
int config_override(struct config *cfg, const char *name, const char *value,
                    const char *origin, struct buf *err)
{
    struct errlist el = {0};
    struct entry *e = find_entry(cfg, name);
    char *old_raw, *old_origin;
    int old_set;

    if (e == NULL) {
        if (err)
            (void)buf_printf(err, "%s: unknown parameter: %s\n", origin, name);
        return -1;
    }
    if (strlen(value) > MAINCF_MAX_VALUE) {
        if (err)
            (void)buf_printf(err, "%s: value of %s longer than %d bytes\n",
                             origin, name, MAINCF_MAX_VALUE);
        return -1;
    }
    old_raw = e->raw;
    old_origin = e->origin;
    old_set = e->set;
    e->raw = xstrdup(value);
    e->origin = xstrdup(origin);
    e->set = 1;
    if (evaluate_all(cfg, &el) == 0) {
        free(old_raw);
        free(old_origin);
        return 0;
    }
    err_flush(&el, origin, err);
    free(e->raw);
    free(e->origin);
    e->raw = old_raw;
    e->origin = old_origin;
    e->set = old_set;
    if (evaluate_all(cfg, &el) != 0)
        msg_panic("config_override: cannot restore %s", name);
    return -1;
}

/* A deep copy of cfg (for trying an override without changing cfg). */
static struct config *config_copy(const struct config *cfg)
{
    struct config *c = xcalloc(1, sizeof(*c));
    struct errlist el = {0};

    c->dir = xstrdup(cfg->dir);
    c->file = xstrdup(cfg->file);
    c->host = cfg->host ? xstrdup(cfg->host) : NULL;
    c->count = cfg->count;
    c->ents = xcalloc(cfg->count, sizeof(*c->ents));
    for (size_t i = 0; i < cfg->count; i++) {
        const struct entry *s = &cfg->ents[i];
        struct entry *d = &c->ents[i];

        *d = *s;
        d->name = xstrdup(s->name);
        d->raw = xstrdup(s->raw);
        d->origin = s->origin ? xstrdup(s->origin) : NULL;
        d->value = NULL;
        d->list = NULL;
    }
    if (evaluate_all(c, &el) != 0)
        msg_panic("config_copy: copy does not evaluate");
    return c;
}

/* Would name=value be accepted? cfg is not changed. */
int config_check_value(const struct config *cfg, const char *name,
                       const char *value, const char *origin, struct buf *err)
{
    struct config *copy;
    int r;

    if (find_entry(cfg, name) == NULL) {
        if (err)
            (void)buf_printf(err, "%s: unknown parameter: %s\n", origin, name);
        return -1;
    }
    copy = config_copy(cfg);
    r = config_override(copy, name, value, origin, err);
    config_free(copy);
    return r;
}

const char *config_dir(const struct config *cfg)
{
    return cfg->dir;
}

const char *config_file(const struct config *cfg)
{
    return cfg->file;
}

/* Set in main.cf or by override? */
int config_is_set(const struct config *cfg, const char *name)
{
    const struct entry *e = find_entry(cfg, name);

    return e != NULL && e->set;
}

/* Known or user-defined? */
int config_has(const struct config *cfg, const char *name)
{
    return find_entry(cfg, name) != NULL;
}

/* Raw value; NULL for an unknown name. */
const char *config_raw(const struct config *cfg, const char *name)
{
    const struct entry *e = find_entry(cfg, name);

    return e ? e->raw : NULL;
}

/* The entry for a getter; a bad name or type is a bug. */
static const struct entry *getter_entry(const struct config *cfg, const char *name,
                                        int type, const char *getter)
{
    const struct entry *e = find_entry(cfg, name);

    if (e == NULL)
        msg_panic("%s: unknown parameter %s", getter, name);
    if (type >= 0 && (e->def == NULL || e->def->type != (enum param_type)type))
        msg_panic("%s: parameter %s is of type %s", getter, name,
                  e->def ? param_type_name(e->def->type) : "user-defined string");
    if (e->state != X_DONE)
        msg_panic("%s: parameter %s has no valid value", getter, name);
    return e;
}

/* Expanded value, any type. */
const char *config_str(const struct config *cfg, const char *name)
{
    return getter_entry(cfg, name, -1, "config_str")->value;
}

int config_bool(const struct config *cfg, const char *name)
{
    return (int)getter_entry(cfg, name, PT_BOOL, "config_bool")->num;
}

long config_int(const struct config *cfg, const char *name)
{
    return getter_entry(cfg, name, PT_INT, "config_int")->num;
}

long config_time(const struct config *cfg, const char *name)
{
    return getter_entry(cfg, name, PT_TIME, "config_time")->num;
}

uint64_t config_size(const struct config *cfg, const char *name)
{
    return getter_entry(cfg, name, PT_SIZE, "config_size")->size;
}

/* Items of the expanded value, any type. */
char *const *config_list(const struct config *cfg, const char *name)
{
    return getter_entry(cfg, name, -1, "config_list")->list;
}

/* Expand $name in text against cfg; out receives the result. */
int config_expand(const struct config *cfg, const char *text,
                  struct buf *out, struct buf *err)
{
    struct errlist el = {0};
    struct xctx x;
    struct buf tmp;
    int depth = 0, r;

    memset(&x, 0, sizeof(x));
    /* Every entry of a returned config is X_DONE: nothing below writes. */
    x.cfg = (struct config *)cfg;
    x.errs = &el;
    buf_init(&tmp, MAINCF_MAX_VALUE);
    r = expand_text(&x, text, strlen(text), &tmp, &depth, 0);
    if (r == 0 && buf_set(out, buf_str(&tmp)) < 0) {
        err_add(&el, 0, "expanded value longer than %zu bytes", out->limit);
        r = -1;
    }
    buf_free(&tmp);
    err_flush(&el, "", err);
    return r;
}

/* Names set in main.cf, in the order first set. */
char *const *config_names_set(const struct config *cfg)
{
    return cfg->names_set;
}
