/*
 * dict_pcre - pcre:/path, Postfix's pcre_table(5) with PCRE2. The rule
 * syntax lives in pattern_table.c (as for regexp:, but without the
 * /pat1/!/pat2/ form, which pcre_table(5) does not have).
 *
 * Flags toggle, as Postfix documents them:
 *   i  (on)  PCRE2_CASELESS       m  (off) PCRE2_MULTILINE
 *   s  (on)  PCRE2_DOTALL         x  (off) PCRE2_EXTENDED
 *   A  (off) PCRE2_ANCHORED       E  (off) PCRE2_DOLLAR_ENDONLY
 *   U  (off) PCRE2_UNGREEDY
 *   X  PCRE_EXTRA ("an unknown backslash escape is an error"): PCRE2
 *      always behaves so, which is what Postfix built with PCRE2 does;
 *      accepted and changes nothing.
 *
 * Not available: UTF mode; a pattern that asks for it with (*UTF) is
 * refused, since keys are arbitrary bytes and an invalid UTF-8 key would
 * make every lookup fail.
 *
 * Every match runs under a match limit, a depth limit and a heap limit
 * so that a pathological pattern (catastrophic backtracking) cannot hang
 * a daemon: reaching one is DICT_TEMPFAIL with the reason.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pattern_table.h"

#define PCRE_MATCH_LIMIT    1000000     /* backtracking steps per match */
#define PCRE_DEPTH_LIMIT    10000       /* nested backtracking */
#define PCRE_HEAP_LIMIT     (16 * 1024) /* KiB of heap for backtracking */

struct pcre_state {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

static void pcre_error_text(int code, struct buf *out)
{
    PCRE2_UCHAR msg[256];

    if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
        (void)buf_printf(out, "PCRE2 error %d", code);
    else
        (void)buf_puts(out, (const char *)msg);
}

static void *pcre_compile_pat(const char *re, const char *flags, int want_sub,
                              size_t *nsub, struct buf *err)
{
    uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_NEVER_UTF, count = 0;
    PCRE2_SIZE off;
    pcre2_code *code;
    int rc;

    (void)want_sub;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i': opts ^= PCRE2_CASELESS; break;
        case 'm': opts ^= PCRE2_MULTILINE; break;
        case 's': opts ^= PCRE2_DOTALL; break;
        case 'x': opts ^= PCRE2_EXTENDED; break;
        case 'A': opts ^= PCRE2_ANCHORED; break;
        case 'E': opts ^= PCRE2_DOLLAR_ENDONLY; break;
        case 'U': opts ^= PCRE2_UNGREEDY; break;
        case 'X': break;
        default:
            (void)buf_printf(err, "unknown pcre flag \"%c\" (known: i, m, s, x, A, E, U, X)",
                             *f);
            return NULL;
        }
    }
    code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &rc, &off, NULL);
    if (code == NULL) {
        (void)buf_printf(err, "bad regular expression \"%.100s%s\" at offset %lu: ", re,
                         strlen(re) > 100 ? "..." : "", (unsigned long)off);
        pcre_error_text(rc, err);
        return NULL;
    }
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &count) != 0)
        count = 0;
    *nsub = count;
    return code;
}

static void *pcre_state_new(size_t nvec)
{
    struct pcre_state *st = xmalloc(sizeof(*st));

    st->md = pcre2_match_data_create((uint32_t)(nvec ? nvec : 1), NULL);
    st->mctx = pcre2_match_context_create(NULL);
    if (st->md == NULL || st->mctx == NULL)
        abort();                /* out of memory: as xmalloc would */
    pcre2_set_match_limit(st->mctx, PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(st->mctx, PCRE_DEPTH_LIMIT);
    pcre2_set_heap_limit(st->mctx, PCRE_HEAP_LIMIT);
    return st;
}

static void pcre_state_free(void *state)
{
    struct pcre_state *st = state;

    pcre2_match_data_free(st->md);
    pcre2_match_context_free(st->mctx);
    free(st);
}

static int pcre_match(void *re, void *state, const char *subject, size_t len,
                      size_t *ovec, size_t nvec, struct buf *why)
{
    struct pcre_state *st = state;
    PCRE2_SIZE *ov;
    uint32_t have;
    int rc;

    rc = pcre2_match(re, (PCRE2_SPTR)subject, len, 0, 0, st->md, st->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
            || rc == PCRE2_ERROR_HEAPLIMIT)
            (void)buf_puts(why, "pattern too expensive for this key: ");
        pcre_error_text(rc, why);
        return -1;
    }
    ov = pcre2_get_ovector_pointer(st->md);
    have = pcre2_get_ovector_count(st->md);
    /* rc == 0: more groups than the vector holds; those are not used. */
    for (size_t i = 0; i < nvec; i++) {
        if (i < have && (rc == 0 || i < (size_t)rc) && ov[2 * i] != PCRE2_UNSET) {
            ovec[2 * i] = ov[2 * i];
            ovec[2 * i + 1] = ov[2 * i + 1];
        } else {
            ovec[2 * i] = ovec[2 * i + 1] = PTAB_UNSET;
        }
    }
    return 1;
}

static void pcre_free_pat(void *re)
{
    pcre2_code_free(re);
}

static const struct ptab_engine pcre_engine = {
    .type = "pcre",
    .second_pattern = 0,
    .compile = pcre_compile_pat,
    .state_new = pcre_state_new,
    .state_free = pcre_state_free,
    .match = pcre_match,
    .free = pcre_free_pat,
};

static struct dict *pcre_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err);

const struct dict_ops dict_pcre_ops = {
    .type = "pcre",
    .caps = DICT_CAP_PATTERN,
    .open = pcre_open,
    .lookup = ptab_lookup,
    .close = ptab_close,
};

static struct dict *pcre_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err)
{
    (void)flags;
    (void)cfg;
    return ptab_open(&dict_pcre_ops, &pcre_engine, name, err);
}

struct dict *dict_pcre_open_text(const char *name, const char *text, size_t len,
                                 struct buf *err)
{
    return ptab_open_text(&dict_pcre_ops, &pcre_engine, name, text, len, err);
}
