/*
 * dict_regexp - regexp:/path, Postfix's regexp_table(5) with POSIX
 * regular expressions (<regex.h>). The rule syntax lives in
 * pattern_table.c; this file is the engine.
 *
 * Flags toggle, as in Postfix: i (on by default: case-insensitive),
 * x (on by default: extended syntax, REG_EXTENDED; toggled off gives
 * basic regular expressions), m (off by default: REG_NEWLINE, '^' and
 * '$' also match at newlines and '.' does not match a newline).
 *
 * Known limit: glibc's regexec cannot be bounded in time, and patterns
 * with back-references can be slow on long keys; pcre: has a match limit.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pattern_table.h"

/* Bounded repetitions multiply out in glibc's compiler: cap the estimate. */
#define REGEXP_MAX_WEIGHT   100000

struct regexp_state {
    regmatch_t *pm;
    size_t n;
};

/*
 * A rough size of what regcomp() will build: a bounded repetition
 * x{m,n} costs n copies of x, x+ two, and nesting and chaining multiply. glibc expands these
 * when compiling, so "((a{255}){255}){255}" would take gigabytes.
 */
static int too_heavy_weight(const char *re, int extended);

/*
 * Stacked repetition operators ("a?+++", "a*{2}+") mean nothing more than
 * one of them, and glibc's regcomp() can take memory exponential in their
 * number: refuse a run of more than two.
 */
static int stacked_repeats(const char *re, int extended)
{
    int run = 0;

    for (const char *p = re; *p; p++) {
        int rep;

        if (extended) {
            if (*p == '\\' && p[1]) {
                p++;
                run = 0;
                continue;
            }
            rep = (*p == '*' || *p == '+' || *p == '?');
            if (*p == '{') {
                const char *q = p + 1 + strspn(p + 1, "0123456789,");

                if (*q == '}' && q > p + 1) {
                    rep = 1;
                    p = q;
                }
            }
        } else {
            rep = (*p == '*') || (p[0] == '\\' && (p[1] == '+' || p[1] == '?'));
            if (p[0] == '\\' && p[1])
                p++;
        }
        run = rep ? run + 1 : 0;
        if (run > 2)
            return 1;
    }
    return 0;
}

static int too_heavy(const char *re, int extended)
{
    if (stacked_repeats(re, extended))
        return 1;
    return too_heavy_weight(re, extended);
}

static int too_heavy_weight(const char *re, int extended)
{
    /* weight of the current sequence at each group depth, and of its last atom */
    enum { DEPTH = 64 };
    double seq[DEPTH], last[DEPTH];
    int d = 0;

    seq[0] = last[0] = 0;
    for (const char *p = re; *p; p++) {
        int open = extended ? (*p == '(') : (p[0] == '\\' && p[1] == '(');
        int close = extended ? (*p == ')') : (p[0] == '\\' && p[1] == ')');
        int brace = extended ? (*p == '{') : (p[0] == '\\' && p[1] == '{');

        if (open) {
            if (!extended)
                p++;
            if (++d >= DEPTH)
                return 1;
            seq[d] = last[d] = 0;
        } else if (close && d > 0) {
            if (!extended)
                p++;
            last[d - 1] = seq[d] + 1;
            seq[d - 1] += last[d - 1];
            d--;
        } else if (brace) {
            /* {m}, {m,}, {m,n}: the largest bound counts (m + 1 for {m,}) */
            double m = 0, n = 0, *cur = &m;
            const char *q = p + (extended ? 1 : 2);

            for (; (*q >= '0' && *q <= '9') || *q == ','; q++) {
                if (*q == ',') {
                    cur = &n;
                    n = -1;
                } else {
                    if (*cur < 0)
                        *cur = 0;
                    *cur = *cur * 10 + (*q - '0');
                    if (*cur > 1e6)
                        *cur = 1e6;
                }
            }
            if (n < 0)
                n = m + 1;
            if (m > n)
                n = m;
            seq[d] += last[d] * (n > 1 ? n - 1 : 0);
            last[d] *= n > 1 ? n : 1;
            p = q - 1;
        } else if (extended ? *p == '+' : (p[0] == '\\' && p[1] == '+')) {
            /* glibc compiles x+ as x x*: one more copy of the last atom */
            if (!extended)
                p++;
            seq[d] += last[d];
            last[d] *= 2;
        } else if (*p == '[') {
            /* a bracket expression is one atom: skip it */
            const char *q = p + 1;

            if (*q == '^')
                q++;
            if (*q == ']')
                q++;
            for (; *q && *q != ']'; q++)
                if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
                    const char *e = strchr(q + 2, q[1]);

                    if (e == NULL || e[1] != ']')
                        break;
                    q = e + 1;
                }
            if (*q == 0)
                break;
            p = q;
            last[d] = 1;
            seq[d] += 1;
        } else {
            if (*p == '\\' && p[1])
                p++;
            last[d] = 1;
            seq[d] += 1;
        }
        if (seq[d] > REGEXP_MAX_WEIGHT || last[d] > REGEXP_MAX_WEIGHT)
            return 1;
    }
    return 0;
}

static void *regexp_compile(const char *re, const char *flags, int want_sub,
                            size_t *nsub, struct buf *err)
{
    int cflags = REG_EXTENDED | REG_ICASE, rc;
    regex_t *rx;

    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i': cflags ^= REG_ICASE; break;
        case 'm': cflags ^= REG_NEWLINE; break;
        case 'x': cflags ^= REG_EXTENDED; break;
        default:
            (void)buf_printf(err, "unknown regexp flag \"%c\" (known: i, m, x)", *f);
            return NULL;
        }
    }
    if (too_heavy(re, cflags & REG_EXTENDED)) {
        (void)buf_printf(err, "regular expression too complex (nested or large"
                         " repetition counts)");
        return NULL;
    }
    if (!want_sub)
        cflags |= REG_NOSUB;
    rx = xmalloc(sizeof(*rx));
    if ((rc = regcomp(rx, re, cflags)) != 0) {
        char msg[256];

        (void)regerror(rc, rx, msg, sizeof(msg));
        (void)buf_printf(err, "bad regular expression \"%.100s%s\": %s", re,
                         strlen(re) > 100 ? "..." : "", msg);
        free(rx);
        return NULL;
    }
    *nsub = rx->re_nsub;
    return rx;
}

static void *regexp_state_new(size_t nvec)
{
    struct regexp_state *st = xmalloc(sizeof(*st));

    st->n = nvec;
    st->pm = xcalloc(nvec ? nvec : 1, sizeof(*st->pm));
    return st;
}

static void regexp_state_free(void *state)
{
    struct regexp_state *st = state;

    free(st->pm);
    free(st);
}

static int regexp_match(void *re, void *state, const char *subject, size_t len,
                        size_t *ovec, size_t nvec, struct buf *why)
{
    struct regexp_state *st = state;
    int rc;

    (void)len;
    if (nvec > st->n)
        nvec = st->n;
    rc = regexec(re, subject, nvec, nvec ? st->pm : NULL, 0);
    if (rc == REG_NOMATCH)
        return 0;
    if (rc != 0) {
        char msg[256];

        (void)regerror(rc, re, msg, sizeof(msg));
        (void)buf_printf(why, "regexec: %s", msg);
        return -1;
    }
    for (size_t i = 0; i < nvec; i++) {
        ovec[2 * i] = st->pm[i].rm_so < 0 ? PTAB_UNSET : (size_t)st->pm[i].rm_so;
        ovec[2 * i + 1] = st->pm[i].rm_eo < 0 ? PTAB_UNSET : (size_t)st->pm[i].rm_eo;
    }
    return 1;
}

static void regexp_free(void *re)
{
    regfree(re);
    free(re);
}

static const struct ptab_engine regexp_engine = {
    .type = "regexp",
    .second_pattern = 1,
    .compile = regexp_compile,
    .state_new = regexp_state_new,
    .state_free = regexp_state_free,
    .match = regexp_match,
    .free = regexp_free,
};

static struct dict *regexp_open(const char *name, int flags, const struct config *cfg,
                                struct buf *err);

const struct dict_ops dict_regexp_ops = {
    .type = "regexp",
    .caps = DICT_CAP_PATTERN,
    .open = regexp_open,
    .lookup = ptab_lookup,
    .close = ptab_close,
};

static struct dict *regexp_open(const char *name, int flags, const struct config *cfg,
                                struct buf *err)
{
    (void)flags;
    (void)cfg;
    return ptab_open(&dict_regexp_ops, &regexp_engine, name, err);
}

struct dict *dict_regexp_open_text(const char *name, const char *text, size_t len,
                                   struct buf *err)
{
    return ptab_open_text(&dict_regexp_ops, &regexp_engine, name, text, len, err);
}
