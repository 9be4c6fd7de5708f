/*
 * pattern_table - rule syntax, if/endif and $n substitution shared by the
 * regexp: and pcre: tables (see pattern_table.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logical_line.h"
#include "mem.h"
#include "pattern_table.h"

#define IS_ALNUM(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') \
                     || ((c) >= '0' && (c) <= '9'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

enum { OP_MATCH, OP_IF, OP_ENDIF };

/* One piece of a result: literal text, or the text of group n. */
struct seg {
    size_t n;                   /* 0: literal lit[off, off+len) */
    size_t off, len;
};

struct tmpl {
    char *lit;                  /* literal text, $$ already made '$' */
    struct seg *seg;
    size_t nseg;
    size_t max_sub;             /* largest $n; 0: the result is lit */
};

struct rule {
    int op;
    int line;
    void *re, *re2;             /* re2: /pat1/!/pat2/ (regexp) */
    int match, match2;          /* 1: pattern must match; 0: must not */
    size_t endif;               /* OP_IF: index of its endif */
    struct tmpl res;
};

struct ptab {
    struct dict dict;           /* must be first */
    const struct ptab_engine *eng;
    struct rule *rules;
    size_t n, cap;
    size_t max_nvec;            /* for the offset vector */
    size_t *ovec;
    void *state;
};

/* Parser state while a table is read. */
struct parse {
    struct ptab *pt;
    const char *name;
    struct buf *err;
    int errors;
    size_t *stack;              /* open if rules (indexes) */
    size_t depth, stack_cap;
};

/* One "/re/flags" taken from a line. */
struct pat {
    int match;
    char *re;                   /* points into the line */
    char *flags;                /* malloc()ed */
};

static void tmpl_free(struct tmpl *t)
{
    free(t->lit);
    free(t->seg);
    memset(t, 0, sizeof(*t));
}

static void rule_free(const struct ptab_engine *eng, struct rule *r)
{
    if (r->re)
        eng->free(r->re);
    if (r->re2)
        eng->free(r->re2);
    tmpl_free(&r->res);
}

/*
 * Take "[!...]DELIM re DELIM flags" from *pp. The pattern is terminated in
 * place. stop_bang: a '!' ends the flags (/pat1/!/pat2/).
 */
static int get_pattern(struct parse *ps, int line, char **pp, struct pat *pat, int stop_bang)
{
    char *p = *pp, *start;
    char delim;

    pat->match = 1;
    pat->re = NULL;
    pat->flags = NULL;
    for (; *p == '!' || LLINE_SPACE(*p); p++)
        if (*p == '!')
            pat->match = !pat->match;
    if (*p == 0) {
        lline_error(ps->err, &ps->errors, ps->name, line, "missing pattern");
        return -1;
    }
    delim = *p;
    if (IS_ALNUM(delim) || delim == '\\') {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "bad pattern delimiter \"%c\": use a character that is not a letter,"
                    " digit, backslash or white space, such as \"/\"", delim);
        return -1;
    }
    pat->re = ++p;
    for (; *p && *p != delim; p++)
        if (*p == '\\' && p[1] != 0)
            p++;
    if (*p == 0) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "no closing pattern delimiter \"%c\"", delim);
        return -1;
    }
    *p++ = 0;
    start = p;
    while (*p && !LLINE_SPACE(*p) && !(stop_bang && *p == '!'))
        p++;
    pat->flags = xstrndup(start, (size_t)(p - start));
    *pp = p;
    return 0;
}

/* Check a $name and return its number, or 0 after an error. */
static size_t sub_index(struct parse *ps, int line, const char *name, size_t len)
{
    size_t n = 0;

    if (len == 0) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "empty $ reference in result (write $$ for a \"$\")");
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!IS_DIGIT(name[i])) {
            lline_error(ps->err, &ps->errors, ps->name, line,
                        "non-numeric replacement index \"%.*s\" in result (write ${n} when"
                        " text follows, $$ for a \"$\")", (int)(len > 64 ? 64 : len), name);
            return 0;
        }
        if (n <= PTAB_MAX_SUB)
            n = n * 10 + (size_t)(name[i] - '0');
    }
    if (n < 1 || n > PTAB_MAX_SUB) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "out of range replacement index \"%.*s\" (use $1 to $%d)",
                    (int)(len > 64 ? 64 : len), name, PTAB_MAX_SUB);
        return 0;
    }
    return n;
}

static void add_seg(struct tmpl *t, size_t *cap, size_t n, size_t off, size_t len)
{
    if (n == 0 && len == 0)
        return;
    if (n == 0 && t->nseg > 0 && t->seg[t->nseg - 1].n == 0
        && t->seg[t->nseg - 1].off + t->seg[t->nseg - 1].len == off) {
        t->seg[t->nseg - 1].len += len;
        return;
    }
    if (t->nseg == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        t->seg = xreallocarray(t->seg, *cap, sizeof(*t->seg));
    }
    t->seg[t->nseg].n = n;
    t->seg[t->nseg].off = off;
    t->seg[t->nseg].len = len;
    t->nseg++;
}

/* Compile a result text into literal pieces and $n references. */
static int tmpl_parse(struct parse *ps, int line, const char *s, struct tmpl *t)
{
    size_t len = strlen(s), o = 0, cap = 0, refs = 0, lit_start = 0;
    int bad = 0;

    memset(t, 0, sizeof(*t));
    t->lit = xmalloc(len + 1);
    for (const char *p = s; *p;) {
        const char *name;
        size_t nlen, n;

        if (*p != '$') {
            t->lit[o++] = *p++;
            continue;
        }
        p++;
        if (*p == '$') {
            t->lit[o++] = '$';
            p++;
            continue;
        }
        if (*p == '{' || *p == '(') {
            char close = *p == '{' ? '}' : ')';
            const char *end = strchr(p + 1, close);

            if (end == NULL) {
                lline_error(ps->err, &ps->errors, ps->name, line,
                            "unbalanced \"%c\" in result", *p);
                bad = 1;
                break;
            }
            name = p + 1;
            nlen = (size_t)(end - name);
            p = end + 1;
        } else {
            name = p;
            while (IS_ALNUM(*p) || *p == '_')
                p++;
            nlen = (size_t)(p - name);
        }
        if ((n = sub_index(ps, line, name, nlen)) == 0) {
            bad = 1;
            continue;
        }
        add_seg(t, &cap, 0, lit_start, o - lit_start);
        lit_start = o;
        add_seg(t, &cap, n, 0, 0);
        refs++;
        if (n > t->max_sub)
            t->max_sub = n;
    }
    t->lit[o] = 0;
    add_seg(t, &cap, 0, lit_start, o - lit_start);
    if (!bad && refs > 0
        && (refs > DICT_MAX_VALUE / DICT_MAX_KEY
            || o > DICT_MAX_VALUE - refs * DICT_MAX_KEY)) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "result with %zu $n references may expand to more than %d bytes",
                    refs, DICT_MAX_VALUE);
        bad = 1;
    }
    if (bad) {
        tmpl_free(t);
        return -1;
    }
    return 0;
}

/* Compile one pattern; NULL after an error. */
static void *compile(struct parse *ps, int line, const struct pat *pat, int want_sub,
                     size_t *nsub)
{
    struct buf why = BUF_INIT;
    void *re;

    re = ps->pt->eng->compile(pat->re, pat->flags, want_sub, nsub, &why);
    if (re == NULL)
        lline_error(ps->err, &ps->errors, ps->name, line, "%s", buf_str(&why));
    buf_free(&why);
    return re;
}

static struct rule *new_rule(struct ptab *pt, int op, int line)
{
    struct rule *r;

    if (pt->n == pt->cap) {
        pt->cap = pt->cap ? pt->cap * 2 : 16;
        pt->rules = xreallocarray(pt->rules, pt->cap, sizeof(*pt->rules));
    }
    r = &pt->rules[pt->n++];
    memset(r, 0, sizeof(*r));
    r->op = op;
    r->line = line;
    r->match = r->match2 = 1;
    return r;
}

/* "/re/flags result", "!/re/ result", "/re1/!/re2/ result". */
static void parse_match(struct parse *ps, char *p, int line)
{
    const struct ptab_engine *eng = ps->pt->eng;
    struct pat p1, p2 = { 1, NULL, NULL };
    struct tmpl res;
    size_t nsub = 0, nsub2;
    void *re = NULL, *re2 = NULL;
    struct rule *r;

    if (get_pattern(ps, line, &p, &p1, eng->second_pattern) < 0)
        return;
    if (eng->second_pattern && *p == '!'
        && get_pattern(ps, line, &p, &p2, 1) < 0)
        goto out;
    if (*p && !LLINE_SPACE(*p)) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "unexpected \"%c\" after pattern", *p);
        goto out;
    }
    while (LLINE_SPACE(*p))
        p++;
    if (*p == 0) {
        lline_error(ps->err, &ps->errors, ps->name, line, "missing result after pattern");
        goto out;
    }
    if (tmpl_parse(ps, line, p, &res) < 0)
        goto out;
    if (res.max_sub > 0 && !p1.match) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "$%zu in the result of a negated pattern (it matches nothing)",
                    res.max_sub);
        tmpl_free(&res);
        goto out;
    }
    re = compile(ps, line, &p1, res.max_sub > 0, &nsub);
    if (re != NULL && res.max_sub > nsub) {
        lline_error(ps->err, &ps->errors, ps->name, line,
                    "out of range replacement index \"$%zu\": the pattern has %zu group%s",
                    res.max_sub, nsub, nsub == 1 ? "" : "s");
        eng->free(re);
        re = NULL;
    }
    if (p2.re != NULL)
        re2 = compile(ps, line, &p2, 0, &nsub2);
    if (re == NULL || (p2.re != NULL && re2 == NULL)) {
        if (re)
            eng->free(re);
        if (re2)
            eng->free(re2);
        tmpl_free(&res);
        goto out;
    }
    r = new_rule(ps->pt, OP_MATCH, line);
    r->re = re;
    r->match = p1.match;
    r->re2 = re2;
    r->match2 = p2.match;
    r->res = res;
    if (res.max_sub + 1 > ps->pt->max_nvec)
        ps->pt->max_nvec = res.max_sub + 1;
out:
    free(p1.flags);
    free(p2.flags);
}

/* Is the line the keyword kw (case-insensitive), not followed by [A-Za-z0-9]? */
static int keyword(const char *p, const char *kw)
{
    size_t n = strlen(kw);

    return strncasecmp(p, kw, n) == 0 && !IS_ALNUM(p[n]);
}

static void parse_if(struct parse *ps, char *p, int line)
{
    struct pat pat;
    size_t nsub;
    void *re = NULL;
    struct rule *r;

    /* Even a bad if opens a block, so that its endif is no further error. */
    if (get_pattern(ps, line, &p, &pat, 0) == 0) {
        while (LLINE_SPACE(*p))
            p++;
        if (*p)
            lline_error(ps->err, &ps->errors, ps->name, line,
                        "text after the pattern of \"if\" (lines between if and endif"
                        " must not start with white space)");
        else
            re = compile(ps, line, &pat, 0, &nsub);
        free(pat.flags);
    }
    r = new_rule(ps->pt, OP_IF, line);
    r->re = re;
    r->match = pat.match;
    if (ps->depth == ps->stack_cap) {
        ps->stack_cap = ps->stack_cap ? ps->stack_cap * 2 : 8;
        ps->stack = xreallocarray(ps->stack, ps->stack_cap, sizeof(*ps->stack));
    }
    ps->stack[ps->depth++] = ps->pt->n - 1;
}

static void parse_endif(struct parse *ps, char *p, int line)
{
    while (LLINE_SPACE(*p))
        p++;
    if (*p) {
        lline_error(ps->err, &ps->errors, ps->name, line, "text after \"endif\"");
        return;
    }
    if (ps->depth == 0) {
        lline_error(ps->err, &ps->errors, ps->name, line, "endif without a matching if");
        return;
    }
    (void)new_rule(ps->pt, OP_ENDIF, line);
    ps->pt->rules[ps->stack[--ps->depth]].endif = ps->pt->n - 1;
}

static int parse_line(char *line, size_t len, int lineno, void *arg)
{
    struct parse *ps = arg;

    (void)len;
    if (!IS_ALNUM(*line))
        parse_match(ps, line, lineno);
    else if (keyword(line, "if"))
        parse_if(ps, line + 2, lineno);
    else if (keyword(line, "endif"))
        parse_endif(ps, line + 5, lineno);
    else
        lline_error(ps->err, &ps->errors, ps->name, lineno,
                    "unrecognized line: expected /pattern/ result, if /pattern/ or endif");
    return 0;
}

struct dict *ptab_open_text(const struct dict_ops *ops, const struct ptab_engine *eng,
                            const char *name, const char *text, size_t len,
                            struct buf *err)
{
    struct buf spec = BUF_INIT;
    struct parse ps;
    struct ptab *pt;

    (void)buf_printf(&spec, "%s:%s", ops->type, name);
    pt = (struct ptab *)dict_alloc(sizeof(*pt), ops, buf_str(&spec), 0);
    buf_free(&spec);
    pt->eng = eng;
    pt->max_nvec = 1;
    memset(&ps, 0, sizeof(ps));
    ps.pt = pt;
    ps.name = name;
    ps.err = err;
    (void)lline_parse(name, text, len, PTAB_MAX_LINE, parse_line, &ps, err, &ps.errors);
    while (ps.depth > 0)
        lline_error(err, &ps.errors, name, pt->rules[ps.stack[--ps.depth]].line,
                    "if without a matching endif");
    free(ps.stack);
    if (ps.errors > 0) {
        ptab_close(&pt->dict);
        return NULL;
    }
    pt->ovec = xcalloc(2 * pt->max_nvec, sizeof(*pt->ovec));
    pt->state = eng->state_new(pt->max_nvec);
    return &pt->dict;
}

struct dict *ptab_open(const struct dict_ops *ops, const struct ptab_engine *eng,
                       const char *name, struct buf *err)
{
    struct buf text = BUF_INIT;
    struct dict *d;

    buf_init(&text, PTAB_MAX_FILE + 1);
    if (lline_read_file(name, PTAB_MAX_FILE, &text, err) < 0) {
        buf_free(&text);
        return NULL;
    }
    d = ptab_open_text(ops, eng, name, buf_str(&text), text.len, err);
    buf_free(&text);
    return d;
}

/* Match one pattern; -1 with why (prefixed with table and line). */
static int try_match(struct ptab *pt, const struct rule *r, void *re, const char *key,
                     size_t len, size_t nvec, struct buf *why)
{
    struct buf tmp = BUF_INIT;
    int m = pt->eng->match(re, pt->state, key, len, pt->ovec, nvec, &tmp);

    if (m < 0)
        (void)buf_printf(why, "%s, line %d: %s", pt->dict.spec, r->line, buf_str(&tmp));
    buf_free(&tmp);
    return m;
}

/* Append the result of rule r, with the groups of the last match. */
static int expand(struct ptab *pt, const struct rule *r, const char *key, struct buf *value,
                  struct buf *why)
{
    const struct tmpl *t = &r->res;
    int rc = 0;

    for (size_t i = 0; i < t->nseg && rc == 0; i++) {
        const struct seg *s = &t->seg[i];

        if (s->n == 0) {
            rc = buf_append(value, t->lit + s->off, s->len);
        } else {
            size_t so = pt->ovec[2 * s->n], eo = pt->ovec[2 * s->n + 1];

            if (so != PTAB_UNSET && eo != PTAB_UNSET && eo > so)
                rc = buf_append(value, key + so, eo - so);
        }
        if (rc == 0 && value->len > DICT_MAX_VALUE)
            rc = -1;
    }
    if (rc < 0) {
        buf_reset(value);
        (void)buf_printf(why, "%s, line %d: result longer than %d bytes", pt->dict.spec,
                         r->line, DICT_MAX_VALUE);
        return DICT_TEMPFAIL;
    }
    return DICT_FOUND;
}

int ptab_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    struct ptab *pt = (struct ptab *)d;
    size_t len = strlen(key);
    int m;

    for (size_t i = 0; i < pt->n; i++) {
        const struct rule *r = &pt->rules[i];

        switch (r->op) {
        case OP_MATCH:
            m = try_match(pt, r, r->re, key, len, r->res.max_sub ? r->res.max_sub + 1 : 0,
                          why);
            if (m < 0)
                return DICT_TEMPFAIL;
            if (m != r->match)
                continue;
            if (r->re2 != NULL) {
                m = try_match(pt, r, r->re2, key, len, 0, why);
                if (m < 0)
                    return DICT_TEMPFAIL;
                if (m != r->match2)
                    continue;
            }
            return expand(pt, r, key, value, why);
        case OP_IF:
            m = try_match(pt, r, r->re, key, len, 0, why);
            if (m < 0)
                return DICT_TEMPFAIL;
            if (m != r->match)
                i = r->endif;
            continue;
        default:
            continue;
        }
    }
    return DICT_NOTFOUND;
}

void ptab_close(struct dict *d)
{
    struct ptab *pt = (struct ptab *)d;

    for (size_t i = 0; i < pt->n; i++)
        rule_free(pt->eng, &pt->rules[i]);
    free(pt->rules);
    free(pt->ovec);
    if (pt->state)
        pt->eng->state_free(pt->state);
    dict_free_common(d);
}
