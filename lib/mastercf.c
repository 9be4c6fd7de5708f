/*
 * mastercf - read master.cf into service definitions (see mastercf.h).
 *
 * The text is cut into logical lines (continuation lines that begin with
 * white space, '#' comment lines and blank lines skipped, CRLF accepted),
 * each logical line into words ("{ ... }" groups a word that holds white
 * space), and the words into a struct service_def. Every problem is
 * reported as "FILE, line N: text" and parsing goes on, so one run shows
 * all of them; the result is NULL if there was any.
 *
 * Column defaults: private y (n for inet, which cannot be private),
 * unpriv y, chroot n, wakeup 0, maxproc $default_process_limit.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mastercf.h"
#include "mem.h"
#include "numparse.h"
#include "safe_file.h"

/* Longest logical line, continuation lines included. */
#define MCF_MAX_LINE        (64 * 1024)
/* Columns before the arguments. */
#define MCF_COLUMNS         8
/* Longest unix service name (it becomes private/NAME, a socket path). */
#define MCF_MAX_UNIX_NAME   64
/* Used when there is no cfg to ask for default_process_limit. */
#define MCF_FALLBACK_MAXPROC 100

/* One word of a logical line. */
struct mcf_word {
    char *text;
    int braced;                 /* came from "{ ... }" */
};

/* Parser state for one file. */
struct mcf_parser {
    const char *path;
    const struct config *cfg;
    struct buf *err;
    int errors;
    struct mastercf *mcf;
    int cap;
};

/* Report one problem at line (0: the whole file). */
__attribute__((format(printf, 3, 4)))
static void mcf_error(struct mcf_parser *p, int line, const char *fmt, ...)
{
    va_list ap;

    p->errors++;
    if (line > 0)
        buf_printf(p->err, "%s, line %d: ", p->path, line);
    else
        buf_printf(p->err, "%s: ", p->path);
    va_start(ap, fmt);
    buf_vprintf(p->err, fmt, ap);
    va_end(ap);
    buf_putc(p->err, '\n');
}

/* Free a NULL-terminated string array. */
static void free_argv(char **argv)
{
    char **cpp;

    if (argv == NULL)
        return;
    for (cpp = argv; *cpp; cpp++)
        free(*cpp);
    free(argv);
}

static void service_def_free(struct service_def *s);

/* A malloc()ed copy of a NULL-terminated string vector (NULL stays NULL). */
static char **dup_argv(char **argv)
{
    size_t n = 0;
    char **copy;

    if (argv == NULL)
        return NULL;
    while (argv[n])
        n++;
    copy = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        copy[i] = xstrdup(argv[i]);
    return copy;
}

void service_def_copy(struct service_def *dst, const struct service_def *src)
{
    *dst = *src;
    dst->name = xstrdup(src->name);
    dst->command = xstrdup(src->command);
    dst->args = dup_argv(src->args);
    dst->override_names = dup_argv(src->override_names);
    dst->override_values = dup_argv(src->override_values);
}

void service_def_release(struct service_def *s)
{
    service_def_free(s);
}

/* Release what one service definition owns. */
static void service_def_free(struct service_def *s)
{
    free(s->name);
    free(s->command);
    free_argv(s->args);
    free_argv(s->override_names);
    free_argv(s->override_values);
}

/* Free a parsed master.cf. */
void mastercf_free(struct mastercf *mcf)
{
    int i;

    if (mcf == NULL)
        return;
    for (i = 0; i < mcf->count; i++)
        service_def_free(mcf->services + i);
    free(mcf->services);
    free(mcf->path);
    free(mcf);
}

/* A growable NULL-terminated string array. */
struct strv {
    char **v;
    size_t n;
    size_t cap;
};

/* Append a copy of len bytes of s. */
static void strv_add(struct strv *sv, const char *s, size_t len)
{
    if (sv->n + 2 > sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xreallocarray(sv->v, sv->cap, sizeof(char *));
    }
    sv->v[sv->n++] = xstrndup(s, len);
    sv->v[sv->n] = NULL;
}

/* The array, never NULL (an empty one is allocated). */
static char **strv_take(struct strv *sv)
{
    if (sv->v == NULL)
        sv->v = xcalloc(1, sizeof(char *));
    return sv->v;
}

/* Is c white space as master.cf sees it? */
static int mcf_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
        || c == '\f';
}

/* Trim white space from both ends of s[0..*len) in place; new start. */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && mcf_space((unsigned char)*s)) {
        s++;
        (*len)--;
    }
    while (*len > 0 && mcf_space((unsigned char)s[*len - 1]))
        (*len)--;
    return s;
}

/* Scan a "{ ... }" group at *cp; 0 and the trimmed inside, or -1. */
static int scan_group(struct mcf_parser *p, int line, const char **cp,
                      struct mcf_word *w)
{
    const char *start = *cp + 1, *s = start, *inner;
    int depth = 1;
    size_t len;

    for (; *s && depth > 0; s++) {
        if (*s == '{')
            depth++;
        else if (*s == '}')
            depth--;
    }
    if (depth > 0) {
        mcf_error(p, line, "missing '}' after \"{\"");
        return -1;
    }
    if (*s && !mcf_space((unsigned char)*s)) {
        mcf_error(p, line, "text after '}' must be separated by white space");
        return -1;
    }
    len = (size_t)(s - 1 - start);
    inner = trim(start, &len);
    w->text = xstrndup(inner, len);
    w->braced = 1;
    *cp = s;
    return 0;
}

/* Scan a plain word at *cp; braces inside must balance. */
static int scan_word(struct mcf_parser *p, int line, const char **cp,
                     struct mcf_word *w)
{
    const char *start = *cp, *s = start;
    int depth = 0;

    for (; *s && (depth > 0 || !mcf_space((unsigned char)*s)); s++) {
        if (*s == '{') {
            depth++;
        } else if (*s == '}' && --depth < 0) {
            mcf_error(p, line, "unbalanced '}'");
            return -1;
        }
    }
    if (depth > 0) {
        mcf_error(p, line, "missing '}'");
        return -1;
    }
    w->text = xstrndup(start, (size_t)(s - start));
    w->braced = 0;
    *cp = s;
    return 0;
}

/* Free the words of a split line. */
static void free_words(struct mcf_word *words, int n)
{
    int i;

    for (i = 0; i < n; i++)
        free(words[i].text);
    free(words);
}

/* Split a logical line into words; word count, or -1 after an error. */
static int split_words(struct mcf_parser *p, int line, const char *text,
                       struct mcf_word **out)
{
    struct mcf_word *words = NULL;
    const char *cp = text;
    int n = 0, cap = 0, max = MCF_COLUMNS + MASTERCF_MAX_ARGS, rc;

    for (;;) {
        while (*cp && mcf_space((unsigned char)*cp))
            cp++;
        if (*cp == 0)
            break;
        if (n >= max) {
            mcf_error(p, line, "too many arguments (limit %d)", MASTERCF_MAX_ARGS);
            free_words(words, n);
            return -1;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            words = xreallocarray(words, (size_t)cap, sizeof(*words));
        }
        rc = *cp == '{' ? scan_group(p, line, &cp, words + n)
            : scan_word(p, line, &cp, words + n);
        if (rc < 0) {
            free_words(words, n);
            return -1;
        }
        n++;
    }
    *out = words;
    return n;
}

/* y, n or - (default dflt) for a boolean column. */
static int parse_yn(struct mcf_parser *p, int line, const char *column,
                    const char *s, int dflt, int *out)
{
    if (strcmp(s, "y") == 0)
        *out = 1;
    else if (strcmp(s, "n") == 0)
        *out = 0;
    else if (strcmp(s, "-") == 0)
        *out = dflt;
    else {
        mcf_error(p, line, "bad %s column: \"%s\" (expected y, n or -)", column, s);
        return -1;
    }
    return 0;
}

/* The type column. */
static int parse_type(struct mcf_parser *p, int line, const char *s,
                      enum service_type *type)
{
    if (strcmp(s, "inet") == 0)
        *type = SERVICE_INET;
    else if (strcmp(s, "unix") == 0)
        *type = SERVICE_UNIX;
    else if (strcmp(s, "fifo") == 0 || strcmp(s, "pass") == 0
             || strcmp(s, "unix-dgram") == 0) {
        mcf_error(p, line, "service type %s is not supported; use unix", s);
        return -1;
    } else {
        mcf_error(p, line, "bad service type: \"%s\" (expected inet or unix)", s);
        return -1;
    }
    return 0;
}

/* The wakeup column: '-', or seconds with an optional trailing '?'. */
static int parse_wakeup(struct mcf_parser *p, int line, const char *s,
                        struct service_def *sd)
{
    size_t len = strlen(s);
    char *num;
    long v;
    int rc;

    sd->wakeup = 0;
    sd->wakeup_if_running = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    if (len > 0 && s[len - 1] == '?') {
        sd->wakeup_if_running = 1;
        len--;
    }
    num = xstrndup(s, len);
    rc = len > 0 && isdigit((unsigned char)num[0])
        ? parse_long(num, 0, INT_MAX, &v) : -1;
    free(num);
    if (rc < 0) {
        mcf_error(p, line, "bad wakeup column: \"%s\" "
                  "(expected seconds, optionally followed by '?', or -)", s);
        return -1;
    }
    sd->wakeup = (int)v;
    return 0;
}

/* The maxproc column: '-' ($default_process_limit) or a count, 0 = no limit. */
static int parse_maxproc(struct mcf_parser *p, int line, const char *s,
                         struct service_def *sd)
{
    long v;

    if (strcmp(s, "-") == 0) {
        v = p->cfg ? config_int(p->cfg, "default_process_limit")
            : MCF_FALLBACK_MAXPROC;
        sd->maxproc = v < 0 ? 0 : v > INT_MAX ? INT_MAX : (int)v;
        sd->maxproc_default = 1;
        return 0;
    }
    if (!isdigit((unsigned char)*s) || parse_long(s, 0, INT_MAX, &v) < 0) {
        mcf_error(p, line, "bad maxproc column: \"%s\" (expected a number or -)", s);
        return -1;
    }
    sd->maxproc = (int)v;
    sd->maxproc_default = 0;
    return 0;
}

/* Is s a port: 1..65535 or a TCP name from /etc/services? */
static int port_ok(const char *s)
{
    long v;

    if (*s == 0)
        return 0;
    if (isdigit((unsigned char)*s))
        return parse_long(s, 1, 65535, &v) == 0;
    return getservbyname(s, "tcp") != NULL;
}

/* Is s a plausible host name or IPv4 address (letters, digits, '.', '-')? */
static int host_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-'
            && s[i] != '_')
            return 0;
    return 1;
}

/* Check an inet service name: port, host:port or [v6addr]:port. */
static int check_inet_name(struct mcf_parser *p, int line, const char *name)
{
    const char *colon, *close, *port = name;
    char *addr;
    unsigned char v6[16];
    int ok;

    if (*name == '[') {
        if ((close = strchr(name, ']')) == NULL || close[1] != ':') {
            mcf_error(p, line, "bad inet service \"%s\": expected [address]:port", name);
            return -1;
        }
        addr = xstrndup(name + 1, (size_t)(close - name - 1));
        ok = inet_pton(AF_INET6, addr, v6) == 1;
        free(addr);
        if (!ok) {
            mcf_error(p, line, "bad IPv6 address in inet service \"%s\"", name);
            return -1;
        }
        port = close + 2;
    } else if ((colon = strrchr(name, ':')) != NULL) {
        if (strchr(name, ':') != colon) {
            mcf_error(p, line, "bad inet service \"%s\": "
                      "write an IPv6 address as [address]:port", name);
            return -1;
        }
        if (!host_ok(name, (size_t)(colon - name))) {
            mcf_error(p, line, "bad host name in inet service \"%s\"", name);
            return -1;
        }
        port = colon + 1;
    }
    if (!port_ok(port)) {
        mcf_error(p, line, "bad port in inet service \"%s\": "
                  "expected 1-65535 or a name from /etc/services", name);
        return -1;
    }
    return 0;
}

/* Check a unix service name: it becomes the socket private/NAME or public/NAME. */
static int check_unix_name(struct mcf_parser *p, int line, const char *name)
{
    const char *cp;

    if (*name == '.' || strlen(name) > MCF_MAX_UNIX_NAME) {
        mcf_error(p, line, "bad unix service name \"%s\"", name);
        return -1;
    }
    for (cp = name; *cp; cp++) {
        if (!isalnum((unsigned char)*cp) && !strchr("._+-", *cp)) {
            mcf_error(p, line, "bad unix service name \"%s\": "
                      "use letters, digits, '.', '_', '+' and '-'", name);
            return -1;
        }
    }
    return 0;
}

/* The command column: a name in daemon_directory or an absolute path. */
static int check_command(struct mcf_parser *p, int line, const char *cmd)
{
    if (*cmd == 0 || (*cmd != '/' && strchr(cmd, '/') != NULL)) {
        mcf_error(p, line, "bad command \"%s\": expected a program name "
                  "or an absolute path", cmd);
        return -1;
    }
    return 0;
}

/* Parse the seven columns after the name; -1 if any was bad. */
static int parse_columns(struct mcf_parser *p, int line, struct mcf_word *w,
                         struct service_def *sd)
{
    int bad = 0, type_ok, private_;

    type_ok = parse_type(p, line, w[1].text, &sd->type) == 0;
    bad |= !type_ok;
    if (type_ok && sd->type == SERVICE_INET)
        bad |= check_inet_name(p, line, w[0].text) < 0;
    else if (type_ok)
        bad |= check_unix_name(p, line, w[0].text) < 0;
    if (parse_yn(p, line, "private", w[2].text, 1, &private_) < 0)
        bad = 1;
    else if (type_ok && sd->type == SERVICE_INET && strcmp(w[2].text, "y") == 0) {
        mcf_error(p, line, "inet service cannot be private");
        bad = 1;
    }
    sd->private_ = type_ok && sd->type == SERVICE_INET ? 0 : private_;
    bad |= parse_yn(p, line, "unpriv", w[3].text, 1, &sd->unpriv) < 0;
    bad |= parse_yn(p, line, "chroot", w[4].text, 0, &sd->chroot) < 0;
    if (parse_wakeup(p, line, w[5].text, sd) < 0)
        bad = 1;
    else if (type_ok && sd->type == SERVICE_INET && sd->wakeup > 0) {
        mcf_error(p, line, "wakeup is supported for unix services only");
        bad = 1;
    }
    bad |= parse_maxproc(p, line, w[6].text, sd) < 0;
    bad |= check_command(p, line, w[7].text) < 0;
    return bad ? -1 : 0;
}

/* Check and record one -o name=value (text is what followed -o). */
static int add_override(struct mcf_parser *p, int line, const char *text,
                        int braced, struct strv *args, struct strv *names,
                        struct strv *values)
{
    const char *eq = strchr(text, '='), *name, *value;
    size_t nlen, vlen;
    struct buf origin, why, pair;
    int rc = 0;

    if (eq == NULL || eq == text) {
        mcf_error(p, line, "bad -o argument \"%s\": expected name=value", text);
        return -1;
    }
    nlen = (size_t)(eq - text);
    vlen = strlen(eq + 1);
    name = braced ? trim(text, &nlen) : text;
    value = braced ? trim(eq + 1, &vlen) : eq + 1;
    if (nlen == 0) {
        mcf_error(p, line, "bad -o argument \"%s\": expected name=value", text);
        return -1;
    }
    strv_add(names, name, nlen);
    strv_add(values, value, vlen);
    buf_init(&pair, 0);
    buf_printf(&pair, "%s=%s", names->v[names->n - 1], values->v[values->n - 1]);
    strv_add(args, "-o", 2);
    strv_add(args, pair.data, pair.len);
    buf_free(&pair);
    if (p->cfg) {
        buf_init(&origin, 0);
        buf_init(&why, 0);
        buf_printf(&origin, "%s, line %d", p->path, line);
        if (config_check_value(p->cfg, names->v[names->n - 1],
                               values->v[values->n - 1], buf_str(&origin), &why) < 0) {
            p->errors++;
            if (why.len == 0)
                buf_printf(&why, "%s: bad -o %s", buf_str(&origin),
                           names->v[names->n - 1]);
            buf_puts(p->err, buf_str(&why));
            if (why.data[why.len - 1] != '\n')
                buf_putc(p->err, '\n');
            rc = -1;
        }
        buf_free(&origin);
        buf_free(&why);
    }
    return rc;
}

/* Turn the words after the command into args and -o overrides. */
static int parse_args(struct mcf_parser *p, int line, struct mcf_word *w,
                      int n, struct service_def *sd)
{
    struct strv args = {0}, names = {0}, values = {0};
    int i, bad = 0;

    for (i = MCF_COLUMNS; i < n; i++) {
        if (!w[i].braced && strcmp(w[i].text, "-o") == 0) {
            if (i + 1 >= n) {
                mcf_error(p, line, "-o without name=value");
                bad = 1;
                break;
            }
            i++;
            bad |= add_override(p, line, w[i].text, w[i].braced,
                                &args, &names, &values) < 0;
        } else if (!w[i].braced && strncmp(w[i].text, "-o", 2) == 0) {
            bad |= add_override(p, line, w[i].text + 2, 0,
                                &args, &names, &values) < 0;
        } else {
            strv_add(&args, w[i].text, strlen(w[i].text));
        }
    }
    sd->args = strv_take(&args);
    sd->override_names = strv_take(&names);
    sd->override_values = strv_take(&values);
    return bad ? -1 : 0;
}

/* Parse one logical line that starts at line into p->mcf. */
static void parse_entry(struct mcf_parser *p, int line, const char *text)
{
    static const char *const column_names[MCF_COLUMNS] = {
        "service", "type", "private", "unpriv", "chroot", "wakeup",
        "maxproc", "command",
    };
    struct service_def sd;
    struct mcf_word *w = NULL;
    int n, bad;

    if ((n = split_words(p, line, text, &w)) < 0)
        return;
    if (n < MCF_COLUMNS) {
        mcf_error(p, line, "missing %s", column_names[n]);
        free_words(w, n);
        return;
    }
    memset(&sd, 0, sizeof(sd));
    sd.line = line;
    bad = parse_columns(p, line, w, &sd) < 0;
    bad |= parse_args(p, line, w, n, &sd) < 0;
    sd.name = xstrdup(w[0].text);
    sd.command = xstrdup(w[7].text);
    free_words(w, n);
    if (bad) {
        service_def_free(&sd);
        return;
    }
    if (p->mcf->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->mcf->services = xreallocarray(p->mcf->services, (size_t)p->cap,
                                         sizeof(sd));
    }
    p->mcf->services[p->mcf->count++] = sd;
}

/* Compare services by key, then by line. */
static int cmp_key_line(const void *a, const void *b)
{
    const struct service_def *x = *(const struct service_def *const *)a;
    const struct service_def *y = *(const struct service_def *const *)b;
    int c = strcmp(x->name, y->name);

    if (c == 0)
        c = (int)x->type - (int)y->type;
    if (c == 0)
        c = (x->line > y->line) - (x->line < y->line);
    return c;
}

/* Report every service defined twice (same name and type). */
static void check_duplicates(struct mcf_parser *p)
{
    struct service_def **order;
    struct buf key;
    int i;

    if (p->mcf->count < 2)
        return;
    order = xreallocarray(NULL, (size_t)p->mcf->count, sizeof(*order));
    for (i = 0; i < p->mcf->count; i++)
        order[i] = p->mcf->services + i;
    qsort(order, (size_t)p->mcf->count, sizeof(*order), cmp_key_line);
    buf_init(&key, 0);
    for (i = 1; i < p->mcf->count; i++) {
        if (strcmp(order[i]->name, order[i - 1]->name) == 0
            && order[i]->type == order[i - 1]->type) {
            mcf_error(p, order[i]->line, "duplicate service %s "
                      "(first defined on line %d)",
                      service_def_key(order[i], &key), order[i - 1]->line);
        }
    }
    buf_free(&key);
    free(order);
}

/* Logical-line assembly state. */
struct mcf_lines {
    struct buf text;            /* the logical line so far */
    int start;                  /* its first line number, 0 if none */
    int bad;                    /* already reported: do not parse */
};

/* Hand a finished logical line to parse_entry. */
static void flush_logical(struct mcf_parser *p, struct mcf_lines *ll)
{
    if (ll->start > 0 && !ll->bad)
        parse_entry(p, ll->start, buf_str(&ll->text));
    buf_reset(&ll->text);
    ll->start = 0;
    ll->bad = 0;
}

/* Is this physical line blank or a comment? */
static int skippable(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && mcf_space((unsigned char)s[i]); i++)
        /* void */ ;
    return i == len || s[i] == '#';
}

/* Add one physical line (without its newline) to the logical line state. */
static void add_physical(struct mcf_parser *p, struct mcf_lines *ll,
                         const char *s, size_t len, int lineno)
{
    int has_nul = memchr(s, 0, len) != NULL;

    if (len > 0 && s[len - 1] == '\r')
        len--;
    if (!has_nul && skippable(s, len))
        return;
    if (len > 0 && mcf_space((unsigned char)s[0])) {
        if (ll->start == 0) {
            mcf_error(p, lineno, "continuation line without a service to continue");
            return;
        }
    } else {
        flush_logical(p, ll);
        ll->start = lineno;
    }
    if (ll->bad)
        return;
    if (has_nul) {
        mcf_error(p, lineno, "NUL byte in line");
        ll->bad = 1;
    } else if ((ll->text.len > 0 && buf_putc(&ll->text, ' ') < 0)
               || buf_append(&ll->text, s, len) < 0) {
        mcf_error(p, ll->start, "line too long (limit %d bytes)", MCF_MAX_LINE);
        ll->bad = 1;
    }
}

/* Parse master.cf text; NULL with every problem in err. */
struct mastercf *mastercf_parse(const char *path, const char *text, size_t len,
                                const struct config *cfg, struct buf *err)
{
    struct mcf_parser p;
    struct mcf_lines ll;
    const char *s = text, *end = text + len, *nl;
    int lineno = 0;

    memset(&p, 0, sizeof(p));
    p.path = path;
    p.cfg = cfg;
    p.err = err;
    if (len > MASTERCF_MAX_FILE) {
        mcf_error(&p, 0, "file too large (%zu bytes, limit %d)", len,
                  MASTERCF_MAX_FILE);
        return NULL;
    }
    p.mcf = xcalloc(1, sizeof(*p.mcf));
    p.mcf->path = xstrdup(path);
    buf_init(&ll.text, MCF_MAX_LINE);
    ll.start = ll.bad = 0;
    while (s < end) {
        if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
            nl = end;
        add_physical(&p, &ll, s, (size_t)(nl - s), ++lineno);
        s = nl < end ? nl + 1 : end;
    }
    flush_logical(&p, &ll);
    buf_free(&ll.text);
    check_duplicates(&p);
    if (p.errors > 0) {
        mastercf_free(p.mcf);
        return NULL;
    }
    return p.mcf;
}

/* Read and parse the file path. */
struct mastercf *mastercf_load(const char *path, const struct config *cfg,
                               struct buf *err)
{
    struct buf text;
    struct mastercf *mcf;

    buf_init(&text, MASTERCF_MAX_FILE);
    if (read_file(path, MASTERCF_MAX_FILE, &text) < 0) {
        if (errno == EFBIG)
            buf_printf(err, "%s: file too large (limit %d bytes)\n", path,
                       MASTERCF_MAX_FILE);
        else
            buf_printf(err, "%s: %s\n", path, strerror(errno));
        buf_free(&text);
        return NULL;
    }
    mcf = mastercf_parse(path, buf_str(&text), text.len, cfg, err);
    buf_free(&text);
    return mcf;
}

/* Are two NULL-terminated string arrays equal? */
static int argv_equal(char *const *a, char *const *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    for (; *a && *b; a++, b++)
        if (strcmp(*a, *b) != 0)
            return 0;
    return *a == NULL && *b == NULL;
}

/* Same service with the same settings (the line number does not count)? */
int service_def_equal(const struct service_def *a, const struct service_def *b)
{
    return strcmp(a->name, b->name) == 0 && a->type == b->type
        && a->private_ == b->private_ && a->unpriv == b->unpriv
        && a->chroot == b->chroot && a->wakeup == b->wakeup
        && a->wakeup_if_running == b->wakeup_if_running
        && a->maxproc == b->maxproc && strcmp(a->command, b->command) == 0
        && argv_equal(a->args, b->args)
        && argv_equal(a->override_names, b->override_names)
        && argv_equal(a->override_values, b->override_values);
}

/* Set out to "NAME/TYPE" and return it. */
const char *service_def_key(const struct service_def *s, struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%s/%s", s->name, s->type == SERVICE_INET ? "inet" : "unix");
    return buf_str(out);
}

/* Does a word need "{ ... }" to survive re-parsing? */
static int needs_braces(const char *s)
{
    const char *cp;

    if (*s == 0 || *s == '{')
        return 1;
    for (cp = s; *cp; cp++)
        if (mcf_space((unsigned char)*cp))
            return 1;
    return 0;
}

/* Append one argument, braced if needed; -o pairs as "{ name = value }". */
static void format_arg(struct buf *out, const char *arg, int after_o)
{
    const char *eq;

    buf_putc(out, ' ');
    if (!needs_braces(arg)) {
        buf_puts(out, arg);
    } else if (after_o && (eq = strchr(arg, '=')) != NULL) {
        buf_printf(out, "{ %.*s = %s }", (int)(eq - arg), arg, eq + 1);
    } else {
        buf_printf(out, "{ %s }", arg);
    }
}

/*
 * Append the service as one `postconf -M` line: columns padded as
 * Postfix pads them, '-' for a column at its default.
 */
void service_def_format(const struct service_def *s, struct buf *out)
{
    struct buf wakeup, maxproc;
    char **cpp;
    int after_o = 0;

    buf_init(&wakeup, 0);
    buf_init(&maxproc, 0);
    if (s->wakeup > 0)
        buf_printf(&wakeup, "%d%s", s->wakeup, s->wakeup_if_running ? "?" : "");
    else
        buf_puts(&wakeup, "-");
    if (s->maxproc_default)
        buf_puts(&maxproc, "-");
    else
        buf_printf(&maxproc, "%d", s->maxproc);
    buf_printf(out, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s %s",
               s->name, s->type == SERVICE_INET ? "inet" : "unix",
               s->type == SERVICE_INET || !s->private_ ? "n" : "-",
               s->unpriv ? "-" : "n", s->chroot ? "y" : "-",
               buf_str(&wakeup), buf_str(&maxproc), s->command);
    for (cpp = s->args; cpp && *cpp; cpp++) {
        format_arg(out, *cpp, after_o);
        after_o = strcmp(*cpp, "-o") == 0 && !after_o;
    }
    buf_free(&wakeup);
    buf_free(&maxproc);
}
