/*
 * smtpd_check - smtpd's access restrictions (see smtpd_check.h), with
 * Postfix's names, reply codes and texts:
 *
 *   reject                     554 5.7.1 <name>: Class rejected: Access denied
 *   defer                      450 4.3.2 <name>: Class rejected: Try again later
 *   reject_unauth_destination  554 5.7.1 <rcpt>: Relay access denied
 *   defer_unauth_destination   450 4.7.1 <rcpt>: Relay access denied
 *   reject_unlisted_recipient  550 5.1.1 <rcpt>: Recipient address rejected:
 *                              User unknown in {local recipient, virtual
 *                              mailbox, virtual alias} table
 *   reject_non_fqdn_sender     504 5.5.2 <addr>: Sender address rejected:
 *                              need fully-qualified address (recipient alike)
 *   reject_non_fqdn_helo_hostname 504 5.5.2 <helo>: Helo command rejected:
 *                              need fully-qualified hostname
 *   reject_invalid_helo_hostname 501 5.5.2 <helo>: Helo command rejected:
 *                              Invalid name
 *   access table REJECT [text] 554 5.7.1 <name>: Class rejected: text
 *   access table DEFER [text]  450 4.7.1 <name>: Class rejected: text
 *   access table NNN [text]    NNN N.7.1 <name>: Class rejected: text
 *   table temporary failure    451 4.3.0 <name>: Temporary lookup failure
 *   bad access table result    451 4.3.5 Server configuration error
 *
 * Class is "Client host", "Helo command", "Sender address" or "Recipient
 * address"; name is host[addr], the HELO name or the address. A text
 * that starts with an RFC 3463 code ("REJECT 5.7.2 go away") supplies
 * the enhanced status code. Postfix's old names reject_non_fqdn_hostname
 * and reject_invalid_hostname are accepted. permit_sasl_authenticated is
 * accepted and never matches (there is no SMTP AUTH yet).
 *
 * Relay control refuses, for a client not otherwise permitted, any
 * recipient whose local part holds '%', '!' or '@' (percent hack, bang
 * path, quoted '@'), any source route, a trailing dot on the domain, a
 * recipient that does not parse, and address literals and all-numeric
 * domains unless they are listed as such ("[192.0.2.1]") in
 * mydestination, a virtual domain list or relay_domains.
 *
 * Tables named by check_*_access, mynetworks and the domain lists must
 * open, or smtpd_check_open fails naming the parameter. The recipient
 * maps of reject_unlisted_recipient (local_recipient_maps, whose default
 * names /etc/aliases, virtual_mailbox_maps, virtual_alias_maps,
 * canonical_maps, recipient_canonical_maps) are opened only when that
 * restriction is used; one that cannot be opened is logged and makes
 * every lookup in it a temporary failure (451 4.3.0), as Postfix does.
 *
 * With smtpd_reject_unlisted_recipient = yes (Postfix's default), every
 * recipient that the restriction lists did not reject is also checked
 * as reject_unlisted_recipient would, after them, so mail for unknown
 * users is refused at RCPT time instead of bounced later (backscatter).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_lookup.h"
#include "log.h"
#include "mem.h"
#include "smtp_addr.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"

#define SC_MAX_DEPTH    100     /* nested classes / table results */

enum sc_op {
    R_PERMIT, R_REJECT, R_DEFER, R_PERMIT_MYNETWORKS, R_REJECT_UNAUTH_DEST,
    R_DEFER_UNAUTH_DEST, R_REJECT_UNLISTED_RCPT, R_NON_FQDN_SENDER, R_NON_FQDN_RCPT,
    R_NON_FQDN_HELO, R_INVALID_HELO, R_CHECK_CLIENT, R_CHECK_HELO, R_CHECK_SENDER,
    R_CHECK_RCPT, R_CLASS, R_NEVER,
};

static const struct {
    const char *name;
    enum sc_op op;
} sc_names[] = {
    {"permit", R_PERMIT},
    {"reject", R_REJECT},
    {"defer", R_DEFER},
    {"permit_mynetworks", R_PERMIT_MYNETWORKS},
    {"reject_unauth_destination", R_REJECT_UNAUTH_DEST},
    {"defer_unauth_destination", R_DEFER_UNAUTH_DEST},
    {"reject_unlisted_recipient", R_REJECT_UNLISTED_RCPT},
    {"reject_non_fqdn_sender", R_NON_FQDN_SENDER},
    {"reject_non_fqdn_recipient", R_NON_FQDN_RCPT},
    {"reject_non_fqdn_helo_hostname", R_NON_FQDN_HELO},
    {"reject_non_fqdn_hostname", R_NON_FQDN_HELO},
    {"reject_invalid_helo_hostname", R_INVALID_HELO},
    {"reject_invalid_hostname", R_INVALID_HELO},
    {"check_client_access", R_CHECK_CLIENT},
    {"check_helo_access", R_CHECK_HELO},
    {"check_sender_access", R_CHECK_SENDER},
    {"check_recipient_access", R_CHECK_RCPT},
    {"permit_sasl_authenticated", R_NEVER},
};

struct sc_rule {
    enum sc_op op;
    size_t cls;                 /* R_CLASS: index into chk->classes */
    struct dict *table;         /* R_CHECK_*: owned by chk->tables */
};

struct sc_rlist {
    struct sc_rule *v;
    size_t n;
};

struct sc_class {
    char *name;
    struct sc_rlist list;
};

/* Stages; also bit numbers in st->done. */
enum sc_stage { ST_CLIENT, ST_HELO, ST_SENDER, ST_RCPT };
#define DONE_BIT(s)     (1u << (s))
#define EARLY_BIT(s)    (1u << ((s) + 8))
#define EARLY_MASK      (EARLY_BIT(ST_CLIENT) | EARLY_BIT(ST_HELO) | EARLY_BIT(ST_SENDER))

struct smtpd_check {
    const struct config *cfg;
    struct sc_tables tables;
    struct sc_rlist client, helo, sender, relay, rcpt;
    struct sc_class *classes;
    size_t nclasses;
    struct sc_list mynetworks, mydestination, relay_domains, va_domains, vm_domains;
    /* reject_unlisted_recipient (only when used) */
    int unlisted;
    int implicit_unlisted;          /* smtpd_reject_unlisted_recipient */
    struct dict **local_maps, **vmbox_maps, **alias_maps;   /* alias: canonical + virtual */
    size_t nlocal, nvmbox, nalias;
    int delay_reject;
    char *myorigin;
    char *delim;
};

/* What one evaluation knows: the session, the stage, the reply. */
struct sc_ctx {
    struct smtpd_check *chk;
    struct smtpd_check_state *st;
    struct smtpd_check_reply *reply;
    enum sc_stage stage;
    const char *where;          /* "CONNECT", "EHLO", "MAIL", "RCPT" for the log */
    int depth;
    char namaddr[600];
    struct buf action_log;      /* hold/discard lines */
};

/* ---------------------------------------------------------------- compile */

static int find_class(const struct smtpd_check *chk, const char *name, size_t *idx)
{
    for (size_t i = 0; i < chk->nclasses; i++) {
        if (strcmp(chk->classes[i].name, name) == 0) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

static int lookup_name(const char *name, enum sc_op *op)
{
    for (size_t i = 0; i < sizeof(sc_names) / sizeof(sc_names[0]); i++) {
        if (strcasecmp(sc_names[i].name, name) == 0) {
            *op = sc_names[i].op;
            return 1;
        }
    }
    return 0;
}

static void rlist_free(struct sc_rlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/*
 * Compile items into l. tables: 0 for a restriction list found in an
 * access table result (no table may be named there). Errors go to err,
 * naming where.
 */
static int compile_items(struct smtpd_check *chk, char **items, struct sc_rlist *l,
                         const char *where, int tables, struct buf *err)
{
    size_t count = 0;

    memset(l, 0, sizeof(*l));
    for (char **p = items; *p; p++)
        count++;
    l->v = xcalloc(count ? count : 1, sizeof(*l->v));
    for (char **p = items; *p; p++) {
        struct sc_rule *r = &l->v[l->n];

        if (lookup_name(*p, &r->op)) {
            if (r->op >= R_CHECK_CLIENT && r->op <= R_CHECK_RCPT) {
                if (!tables) {
                    buf_printf(err, "%s: %s: a table is not allowed here; use a restriction"
                               " class", where, *p);
                    goto fail;
                }
                if (p[1] == NULL) {
                    buf_printf(err, "%s: %s needs a table argument", where, *p);
                    goto fail;
                }
                p++;
                if ((r->table = sc_table_open(&chk->tables, *p, where, 1, err)) == NULL)
                    goto fail;
            } else if (r->op == R_REJECT_UNLISTED_RCPT) {
                chk->unlisted = 1;
            }
        } else if (find_class(chk, *p, &r->cls)) {
            r->op = R_CLASS;
        } else if (strchr(*p, ':')) {
            buf_printf(err, "%s: \"%s\": a table must follow a check_*_access restriction",
                       where, *p);
            goto fail;
        } else {
            buf_printf(err, "%s: unknown restriction \"%s\"", where, *p);
            goto fail;
        }
        l->n++;
    }
    return 0;
fail:
    rlist_free(l);
    return -1;
}

static int compile_param(struct smtpd_check *chk, const char *param, struct sc_rlist *l,
                         struct buf *err)
{
    char **items = sc_split(config_str(chk->cfg, param));
    struct buf where = BUF_INIT;
    int rc;

    buf_printf(&where, "parameter %s", param);
    if (items == NULL) {
        buf_printf(err, "%s: missing '}'", buf_str(&where));
        rc = -1;
    } else {
        rc = compile_items(chk, items, l, buf_str(&where), 1, err);
    }
    sc_split_free(items);
    buf_free(&where);
    return rc;
}

static int has_relay_guard(const struct sc_rlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        switch (l->v[i].op) {
        case R_REJECT_UNAUTH_DEST:
        case R_DEFER_UNAUTH_DEST:
        case R_REJECT:
        case R_DEFER:
            return 1;
        default:
            break;
        }
    }
    return 0;
}

/* Open the tables of one recipient-map parameter (soft: failures defer). */
static int open_maps(struct smtpd_check *chk, const char *param, struct dict ***v, size_t *n,
                     struct buf *err)
{
    char **items = sc_split(config_str(chk->cfg, param));

    if (items == NULL) {
        buf_printf(err, "parameter %s: missing '}'", param);
        return -1;
    }
    for (char **p = items; *p; p++) {
        struct dict *d = sc_table_open(&chk->tables, *p, param, 0, err);

        if (d == NULL) {
            sc_split_free(items);
            return -1;
        }
        *v = xreallocarray(*v, *n + 1, sizeof(**v));
        (*v)[(*n)++] = d;
    }
    sc_split_free(items);
    return 0;
}

static void prefix_err(const struct config *cfg, struct buf *err, const struct buf *msg)
{
    const char *file = config_file(cfg);

    buf_printf(err, "%s: %s", file && *file ? file : "main.cf", buf_str(msg));
}

struct smtpd_check *smtpd_check_open(const struct config *cfg, struct buf *err)
{
    struct smtpd_check *chk = xcalloc(1, sizeof(*chk));
    struct buf e = BUF_INIT;
    char **names = NULL;
    static const char *const alias_params[] = {
        "recipient_canonical_maps", "canonical_maps", "virtual_alias_maps",
    };

    chk->cfg = cfg;
    chk->tables.cfg = cfg;
    chk->delay_reject = config_bool(cfg, "smtpd_delay_reject");
    if (config_bool(cfg, "smtpd_reject_unlisted_recipient"))
        chk->unlisted = chk->implicit_unlisted = 1;
    chk->myorigin = xstrdup(config_str(cfg, "myorigin"));
    chk->delim = xstrdup(config_str(cfg, "recipient_delimiter"));

    /* Restriction classes: names first, so that classes may name each other. */
    if ((names = sc_split(config_str(cfg, "smtpd_restriction_classes"))) == NULL) {
        buf_puts(&e, "parameter smtpd_restriction_classes: missing '}'");
        goto fail;
    }
    for (char **p = names; *p; p++) {
        enum sc_op op;
        size_t dummy;

        if (lookup_name(*p, &op)) {
            buf_printf(&e, "parameter smtpd_restriction_classes: \"%s\" is the name of a"
                       " built-in restriction", *p);
            goto fail;
        }
        if (find_class(chk, *p, &dummy))
            continue;
        if (!config_has(cfg, *p)) {
            buf_printf(&e, "parameter smtpd_restriction_classes: class \"%s\" is not defined"
                       " (add \"%s = restrictions...\")", *p, *p);
            goto fail;
        }
        chk->classes = xreallocarray(chk->classes, chk->nclasses + 1, sizeof(*chk->classes));
        memset(&chk->classes[chk->nclasses], 0, sizeof(*chk->classes));
        chk->classes[chk->nclasses++].name = xstrdup(*p);
    }
    for (size_t i = 0; i < chk->nclasses; i++)
        if (compile_param(chk, chk->classes[i].name, &chk->classes[i].list, &e) < 0)
            goto fail;

    if (compile_param(chk, "smtpd_client_restrictions", &chk->client, &e) < 0
        || compile_param(chk, "smtpd_helo_restrictions", &chk->helo, &e) < 0
        || compile_param(chk, "smtpd_sender_restrictions", &chk->sender, &e) < 0
        || compile_param(chk, "smtpd_relay_restrictions", &chk->relay, &e) < 0
        || compile_param(chk, "smtpd_recipient_restrictions", &chk->rcpt, &e) < 0)
        goto fail;
    if (chk->relay.n == 0 && !has_relay_guard(&chk->rcpt)) {
        buf_puts(&e, "parameter smtpd_relay_restrictions is empty and"
                 " smtpd_recipient_restrictions has no relay control: specify at least one"
                 " working instance of: reject_unauth_destination, defer_unauth_destination,"
                 " reject, defer");
        goto fail;
    }
    if (sc_list_build(&chk->mynetworks, &chk->tables, cfg, "mynetworks", 1, &e) < 0
        || sc_list_build(&chk->mydestination, &chk->tables, cfg, "mydestination", 0, &e) < 0
        || sc_list_build(&chk->relay_domains, &chk->tables, cfg, "relay_domains", 0, &e) < 0
        || sc_list_build(&chk->va_domains, &chk->tables, cfg, "virtual_alias_domains", 0,
                         &e) < 0
        || sc_list_build(&chk->vm_domains, &chk->tables, cfg, "virtual_mailbox_domains", 0,
                         &e) < 0)
        goto fail;
    if (chk->unlisted) {
        if (open_maps(chk, "local_recipient_maps", &chk->local_maps, &chk->nlocal, &e) < 0
            || open_maps(chk, "virtual_mailbox_maps", &chk->vmbox_maps, &chk->nvmbox, &e) < 0)
            goto fail;
        for (size_t i = 0; i < sizeof(alias_params) / sizeof(alias_params[0]); i++)
            if (open_maps(chk, alias_params[i], &chk->alias_maps, &chk->nalias, &e) < 0)
                goto fail;
    }
    sc_split_free(names);
    buf_free(&e);
    return chk;

fail:
    prefix_err(cfg, err, &e);
    buf_free(&e);
    sc_split_free(names);
    smtpd_check_close(chk);
    return NULL;
}

void smtpd_check_close(struct smtpd_check *chk)
{
    if (chk == NULL)
        return;
    rlist_free(&chk->client);
    rlist_free(&chk->helo);
    rlist_free(&chk->sender);
    rlist_free(&chk->relay);
    rlist_free(&chk->rcpt);
    for (size_t i = 0; i < chk->nclasses; i++) {
        free(chk->classes[i].name);
        rlist_free(&chk->classes[i].list);
    }
    free(chk->classes);
    sc_list_free(&chk->mynetworks);
    sc_list_free(&chk->mydestination);
    sc_list_free(&chk->relay_domains);
    sc_list_free(&chk->va_domains);
    sc_list_free(&chk->vm_domains);
    free(chk->local_maps);
    free(chk->vmbox_maps);
    free(chk->alias_maps);
    sc_tables_free(&chk->tables);
    free(chk->myorigin);
    free(chk->delim);
    free(chk);
}

/* ---------------------------------------------------------------- replies */

static void reply_addr(const char *text, char *out, size_t outlen);

/* Copy s into dst (size n), printable ASCII and UTF-8 only, truncated. */
static void copy_clean(char *dst, size_t n, const char *s)
{
    size_t i = 0;

    for (; *s && i + 1 < n; s++)
        dst[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    dst[i] = 0;
}

/* The log detail in Postfix's shape (without the queue id). */
static void make_log(struct sc_ctx *c, const char *what, const char *detail,
                     char *out, size_t outlen)
{
    struct buf b = BUF_INIT;
    const struct smtpd_check_state *st = c->st;
    char addr[600];

    buf_init(&b, 4096);
    (void)buf_printf(&b, "%s: %s from %s: %s;", what, c->where, c->namaddr, detail);
    if (st->sender) {
        reply_addr(st->sender, addr, sizeof(addr));
        (void)buf_printf(&b, " from=<%s>", addr);
    }
    if (st->recipient) {
        reply_addr(st->recipient, addr, sizeof(addr));
        (void)buf_printf(&b, " to=<%s>", addr);
    }
    if (st->helo)
        (void)buf_printf(&b, " helo=<%.300s>", st->helo);
    copy_clean(out, outlen, buf_str(&b));
    buf_free(&b);
}

/* Split "d.d.d text" into an enhanced code and text; the class digit follows code. */
static const char *dsn_split(const char *text, int code, const char *def, char *enh,
                             size_t enhlen)
{
    const char *p = text;
    size_t a = 0, b = 0, d = 0;

    if (*p >= '2' && *p <= '5' && p[1] == '.') {
        for (p += 2; p[a] >= '0' && p[a] <= '9'; a++)
            ;
        if (a >= 1 && a <= 3 && p[a] == '.') {
            for (b = 0; p[a + 1 + b] >= '0' && p[a + 1 + b] <= '9'; b++)
                ;
            d = a + 1 + b;
            if (b >= 1 && b <= 3 && (p[d] == 0 || p[d] == ' ' || p[d] == '\t')) {
                snprintf(enh, enhlen, "%.*s", (int)(d + 2), text);
                text = p + d;
                while (*text == ' ' || *text == '\t')
                    text++;
                enh[0] = (char)('0' + code / 100);
                return text;
            }
        }
    }
    snprintf(enh, enhlen, "%s", def);
    enh[0] = (char)('0' + code / 100);
    return text;
}

static enum smtpd_check_result sc_reply(struct sc_ctx *c, int code, const char *enh,
                                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum smtpd_check_result sc_reply(struct sc_ctx *c, int code, const char *enh,
                                        const char *fmt, ...)
{
    struct smtpd_check_reply *r = c->reply;
    char text[sizeof(r->text)], detail[sizeof(r->text) + 32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    r->result = code >= 500 ? SMTPD_CHECK_REJECT : SMTPD_CHECK_DEFER;
    r->code = code;
    snprintf(r->enh, sizeof(r->enh), "%s", enh);
    r->enh[0] = (char)('0' + code / 100);
    copy_clean(r->text, sizeof(r->text), text);
    snprintf(detail, sizeof(detail), "%d %s %s", r->code, r->enh, r->text);
    make_log(c, "reject", detail, r->log, sizeof(r->log));
    return r->result;
}

static enum smtpd_check_result tempfail(struct sc_ctx *c, const char *name, const struct buf *why)
{
    msg_warn("%s: table lookup problem: %s", name, buf_str(why));
    return sc_reply(c, 451, "4.3.0", "<%.300s>: Temporary lookup failure", name);
}

static enum smtpd_check_result server_error(struct sc_ctx *c)
{
    return sc_reply(c, 451, "4.3.5", "Server configuration error");
}

/* ---------------------------------------------------------------- addresses */

/* Parse an address as smtpd passes it: "<path>", a bare address, or "" (null sender). */
static int parse_addr(const char *text, struct smtp_addr *a)
{
    size_t len = strlen(text);
    unsigned fl = SMTP_ADDR_UTF8 | SMTP_ADDR_ALLOW_NULL;

    if (len == 0)
        return smtp_addr_parse("<>", 2, fl, a) == SMTP_ADDR_OK ? 0 : -1;
    if (text[0] != '<')
        fl |= SMTP_ADDR_ALLOW_BARE;
    return smtp_addr_parse(text, len, fl, a) == SMTP_ADDR_OK ? 0 : -1;
}

/* The name for "<name>: ..." replies: external form, or the text as given. */
static void reply_addr(const char *text, char *out, size_t outlen)
{
    struct smtp_addr a;
    struct buf b = BUF_INIT;
    size_t len = strlen(text);

    buf_init(&b, 1024);
    if (parse_addr(text, &a) == 0 && smtp_addr_format(&b, &a) == 0) {
        copy_clean(out, outlen, buf_str(&b));
    } else {
        if (len >= 2 && text[0] == '<' && text[len - 1] == '>')
            (void)buf_append(&b, text + 1, len - 2);
        else
            (void)buf_puts(&b, text);
        copy_clean(out, outlen, buf_str(&b));
    }
    buf_free(&b);
}

/* The domain of a parsed address, lower case ($myorigin when it has none). */
static void addr_domain(const struct smtpd_check *chk, const struct smtp_addr *a,
                        char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", (a->flags & SMTP_ADDR_F_NO_DOMAIN) ? chk->myorigin : a->domain);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

/* The internal form local@domain used for lookups. */
static void addr_key(const struct smtpd_check *chk, const struct smtp_addr *a, struct buf *key)
{
    char dom[SMTP_ADDR_DOMAIN_MAX + 1];

    addr_domain(chk, a, dom, sizeof(dom));
    buf_reset(key);
    (void)buf_printf(key, "%s@%s", a->local, dom);
}

enum dom_class { DC_NONE, DC_LOCAL, DC_VALIAS, DC_VMBOX, DC_RELAY };

/* Which of our lists holds domain: DC_*, or -1 on a table failure (why). */
static int domain_class(struct smtpd_check *chk, const char *domain, struct buf *why)
{
    const struct sc_list *lists[] = {
        &chk->mydestination, &chk->va_domains, &chk->vm_domains, &chk->relay_domains,
    };
    static const enum dom_class classes[] = {DC_LOCAL, DC_VALIAS, DC_VMBOX, DC_RELAY};

    for (size_t i = 0; i < 4; i++) {
        int rc = sc_list_match_domain(lists[i], domain, why);

        if (rc != 0)
            return rc < 0 ? -1 : (int)classes[i];
    }
    return DC_NONE;
}

/* 1: we may receive mail for rcpt; 0: relaying; -1: table failure (why). */
static int auth_destination(struct smtpd_check *chk, const char *rcpt, struct buf *why)
{
    struct smtp_addr a;
    char dom[SMTP_ADDR_DOMAIN_MAX + 1];
    int rc;

    if (parse_addr(rcpt, &a) < 0 || (a.flags & SMTP_ADDR_F_NULL))
        return 0;
    if (smtp_addr_tricks(&a) & (SMTP_ADDR_TRICK_PERCENT | SMTP_ADDR_TRICK_BANG
                                | SMTP_ADDR_TRICK_AT | SMTP_ADDR_TRICK_ROUTE
                                | SMTP_ADDR_TRICK_DOT))
        return 0;
    addr_domain(chk, &a, dom, sizeof(dom));
    if ((rc = domain_class(chk, dom, why)) < 0)
        return -1;
    return rc != DC_NONE;
}

/* ---------------------------------------------------------------- restrictions */

static enum smtpd_check_result eval_list(struct sc_ctx *c, const struct sc_rlist *l,
                                         const char *rname, const char *rclass);

/* An access table result (check_table_result in Postfix). */
static enum smtpd_check_result table_result(struct sc_ctx *c, struct dict *table,
                                            const char *value, const char *rname,
                                            const char *rclass)
{
    size_t cmd_len = strcspn(value, " \t");
    const char *text = value + cmd_len;
    char enh[16];
    const char *t;

    while (*text == ' ' || *text == '\t')
        text++;
#define IS(w) (cmd_len == strlen(w) && strncasecmp(value, w, cmd_len) == 0)
    if (IS("DUNNO"))
        return SMTPD_CHECK_DUNNO;
    if (IS("REJECT")) {
        t = dsn_split(text, 554, "5.7.1", enh, sizeof(enh));
        return sc_reply(c, 554, enh, "<%.300s>: %s rejected: %.150s", rname, rclass,
                        *t ? t : "Access denied");
    }
    if (IS("DEFER")) {
        t = dsn_split(text, 450, "4.7.1", enh, sizeof(enh));
        return sc_reply(c, 450, enh, "<%.300s>: %s rejected: %.150s", rname, rclass,
                        *t ? t : "Access denied");
    }
    if (cmd_len == 3 && (value[0] == '4' || value[0] == '5') && isdigit((unsigned char)value[1])
        && isdigit((unsigned char)value[2])) {
        int code = atoi(value);
        char def[8];

        snprintf(def, sizeof(def), "%c.7.1", value[0]);
        t = dsn_split(text, code, def, enh, sizeof(enh));
        return sc_reply(c, code, enh, "<%.300s>: %s rejected: %.150s", rname, rclass,
                        *t ? t : "Access denied");
    }
    /* After "4xx"/"5xx": an all-numeric result (Postfix: a time stamp) is OK. */
    if (IS("OK") || IS("RELAY") || (cmd_len > 0 && strspn(value, "0123456789") == strlen(value)))
        return SMTPD_CHECK_OK;
    if (IS("HOLD") || IS("DISCARD")) {
        int hold = IS("HOLD");
        char detail[400], line[512];

        snprintf(detail, sizeof(detail), "<%.200s>: %s %.150s", rname, rclass,
                 *text ? text : hold ? "triggers HOLD action" : "triggers DISCARD action");
        make_log(c, hold ? "hold" : "discard", detail, line, sizeof(line));
        buf_reset(&c->action_log);
        (void)buf_puts(&c->action_log, line);
        if (hold) {
            c->st->hold = 1;
            return SMTPD_CHECK_DUNNO;
        }
        c->st->discard = 1;
        return SMTPD_CHECK_OK;
    }
    /* A restriction class or list; no tables may be named here. */
    if (strchr(value, ':') != NULL) {
        msg_warn("access table %s has entry with lookup table: %s", table->spec, value);
        msg_warn("do not specify lookup tables inside SMTPD access maps;"
                 " define a restriction class and specify its name instead");
        return server_error(c);
    }
    if (c->depth >= SC_MAX_DEPTH) {
        msg_warn("access table %s entry %s causes unreasonable recursion", table->spec, value);
        return server_error(c);
    }
    {
        char **items = sc_split(value);
        struct sc_rlist l;
        struct buf err = BUF_INIT;
        enum smtpd_check_result r;

        if (items == NULL || items[0] == NULL
            || compile_items(c->chk, items, &l, table->spec, 0, &err) < 0) {
            msg_warn("access table %s: bad result \"%s\"%s%s", table->spec, value,
                     err.len ? ": " : "", buf_str(&err));
            sc_split_free(items);
            buf_free(&err);
            return server_error(c);
        }
        sc_split_free(items);
        buf_free(&err);
        r = eval_list(c, &l, rname, rclass);
        rlist_free(&l);
        return r;
    }
#undef IS
}

/*
 * Look keys up in table in order; the first found decides. Partial keys
 * (all but the first) are skipped for pattern tables, as in Postfix.
 * found_out: 1 when some key was found.
 */
static enum smtpd_check_result access_keys(struct sc_ctx *c, struct dict *table,
                                           char **keys, size_t nkeys, const char *rname,
                                           const char *rclass, int *found_out)
{
    struct buf value = BUF_INIT, why = BUF_INIT;
    enum smtpd_check_result r = SMTPD_CHECK_DUNNO;
    int pattern = (table->ops->caps & DICT_CAP_PATTERN) != 0;

    *found_out = 0;
    for (size_t i = 0; i < nkeys; i++) {
        int rc;

        if (i > 0 && pattern)
            break;
        rc = dict_lookup(table, keys[i], &value, &why);
        if (rc == DICT_TEMPFAIL) {
            *found_out = 1;
            r = tempfail(c, rname, &why);
            break;
        }
        if (rc == DICT_FOUND) {
            *found_out = 1;
            c->depth++;
            r = table_result(c, table, buf_str(&value), rname, rclass);
            c->depth--;
            break;
        }
    }
    buf_free(&value);
    buf_free(&why);
    return r;
}

struct keys {
    char *v[64];
    size_t n;
};

static void key_add(struct keys *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void key_add(struct keys *k, const char *fmt, ...)
{
    char tmp[DICT_MAX_KEY + 1];
    va_list ap;

    if (k->n >= sizeof(k->v) / sizeof(k->v[0]))
        return;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i], tmp) == 0)
            return;
    k->v[k->n++] = xstrdup(tmp);
}

static void keys_free(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    k->n = 0;
}

/* name, then ".parent" domains (not for address literals or numeric names). */
static void domain_keys(struct keys *k, const char *name)
{
    key_add(k, "%s", name);
    if (*name == '[' || strspn(name, "0123456789.") == strlen(name))
        return;
    for (const char *p = name; (p = strchr(p + 1, '.')) != NULL;)
        key_add(k, "%s", p);
}

/* Client address with its parent networks: 1.2.3.4, 1.2.3, 1.2, 1. */
static void addr_keys(struct keys *k, const char *addr)
{
    char tmp[128];
    int delim = strchr(addr, ':') ? ':' : '.';
    char *p;

    snprintf(tmp, sizeof(tmp), "%s", addr);
    for (;;) {
        if (*tmp)
            key_add(k, "%s", tmp);
        if ((p = strrchr(tmp, delim)) == NULL)
            break;
        *p = 0;
    }
}

static enum smtpd_check_result check_client_access(struct sc_ctx *c, struct dict *table)
{
    struct keys k = {.n = 0};
    const char *name = c->st->client_name;
    char addr[64];
    enum smtpd_check_result r = SMTPD_CHECK_DUNNO;
    int found = 0;

    if (c->st->client_addr == NULL)
        return SMTPD_CHECK_DUNNO;
    (void)inet_addr_normalize(c->st->client_addr, addr, sizeof(addr));
    /* Host name and parent domains, then address and parent networks. */
    if (name && *name && strcasecmp(name, "unknown") != 0) {
        domain_keys(&k, name);
        r = access_keys(c, table, k.v, k.n, c->namaddr, "Client host", &found);
        keys_free(&k);
        if (found)
            return r;
    }
    addr_keys(&k, addr);
    r = access_keys(c, table, k.v, k.n, c->namaddr, "Client host", &found);
    keys_free(&k);
    return r;
}

static enum smtpd_check_result check_helo_access(struct sc_ctx *c, struct dict *table)
{
    struct keys k = {.n = 0};
    char helo[300];
    size_t len;
    enum smtpd_check_result r;
    int found;

    if (c->st->helo == NULL || *c->st->helo == 0)
        return SMTPD_CHECK_DUNNO;
    snprintf(helo, sizeof(helo), "%s", c->st->helo);
    len = strlen(helo);
    if (len > 1 && helo[len - 1] == '.')
        helo[len - 1] = 0;
    domain_keys(&k, helo);
    r = access_keys(c, table, k.v, k.n, c->st->helo, "Helo command", &found);
    keys_free(&k);
    return r;
}

/* check_sender_access / check_recipient_access (check_mail_access in Postfix). */
static enum smtpd_check_result check_mail_access(struct sc_ctx *c, struct dict *table,
                                                 const char *text, const char *rclass)
{
    struct keys k = {.n = 0};
    struct smtp_addr a;
    char rname[600], dom[SMTP_ADDR_DOMAIN_MAX + 1], bare[SMTP_ADDR_LOCAL_MAX + 1];
    enum smtpd_check_result r;
    int found;

    if (text == NULL)
        return SMTPD_CHECK_DUNNO;
    reply_addr(text, rname, sizeof(rname));
    if (parse_addr(text, &a) < 0)
        return SMTPD_CHECK_DUNNO;
    if (a.flags & SMTP_ADDR_F_NULL) {
        key_add(&k, "<>");
    } else {
        addr_domain(c->chk, &a, dom, sizeof(dom));
        snprintf(bare, sizeof(bare), "%s", a.local);
        if (*c->chk->delim) {
            size_t n = strcspn(bare, c->chk->delim);

            if (n > 0)
                bare[n] = 0;
        }
        key_add(&k, "%s@%s", a.local, dom);
        key_add(&k, "%s@%s", bare, dom);
        domain_keys(&k, dom);
        key_add(&k, "%s@", a.local);
        key_add(&k, "%s@", bare);
    }
    r = access_keys(c, table, k.v, k.n, rname, rclass, &found);
    keys_free(&k);
    return r;
}

static enum smtpd_check_result non_fqdn_addr(struct sc_ctx *c, const char *text,
                                             const char *rclass)
{
    struct smtp_addr a;
    char rname[600];

    if (text == NULL || parse_addr(text, &a) < 0 || (a.flags & SMTP_ADDR_F_NULL))
        return SMTPD_CHECK_DUNNO;
    if ((a.flags & SMTP_ADDR_F_NO_DOMAIN)
        || (!(a.flags & SMTP_ADDR_F_LITERAL) && strchr(a.domain, '.') == NULL)) {
        reply_addr(text, rname, sizeof(rname));
        return sc_reply(c, 504, "5.5.2", "<%.300s>: %s rejected: need fully-qualified address",
                        rname, rclass);
    }
    return SMTPD_CHECK_DUNNO;
}

/* The HELO name with one trailing dot removed; 0 when there is none. */
static int helo_name(const struct sc_ctx *c, char *out, size_t outlen)
{
    size_t len;

    if (c->st->helo == NULL)
        return 0;
    snprintf(out, outlen, "%s", c->st->helo);
    len = strlen(out);
    if (len > 1 && out[len - 1] == '.')
        out[len - 1] = 0;
    return 1;
}

static enum smtpd_check_result non_fqdn_helo(struct sc_ctx *c)
{
    char h[300];
    int literal = 0;

    if (!helo_name(c, h, sizeof(h)))
        return SMTPD_CHECK_DUNNO;
    if (smtp_addr_check_domain(h, strlen(h), SMTP_ADDR_UTF8, &literal) == SMTP_ADDR_OK
        && (literal || strchr(h, '.')))
        return SMTPD_CHECK_DUNNO;
    return sc_reply(c, 504, "5.5.2", "<%.300s>: Helo command rejected: need fully-qualified"
                    " hostname", c->st->helo);
}

static enum smtpd_check_result invalid_helo(struct sc_ctx *c)
{
    char h[300];

    if (!helo_name(c, h, sizeof(h)))
        return SMTPD_CHECK_DUNNO;
    if (*h && strlen(c->st->helo) < sizeof(h) - 1
        && smtp_addr_check_domain(h, strlen(h), SMTP_ADDR_UTF8, NULL) == SMTP_ADDR_OK)
        return SMTPD_CHECK_DUNNO;
    return sc_reply(c, 501, "5.5.2", "<%.300s>: Helo command rejected: Invalid name",
                    c->st->helo);
}

static enum smtpd_check_result unauth_destination(struct sc_ctx *c, int code, const char *enh)
{
    struct buf why = BUF_INIT;
    char rname[600];
    int rc;

    if (c->st->recipient == NULL)
        return SMTPD_CHECK_DUNNO;
    reply_addr(c->st->recipient, rname, sizeof(rname));
    rc = auth_destination(c->chk, c->st->recipient, &why);
    if (rc < 0) {
        enum smtpd_check_result r = tempfail(c, rname, &why);

        buf_free(&why);
        return r;
    }
    buf_free(&why);
    if (rc > 0)
        return SMTPD_CHECK_DUNNO;
    return sc_reply(c, code, enh, "<%.300s>: Relay access denied", rname);
}

static enum smtpd_check_result unlisted_recipient(struct sc_ctx *c)
{
    struct smtpd_check *chk = c->chk;
    struct smtp_addr a;
    struct buf key = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    char dom[SMTP_ADDR_DOMAIN_MAX + 1], rname[600];
    enum smtpd_check_result r = SMTPD_CHECK_DUNNO;
    const char *table = NULL;
    int cls, rc, local;

    if (c->st->recipient == NULL || parse_addr(c->st->recipient, &a) < 0
        || (a.flags & SMTP_ADDR_F_NULL) || smtp_addr_local_route_chars(&a))
        return SMTPD_CHECK_DUNNO;
    reply_addr(c->st->recipient, rname, sizeof(rname));
    addr_domain(chk, &a, dom, sizeof(dom));
    if ((cls = domain_class(chk, dom, &why)) < 0) {
        r = tempfail(c, rname, &why);
        goto out;
    }
    if (cls == DC_NONE || cls == DC_RELAY)
        goto out;
    local = cls == DC_LOCAL;
    addr_key(chk, &a, &key);
    /* An alias (or canonical mapping) makes any recipient known. */
    rc = addr_lookup(chk->alias_maps, (int)chk->nalias, buf_str(&key), chk->delim,
                     ADDR_LOOKUP_DOMAIN | (local ? ADDR_LOOKUP_LOCALPART : 0), &value, NULL,
                     &why);
    if (rc == DICT_TEMPFAIL) {
        r = tempfail(c, rname, &why);
        goto out;
    }
    if (rc == DICT_FOUND)
        goto out;
    switch (cls) {
    case DC_LOCAL:
        if (chk->nlocal == 0)
            goto out;
        rc = addr_lookup(chk->local_maps, (int)chk->nlocal, buf_str(&key), chk->delim,
                         ADDR_LOOKUP_LOCALPART, &value, NULL, &why);
        table = "local recipient table";
        break;
    case DC_VMBOX:
        rc = addr_lookup(chk->vmbox_maps, (int)chk->nvmbox, buf_str(&key), chk->delim,
                         ADDR_LOOKUP_DOMAIN, &value, NULL, &why);
        table = "virtual mailbox table";
        break;
    default:                    /* DC_VALIAS: not an alias */
        rc = DICT_NOTFOUND;
        table = "virtual alias table";
        break;
    }
    if (rc == DICT_TEMPFAIL)
        r = tempfail(c, rname, &why);
    else if (rc == DICT_NOTFOUND)
        r = sc_reply(c, 550, "5.1.1", "<%.300s>: Recipient address rejected: User unknown in %s",
                     rname, table);
out:
    buf_free(&key);
    buf_free(&value);
    buf_free(&why);
    return r;
}

static enum smtpd_check_result eval_rule(struct sc_ctx *c, const struct sc_rule *r,
                                         const char *rname, const char *rclass)
{
    struct buf why = BUF_INIT;
    enum smtpd_check_result res = SMTPD_CHECK_DUNNO;
    int rc;

    switch (r->op) {
    case R_PERMIT:
        return SMTPD_CHECK_OK;
    case R_REJECT:
        return sc_reply(c, 554, "5.7.1", "<%.300s>: %s rejected: Access denied", rname, rclass);
    case R_DEFER:
        return sc_reply(c, 450, "4.3.2", "<%.300s>: %s rejected: Try again later", rname,
                        rclass);
    case R_NEVER:
        return SMTPD_CHECK_DUNNO;
    case R_PERMIT_MYNETWORKS:
        if (c->st->client_addr == NULL)
            return SMTPD_CHECK_DUNNO;
        rc = sc_list_match_addr(&c->chk->mynetworks, c->st->client_addr, &why);
        if (rc < 0)
            res = tempfail(c, c->namaddr, &why);
        else if (rc > 0)
            res = SMTPD_CHECK_OK;
        buf_free(&why);
        return res;
    case R_REJECT_UNAUTH_DEST:
        return unauth_destination(c, 554, "5.7.1");
    case R_DEFER_UNAUTH_DEST:
        return unauth_destination(c, 450, "4.7.1");
    case R_REJECT_UNLISTED_RCPT:
        return unlisted_recipient(c);
    case R_NON_FQDN_SENDER:
        return non_fqdn_addr(c, c->st->sender, "Sender address");
    case R_NON_FQDN_RCPT:
        return non_fqdn_addr(c, c->st->recipient, "Recipient address");
    case R_NON_FQDN_HELO:
        return non_fqdn_helo(c);
    case R_INVALID_HELO:
        return invalid_helo(c);
    case R_CHECK_CLIENT:
        return check_client_access(c, r->table);
    case R_CHECK_HELO:
        return check_helo_access(c, r->table);
    case R_CHECK_SENDER:
        return check_mail_access(c, r->table, c->st->sender, "Sender address");
    case R_CHECK_RCPT:
        return check_mail_access(c, r->table, c->st->recipient, "Recipient address");
    case R_CLASS:
        if (c->depth >= SC_MAX_DEPTH) {
            msg_warn("restriction class %s causes unreasonable recursion",
                     c->chk->classes[r->cls].name);
            return server_error(c);
        }
        c->depth++;
        res = eval_list(c, &c->chk->classes[r->cls].list, rname, rclass);
        c->depth--;
        return res;
    }
    return SMTPD_CHECK_DUNNO;
}

static enum smtpd_check_result eval_list(struct sc_ctx *c, const struct sc_rlist *l,
                                         const char *rname, const char *rclass)
{
    for (size_t i = 0; i < l->n; i++) {
        enum smtpd_check_result r = eval_rule(c, &l->v[i], rname, rclass);

        if (r != SMTPD_CHECK_DUNNO)
            return r;
    }
    return SMTPD_CHECK_DUNNO;
}

/* ---------------------------------------------------------------- stages */

static void ctx_init(struct sc_ctx *c, struct smtpd_check *chk, struct smtpd_check_state *st,
                     struct smtpd_check_reply *reply, const char *where)
{
    char addr[64];

    memset(c, 0, sizeof(*c));
    c->chk = chk;
    c->st = st;
    c->reply = reply;
    c->where = where;
    buf_init(&c->action_log, 1024);
    (void)inet_addr_normalize(st->client_addr ? st->client_addr : "unknown", addr, sizeof(addr));
    snprintf(c->namaddr, sizeof(c->namaddr), "%.300s[%s]",
             st->client_name && *st->client_name ? st->client_name : "unknown", addr);
}

/* After a stage: hold/discard lines go to reply->log unless it holds a reject. */
static enum smtpd_check_result ctx_done(struct sc_ctx *c, enum smtpd_check_result r)
{
    if (r == SMTPD_CHECK_DUNNO || r == SMTPD_CHECK_OK) {
        struct smtpd_check_reply *reply = c->reply;

        reply->result = r;
        reply->code = 0;
        reply->enh[0] = 0;
        reply->text[0] = 0;
        copy_clean(reply->log, sizeof(reply->log), buf_str(&c->action_log));
    }
    buf_free(&c->action_log);
    return r;
}

static const struct sc_rlist *stage_list(const struct smtpd_check *chk, enum sc_stage s)
{
    return s == ST_CLIENT ? &chk->client : s == ST_HELO ? &chk->helo : &chk->sender;
}

static enum smtpd_check_result run_stage(struct sc_ctx *c, enum sc_stage s)
{
    char name[600];

    switch (s) {
    case ST_CLIENT:
        return eval_list(c, &c->chk->client, c->namaddr, "Client host");
    case ST_HELO:
        if (c->st->helo == NULL)
            return SMTPD_CHECK_DUNNO;
        copy_clean(name, sizeof(name), c->st->helo);
        return eval_list(c, &c->chk->helo, name, "Helo command");
    case ST_SENDER:
        if (c->st->sender == NULL)
            return SMTPD_CHECK_DUNNO;
        reply_addr(c->st->sender, name, sizeof(name));
        return eval_list(c, &c->chk->sender, name, "Sender address");
    default:
        return SMTPD_CHECK_DUNNO;
    }
}

static enum smtpd_check_result public_stage(struct smtpd_check *chk,
                                            struct smtpd_check_state *st,
                                            struct smtpd_check_reply *reply,
                                            enum sc_stage s, const char *where)
{
    struct sc_ctx c;

    memset(reply, 0, sizeof(*reply));
    /* With smtpd_delay_reject, smtpd_check_rcpt does this stage. */
    if (chk->delay_reject || stage_list(chk, s)->n == 0)
        return SMTPD_CHECK_DUNNO;
    ctx_init(&c, chk, st, reply, where);
    return ctx_done(&c, run_stage(&c, s));
}

enum smtpd_check_result smtpd_check_client(struct smtpd_check *chk,
                                           struct smtpd_check_state *st,
                                           struct smtpd_check_reply *reply)
{
    return public_stage(chk, st, reply, ST_CLIENT, "CONNECT");
}

enum smtpd_check_result smtpd_check_helo(struct smtpd_check *chk,
                                         struct smtpd_check_state *st,
                                         struct smtpd_check_reply *reply)
{
    return public_stage(chk, st, reply, ST_HELO, "EHLO");
}

enum smtpd_check_result smtpd_check_sender(struct smtpd_check *chk,
                                           struct smtpd_check_state *st,
                                           struct smtpd_check_reply *reply)
{
    return public_stage(chk, st, reply, ST_SENDER, "MAIL");
}

enum smtpd_check_result smtpd_check_rcpt(struct smtpd_check *chk,
                                         struct smtpd_check_state *st,
                                         struct smtpd_check_reply *reply)
{
    struct sc_ctx c;
    enum smtpd_check_result r = SMTPD_CHECK_DUNNO, r2;
    char name[600];

    memset(reply, 0, sizeof(*reply));
    ctx_init(&c, chk, st, reply, "RCPT");
    if (chk->delay_reject) {
        for (enum sc_stage s = ST_CLIENT; s <= ST_SENDER; s++) {
            if (st->done & EARLY_BIT(s)) {
                /* Decided before: the same reply, logged for this recipient. */
                char detail[sizeof(reply->text) + 32];

                *reply = *st->early;
                snprintf(detail, sizeof(detail), "%d %s %s", reply->code, reply->enh,
                         reply->text);
                make_log(&c, "reject", detail, reply->log, sizeof(reply->log));
                buf_free(&c.action_log);
                return reply->result;
            }
            if (st->done & DONE_BIT(s))
                continue;
            /* A stage with nothing to go on yet is not done. */
            if ((s == ST_HELO && st->helo == NULL) || (s == ST_SENDER && st->sender == NULL))
                continue;
            r = run_stage(&c, s);
            st->done |= DONE_BIT(s);
            if (r == SMTPD_CHECK_REJECT || r == SMTPD_CHECK_DEFER) {
                free(st->early);
                st->early = xmalloc(sizeof(*st->early));
                *st->early = *reply;
                st->done |= EARLY_BIT(s);
                return ctx_done(&c, r);
            }
        }
    }
    if (st->recipient)
        reply_addr(st->recipient, name, sizeof(name));
    else
        snprintf(name, sizeof(name), "%s", "");
    r = eval_list(&c, &chk->relay, name, "Recipient address");
    if (r == SMTPD_CHECK_REJECT || r == SMTPD_CHECK_DEFER)
        return ctx_done(&c, r);
    r2 = eval_list(&c, &chk->rcpt, name, "Recipient address");
    if (r2 != SMTPD_CHECK_DUNNO)
        r = r2;
    if (chk->implicit_unlisted && r != SMTPD_CHECK_REJECT && r != SMTPD_CHECK_DEFER
        && (r2 = unlisted_recipient(&c)) != SMTPD_CHECK_DUNNO)
        r = r2;
    return ctx_done(&c, r);
}

void smtpd_check_new_transaction(struct smtpd_check_state *st)
{
    /* Sender results go; client and helo results that did not reject are redone. */
    if (st->done & EARLY_BIT(ST_SENDER)) {
        free(st->early);
        st->early = NULL;
        st->done &= ~EARLY_BIT(ST_SENDER);
    }
    st->done &= ~(DONE_BIT(ST_SENDER) | DONE_BIT(ST_RCPT));
    if (!(st->done & EARLY_BIT(ST_CLIENT)))
        st->done &= ~DONE_BIT(ST_CLIENT);
    if (!(st->done & EARLY_BIT(ST_HELO)))
        st->done &= ~DONE_BIT(ST_HELO);
    st->hold = 0;
    st->discard = 0;
}

void smtpd_check_state_free(struct smtpd_check_state *st)
{
    free(st->early);
    st->early = NULL;
    st->done = 0;
}

int smtpd_check_mynetworks(struct smtpd_check *chk, const char *addr)
{
    struct buf why = BUF_INIT;
    int rc;

    if (addr == NULL)
        return 0;
    rc = sc_list_match_addr(&chk->mynetworks, addr, &why);
    if (rc < 0)
        msg_warn("mynetworks: %s", buf_str(&why));
    buf_free(&why);
    return rc;
}
