/*
 * cleanup - the message state machine behind cleanup.h: per-process
 * settings and tables, the envelope, the primary header block (buffered,
 * bounded by header_size_limit) and the body (streamed).
 *
 * Order of the output, as queue_file.h needs it: sender, ENVID, RET and
 * client at cleanup_begin(); recipients when the header block ends (so
 * that sendmail -t can add those from the headers); then the content:
 * Received: on top, the headers as they came (address headers
 * rewritten), the headers that were missing, and the body.
 *
 * Choices where Postfix differs or is silent:
 *   - the whole primary header block is bounded by header_size_limit
 *     (Postfix bounds each header and truncates): 552 5.3.4;
 *   - hopcount_limit counts the Received: headers the message came with,
 *     rejecting at hopcount_limit of them, as Postfix does (>=);
 *   - a body line that started while cleanup was still looking for a
 *     header (a long line) is judged on its first bytes: it is a header
 *     line if it starts with "Name:" or a continuation;
 *   - header addresses get @$myorigin / .$mydomain only for local
 *     submission and loopback clients (local_header_rewrite_clients =
 *     permit_inet_interfaces, approximated); canonical maps and
 *     masquerading apply to all (Postfix's remote_header_rewrite_domain
 *     is empty by default).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup_priv.h"
#include "log.h"
#include "mail_date.h"
#include "mem.h"

/* ------------------------------------------------------------ status */

void cleanup_set_status(struct cleanup_status *st, enum cleanup_result r, int code,
                        const char *enh, const char *fmt, ...)
{
    va_list ap;

    st->result = r;
    st->code = code;
    snprintf(st->enh, sizeof(st->enh), "%s", enh);
    va_start(ap, fmt);
    vsnprintf(st->text, sizeof(st->text), fmt, ap);
    va_end(ap);
}

static struct cleanup_status status_ok(void)
{
    struct cleanup_status st;

    memset(&st, 0, sizeof(st));
    cleanup_set_status(&st, CLEANUP_OK, 250, "2.0.0", "Ok");
    return st;
}

int cleanup_failed(struct cleanup_msg *m, enum cleanup_result r, int code, const char *enh,
                   const char *text)
{
    if (m->err.result == CLEANUP_OK)
        cleanup_set_status(&m->err, r, code, enh, "%s", text);
    return -1;
}

static void write_failed(struct cleanup_msg *m)
{
    cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.3.0", "Error: queue file write error");
}

/* ------------------------------------------------------------ open/close */

/* Split a table list on commas and white space, keeping {...} together. */
static char **split_tables(const char *value)
{
    size_t n = 0, cap = 4;
    char **v = xreallocarray(NULL, cap, sizeof(*v));
    const char *p = value;

    for (;;) {
        const char *start;
        int depth = 0;

        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (*p == 0)
            break;
        for (start = p; *p; p++) {
            if (*p == '{')
                depth++;
            else if (*p == '}' && depth > 0)
                depth--;
            else if (depth == 0 && (*p == ',' || isspace((unsigned char)*p)))
                break;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n++] = xstrndup(start, (size_t)(p - start));
    }
    v[n] = NULL;
    return v;
}

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static char **copy_list(char *const *l, int fold)
{
    size_t n = 0;
    char **v;

    while (l && l[n])
        n++;
    v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i] = xstrdup(l[i]);
        if (fold)
            dict_fold(v[i]);
    }
    return v;
}

static int open_maps(struct cleanup_maps *maps, const struct config *cfg, const char *param,
                     struct buf *err)
{
    char **specs = split_tables(config_str(cfg, param));
    struct buf why = BUF_INIT;
    int rc = 0;

    maps->param = param;
    for (char **s = specs; *s; s++) {
        struct dict *d;

        buf_reset(&why);
        if ((d = dict_open(*s, DICT_FLAG_FOLD, cfg, &why)) == NULL) {
            buf_printf(err, "%s: %s", param, buf_str(&why));
            rc = -1;
            break;
        }
        maps->v = xreallocarray(maps->v, (size_t)maps->n + 1, sizeof(*maps->v));
        maps->v[maps->n++] = d;
    }
    free_strv(specs);
    buf_free(&why);
    return rc;
}

static void close_maps(struct cleanup_maps *maps)
{
    for (int i = 0; i < maps->n; i++)
        dict_close(maps->v[i]);
    free(maps->v);
    maps->v = NULL;
    maps->n = 0;
}

struct cleanup *cleanup_open(const struct config *cfg, struct buf *err)
{
    struct cleanup *c = xcalloc(1, sizeof(*c));
    char *const *l;
    size_t n = 0;

    c->myorigin = xstrdup(config_str(cfg, "myorigin"));
    c->mydomain = xstrdup(config_str(cfg, "mydomain"));
    c->myhostname = xstrdup(config_str(cfg, "myhostname"));
    c->mail_name = xstrdup(config_str(cfg, "mail_name"));
    c->delimiters = xstrdup(config_str(cfg, "recipient_delimiter"));
    c->append_at_myorigin = config_bool(cfg, "append_at_myorigin");
    c->append_dot_mydomain = config_bool(cfg, "append_dot_mydomain");
    c->virt_recur_limit = config_int(cfg, "virtual_alias_recursion_limit");
    c->virt_expan_limit = config_int(cfg, "virtual_alias_expansion_limit");
    c->hopcount_limit = config_int(cfg, "hopcount_limit");
    c->delay_warning_time = config_time(cfg, "delay_warning_time");
    c->header_limit = (size_t)config_int(cfg, "header_size_limit");

    /* Our domains: $myorigin and the literal names in $mydestination. */
    l = config_list(cfg, "mydestination");
    while (l && l[n])
        n++;
    c->local_domains = xcalloc(n + 2, sizeof(char *));
    n = 0;
    c->local_domains[n++] = xstrdup(c->myorigin);
    for (; l && *l; l++)
        if (strchr(*l, ':') == NULL && strchr(*l, '/') == NULL)
            c->local_domains[n++] = xstrdup(*l);

    c->masq_domains = copy_list(config_list(cfg, "masquerade_domains"), 1);
    c->masq_exceptions = copy_list(config_list(cfg, "masquerade_exceptions"), 0);
    for (l = config_list(cfg, "masquerade_classes"); l && *l; l++) {
        if (strcasecmp(*l, "envelope_sender") == 0)
            c->masq_classes |= CLEANUP_MASQ_ENV_FROM;
        else if (strcasecmp(*l, "envelope_recipient") == 0)
            c->masq_classes |= CLEANUP_MASQ_ENV_RCPT;
        else if (strcasecmp(*l, "header_sender") == 0)
            c->masq_classes |= CLEANUP_MASQ_HDR_FROM;
        else if (strcasecmp(*l, "header_recipient") == 0)
            c->masq_classes |= CLEANUP_MASQ_HDR_RCPT;
        else {
            buf_printf(err, "masquerade_classes: unknown class \"%s\" (use envelope_sender, "
                       "envelope_recipient, header_sender, header_recipient)", *l);
            cleanup_close(c);
            return NULL;
        }
    }
    for (l = config_list(cfg, "propagate_unmatched_extensions"); l && *l; l++) {
        if (strcasecmp(*l, "canonical") == 0)
            c->propagate |= CLEANUP_PROP_CANONICAL;
        else if (strcasecmp(*l, "virtual") == 0)
            c->propagate |= CLEANUP_PROP_VIRTUAL;
    }
    if (open_maps(&c->canon, cfg, "canonical_maps", err) < 0
        || open_maps(&c->send_canon, cfg, "sender_canonical_maps", err) < 0
        || open_maps(&c->rcpt_canon, cfg, "recipient_canonical_maps", err) < 0
        || open_maps(&c->virtual, cfg, "virtual_alias_maps", err) < 0) {
        cleanup_close(c);
        return NULL;
    }
    return c;
}

void cleanup_close(struct cleanup *c)
{
    if (c == NULL)
        return;
    free(c->myorigin);
    free(c->mydomain);
    free(c->myhostname);
    free(c->mail_name);
    free(c->delimiters);
    free_strv(c->local_domains);
    free_strv(c->masq_domains);
    free_strv(c->masq_exceptions);
    close_maps(&c->canon);
    close_maps(&c->send_canon);
    close_maps(&c->rcpt_canon);
    close_maps(&c->virtual);
    free(c);
}

/* ------------------------------------------------------------ envelope */

static int clean_string(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

struct cleanup_msg *cleanup_begin(struct cleanup *c, struct queue_file_writer *w,
                                  const struct cleanup_envelope *env,
                                  struct cleanup_status *st)
{
    struct cleanup_msg *m = xcalloc(1, sizeof(*m));
    struct buf sender = BUF_INIT;
    int bad = 0;

    m->c = c;
    m->w = w;
    m->env = env;
    m->err = status_ok();
    snprintf(m->queue_id, sizeof(m->queue_id), "%s", queue_file_writer_id(w));
    m->arrival = queue_file_writer_arrival(w);
    m->in_headers = 1;
    buf_init(&m->line, c->header_limit + 1);
    buf_init(&m->cur, c->header_limit + 1);
    buf_init(&m->hout, 4 * c->header_limit + 65536);

    buf_set(&sender, env->sender ? env->sender : "");
    if (!clean_string(buf_str(&sender)) || sender.len > QF_MAX_ADDR) {
        cleanup_failed(m, CLEANUP_REJECT, 553, "5.1.7", "Error: bad sender address syntax");
        bad = 1;
    } else if (cleanup_rewrite_addr(m, CLEANUP_ENV_FROM, &sender, 1) < 0) {
        bad = 1;
    }
    m->sender = buf_steal(&sender);
    buf_free(&sender);
    if (!bad) {
        int r = queue_file_put_sender(w, m->sender);

        /* The W record: when qmgr asks bounce for a delay warning. */
        if (c->delay_warning_time > 0)
            r |= queue_file_put_warn_time(w, m->arrival.tv_sec + c->delay_warning_time);
        if (env->envid && *env->envid)
            r |= queue_file_put_envid(w, env->envid);
        if (env->ret == QF_RET_FULL || env->ret == QF_RET_HDRS)
            r |= queue_file_put_ret(w, (enum qf_ret)env->ret);
        if (env->encoding && *env->encoding)
            r |= queue_file_put_attr(w, "encoding", env->encoding);
        if (!env->local_submission || env->client_name || env->client_addr)
            r |= queue_file_put_client(w, env->client_name, env->client_addr, env->helo,
                                       env->protocol);
        if (r != 0)
            write_failed(m);
    }
    *st = m->err;
    if (m->err.result != CLEANUP_OK) {
        cleanup_free(m);
        return NULL;
    }
    return m;
}

struct cleanup_status cleanup_rcpt(struct cleanup_msg *m, const char *rcpt, const char *orcpt,
                                   unsigned notify)
{
    struct buf addr = BUF_INIT;

    if (m->err.result != CLEANUP_OK)
        return m->err;
    if (!m->in_headers || m->line_open || m->line.len || m->cur.len || m->hout.len) {
        cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.3.0", "Error: internal protocol error");
        return m->err;
    }
    if (rcpt == NULL || !clean_string(rcpt) || strlen(rcpt) > QF_MAX_ADDR
        || (orcpt && (!clean_string(orcpt) || strlen(orcpt) > QF_MAX_ADDR))) {
        struct cleanup_status st;

        cleanup_set_status(&st, CLEANUP_REJECT, 553, "5.1.3",
                           "Error: bad recipient address syntax");
        return st;
    }
    m->given++;
    if (m->first_given == NULL)
        m->first_given = xstrdup(rcpt);
    buf_set(&addr, rcpt);
    if (cleanup_rewrite_addr(m, CLEANUP_ENV_RCPT, &addr, 1) == 0)
        cleanup_expand_rcpt(m, buf_str(&addr), rcpt, orcpt, notify);
    buf_free(&addr);
    return m->err;
}

/* ------------------------------------------------------------ headers out */

static int put(struct cleanup_msg *m, const void *data, size_t len)
{
    if (len && queue_file_put_content(m->w, data, len) < 0) {
        write_failed(m);
        return -1;
    }
    return 0;
}

/* A display name as a phrase: as is when it is atoms, else quoted. */
static void phrase(struct buf *out, const char *name)
{
    int plain = *name != 0;

    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(" !#$%&'*+-/=?^_`{|}~", *p)
              || (unsigned char)*p >= 0x80))
            plain = 0;
    if (plain) {
        buf_puts(out, name);
        return;
    }
    buf_putc(out, '"');
    for (const char *p = name; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            continue;
        if (*p == '"' || *p == '\\')
            buf_putc(out, '\\');
        buf_putc(out, *p);
    }
    buf_putc(out, '"');
}

/* Append an envelope field to a header: control characters and white space become '?'. */
static void field(struct buf *h, const char *s)
{
    for (; *s; s++)
        buf_putc(h, (unsigned char)*s <= 0x20 || *s == 0x7f ? '?' : *s);
}

static void received(struct cleanup_msg *m, struct buf *h)
{
    const struct cleanup_envelope *env = m->env;
    const char *proto = env->protocol && *env->protocol ? env->protocol : "SMTP";

    if (env->client_name == NULL && env->client_addr == NULL) {
        buf_printf(h, "Received: by %s (%s", m->c->myhostname, m->c->mail_name);
        if (env->login_user && *env->login_user) {
            buf_puts(h, ", from userid ");
            field(h, env->login_user);
        }
        buf_printf(h, ")\n\tid %s; ", m->queue_id);
    } else {
        const char *name = env->client_name ? env->client_name : "unknown";
        const char *addr = env->client_addr ? env->client_addr : "unknown";

        buf_puts(h, "Received: from ");
        field(h, env->helo && *env->helo ? env->helo : name);
        buf_puts(h, " (");
        field(h, name);
        buf_puts(h, strchr(addr, ':') ? " [IPv6:" : " [");
        field(h, addr);
        buf_printf(h, "])\n\tby %s (%s) with ", m->c->myhostname, m->c->mail_name);
        field(h, proto);
        buf_printf(h, " id %s", m->queue_id);
        if (m->given == 1 && m->first_given) {
            buf_puts(h, "\n\tfor <");
            cleanup_externalize(h, m->first_given);
            buf_puts(h, ">; ");
        } else {
            buf_puts(h, ";\n\t");
        }
    }
    mail_date(h, m->arrival.tv_sec);
    buf_putc(h, '\n');
}

/* Strip control characters for header text taken from the envelope. */
static void sanitize(struct buf *b, size_t from)
{
    for (size_t i = from; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20 && b->data[i] != '\n' && b->data[i] != '\t')
            b->data[i] = ' ';
}

/* The header block is complete: envelope recipients, then the headers. */
static int end_headers(struct cleanup_msg *m)
{
    struct buf h = BUF_INIT;
    const char *resent;
    int rc = 0;

    m->in_headers = 0;
    if (m->cur.len) {
        rc = cleanup_header(m, m->cur.data, m->cur.len);
        buf_reset(&m->cur);
        if (rc < 0)
            return -1;
    }
    if (m->env->extract_recipients) {
        int use_resent = (m->seen & CLEANUP_SEEN_RESENT) != 0 && m->nxr > 0;
        char **v = use_resent ? m->xrcpt_resent : m->xrcpt;
        size_t n = use_resent ? m->nxr : m->nx;
        struct buf addr = BUF_INIT;

        for (size_t i = 0; i < n && m->err.result == CLEANUP_OK; i++) {
            buf_set(&addr, v[i]);
            if (cleanup_rewrite_addr(m, CLEANUP_ENV_RCPT, &addr, 1) == 0)
                cleanup_expand_rcpt(m, buf_str(&addr), v[i], NULL, 0);
        }
        buf_free(&addr);
        if (m->err.result != CLEANUP_OK)
            return -1;
    }
    if (m->nrcpt == 0)
        return cleanup_failed(m, CLEANUP_REJECT, 550, "5.1.0", "Error: no recipients specified");
    for (size_t i = 0; i < m->nrcpt; i++)
        if (queue_file_put_rcpt(m->w, m->rcpt[i].addr, m->rcpt[i].orcpt, m->rcpt[i].notify) < 0) {
            write_failed(m);
            return -1;
        }

    /* Received: on top, the headers as they came, then what was missing. */
    buf_init(&h, BUF_DEFAULT_LIMIT);
    received(m, &h);
    sanitize(&h, 0);
    rc = put(m, h.data, h.len);
    buf_reset(&h);
    if (rc == 0)
        rc = put(m, m->hout.data, m->hout.len);
    resent = (m->seen & CLEANUP_SEEN_RESENT) ? "Resent-" : "";
    if (!(m->seen & (*resent ? CLEANUP_SEEN_RESENT_MSGID : CLEANUP_SEEN_MSGID))) {
        struct tm gt;
        char stamp[32];
        time_t t = m->arrival.tv_sec;

        gmtime_r(&t, &gt);
        snprintf(stamp, sizeof(stamp), "%04d%02d%02d%02d%02d%02d", gt.tm_year + 1900,
                 gt.tm_mon + 1, gt.tm_mday, gt.tm_hour, gt.tm_min, gt.tm_sec);
        buf_printf(&h, "%sMessage-Id: <%s.%s@%s>\n", resent, stamp, m->queue_id,
                   m->c->myhostname);
        msg_info("%s: %smessage-id=<%s.%s@%s>", m->queue_id, *resent ? "resent-" : "", stamp,
                 m->queue_id, m->c->myhostname);
    }
    if (!(m->seen & (*resent ? CLEANUP_SEEN_RESENT_DATE : CLEANUP_SEEN_DATE))) {
        buf_printf(&h, "%sDate: ", resent);
        mail_date(&h, m->arrival.tv_sec);
        buf_putc(&h, '\n');
    }
    if (m->env->local_submission
        && !(m->seen & (*resent ? CLEANUP_SEEN_RESENT_FROM : CLEANUP_SEEN_FROM))) {
        const char *fn = m->env->full_name;

        buf_printf(&h, "%sFrom: ", resent);
        if (*m->sender == 0) {
            buf_puts(&h, "MAILER-DAEMON");
        } else if (fn && *fn) {
            phrase(&h, fn);
            buf_puts(&h, " <");
            cleanup_externalize(&h, m->sender);
            buf_putc(&h, '>');
        } else {
            cleanup_externalize(&h, m->sender);
        }
        buf_putc(&h, '\n');
    }
    sanitize(&h, 0);
    if (rc == 0)
        rc = put(m, h.data, h.len);
    buf_free(&h);
    buf_free(&m->hout);
    buf_init(&m->hout, 0);
    return rc;
}

/* ------------------------------------------------------------ content */

/* One complete line while in the header block. */
static int header_line(struct cleanup_msg *m, const char *s, size_t len)
{
    if (len > 0 && (s[0] == ' ' || s[0] == '\t') && m->cur.len > 0) {
        if (buf_putc(&m->cur, '\n') < 0 || buf_append(&m->cur, s, len) < 0)
            return cleanup_failed(m, CLEANUP_REJECT, 552, "5.3.4",
                                  "Error: message header size exceeds limit");
        return 0;
    }
    if (len > 0 && cleanup_header_name(s, len) > 0) {
        if (m->cur.len > 0 && cleanup_header(m, m->cur.data, m->cur.len) < 0)
            return -1;
        buf_reset(&m->cur);
        if (buf_append(&m->cur, s, len) < 0)
            return cleanup_failed(m, CLEANUP_REJECT, 552, "5.3.4",
                                  "Error: message header size exceeds limit");
        return 0;
    }
    /* An empty line or a non-header line: the body starts with it. */
    if (end_headers(m) < 0)
        return -1;
    if (put(m, s, len) < 0 || put(m, "\n", 1) < 0)
        return -1;
    return 0;
}

struct cleanup_status cleanup_content(struct cleanup_msg *m, const char *data, size_t len,
                                      int line_end)
{
    if (m->err.result != CLEANUP_OK)
        return m->err;
    if (m->in_headers) {
        int blank = (len == 0 && m->line.len == 0 && line_end);

        if ((!blank && m->hdr_bytes + len + 1 > m->c->header_limit)
            || buf_append(&m->line, data, len) < 0) {
            /* Too much for a header: fine only if this line cannot be one. */
            int hdr = (m->line.len > 0 && (m->line.data[0] == ' ' || m->line.data[0] == '\t')
                       && m->cur.len > 0)
                || (len > 0 && (data[0] == ' ' || data[0] == '\t') && m->line.len == 0
                    && m->cur.len > 0);

            if (!hdr) {
                /* Judge the bytes within the limit only, however the line came in. */
                size_t before = m->hdr_bytes - m->line.len;
                size_t room = m->c->header_limit > before ? m->c->header_limit - before : 0;
                struct buf probe = BUF_INIT;

                buf_append(&probe, m->line.data, m->line.len < room ? m->line.len : room);
                if (probe.len < room)
                    buf_append(&probe, data, len < room - probe.len ? len : room - probe.len);
                hdr = cleanup_header_prefix(probe.data, probe.len);
                buf_free(&probe);
            }
            if (hdr) {
                msg_info("%s: reject: header size exceeds %zu bytes", m->queue_id,
                         m->c->header_limit);
                cleanup_failed(m, CLEANUP_REJECT, 552, "5.3.4",
                               "Error: message header size exceeds limit");
                return m->err;
            }
            if (end_headers(m) < 0 || put(m, m->line.data, m->line.len) < 0
                || put(m, data, len) < 0 || (line_end && put(m, "\n", 1) < 0))
                return m->err;
            buf_reset(&m->line);
            m->line_open = !line_end;
            return m->err;
        }
        m->hdr_bytes += len;
        if (!line_end)
            return m->err;
        m->hdr_bytes += 1;
        header_line(m, m->line.data, m->line.len);
        buf_reset(&m->line);
        return m->err;
    }
    if (put(m, data, len) < 0)
        return m->err;
    if (line_end)
        put(m, "\n", 1);
    m->line_open = !line_end;
    return m->err;
}

struct cleanup_status cleanup_finish(struct cleanup_msg *m)
{
    if (m->err.result != CLEANUP_OK)
        return m->err;
    if (m->in_headers && m->line.len > 0)
        (void)cleanup_content(m, "", 0, 1);
    else if (m->line_open)
        (void)cleanup_content(m, "", 0, 1);
    if (m->err.result == CLEANUP_OK && m->in_headers)
        (void)end_headers(m);
    return m->err;
}

size_t cleanup_rcpt_count(const struct cleanup_msg *m)
{
    return m->nrcpt;
}

void cleanup_free(struct cleanup_msg *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nrcpt; i++) {
        free(m->rcpt[i].addr);
        free(m->rcpt[i].orcpt);
    }
    free(m->rcpt);
    for (size_t i = 0; i < m->nx; i++)
        free(m->xrcpt[i]);
    free(m->xrcpt);
    for (size_t i = 0; i < m->nxr; i++)
        free(m->xrcpt_resent[i]);
    free(m->xrcpt_resent);
    free(m->sender);
    free(m->first_given);
    buf_free(&m->line);
    buf_free(&m->cur);
    buf_free(&m->hout);
    free(m);
}
