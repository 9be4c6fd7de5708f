/*
 * smtp - the outbound SMTP and LMTP client, like Postfix's smtp(8).
 *
 * One program, several master.cf services: "smtp" and "relay" speak
 * SMTP with smtp_* parameters; a service (or argv[0]) named "lmtp"
 * speaks LMTP with lmtp_* parameters. For each request from qmgr
 * (deliver_agent.h) it finds the next hop's addresses (MX lookup unless
 * the next hop is "[host]"; never for LMTP), tries them in order up to
 * the address limit until one server takes part in a conversation, and
 * gives every recipient a result. When no server could be reached the
 * recipients are deferred with the last reason, logged with relay=none
 * when not even a connection was made, and the destination is reported
 * failed so that qmgr holds back its other mail.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dns_mx.h"
#include "log.h"
#include "mem.h"
#include "smtp.h"

static int is_lmtp;

/* The value of smtp_NAME or lmtp_NAME, as this service speaks. */
static const char *param_name(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s_%s", is_lmtp ? "lmtp" : "smtp", name);
    return out;
}

/* A time parameter of our protocol family, in seconds. */
static int ptime(const struct config *cfg, const char *name)
{
    char n[64];
    long v = config_time(cfg, param_name(name, n, sizeof(n)));

    return v > 86400 * 30 ? 86400 * 30 : (int)v;
}

/* Read the settings for one request. */
static void load_settings(const struct config *cfg, struct smtp_settings *set)
{
    char n[64];
    char *const *protos = config_list(cfg, "inet_protocols");
    size_t i;

    memset(set, 0, sizeof(*set));
    set->lmtp = is_lmtp;
    set->helo_name = config_str(cfg, is_lmtp ? "lmtp_lhlo_name" : "smtp_helo_name");
    set->connect_timeout = ptime(cfg, "connect_timeout");
    set->helo_timeout = ptime(cfg, is_lmtp ? "lhlo_timeout" : "helo_timeout");
    set->mail_timeout = ptime(cfg, "mail_timeout");
    set->rcpt_timeout = ptime(cfg, "rcpt_timeout");
    set->data_init_timeout = ptime(cfg, "data_init_timeout");
    set->data_xfer_timeout = ptime(cfg, "data_xfer_timeout");
    set->data_done_timeout = ptime(cfg, "data_done_timeout");
    set->quit_timeout = ptime(cfg, "quit_timeout");
    set->mx_address_limit = config_int(cfg, param_name("mx_address_limit", n, sizeof(n)));
    set->skip_5xx_greeting = config_bool(cfg, param_name("skip_5xx_greeting", n, sizeof(n)));
    set->myhostname = config_str(cfg, "myhostname");
    for (i = 0; protos[i]; i++) {
        if (strcmp(protos[i], "all") == 0)
            set->want_ipv4 = set->want_ipv6 = 1;
        else if (strcmp(protos[i], "ipv4") == 0)
            set->want_ipv4 = 1;
        else if (strcmp(protos[i], "ipv6") == 0)
            set->want_ipv6 = 1;
    }
}

/* Defer or bounce every recipient with one reason. */
static void fail_all(struct delivery_request *req, const char *relay, const char *dsn,
                     const char *why)
{
    size_t i;

    for (i = 0; i < req->nrcpt; i++) {
        if (req->rcpt[i].result != DELIVER_NONE)
            continue;
        if (dsn[0] == '5')
            deliver_bounce(req, i, relay, dsn, "%s", why);
        else
            deliver_defer(req, i, relay, dsn, "%s", why);
    }
}

/* Deliver one request. */
static void smtp_deliver(struct delivery_request *req, const struct config *cfg)
{
    struct smtp_settings set;
    struct smtp_nexthop hop;
    struct dns_resolver res;
    struct dns_addr_list addrs;
    struct buf why = BUF_INIT, cwhy = BUF_INIT;
    struct smtp_session *s = NULL;
    char dsn[16] = "4.4.1", relay[1200] = "none";
    size_t i;

    load_settings(cfg, &set);
    dns_addr_list_init(&addrs);
    if (smtp_nexthop_parse(req->nexthop, is_lmtp, &hop, &why) < 0) {
        msg_warn("%s: %s", req->queue_id, buf_str(&why));
        fail_all(req, "none", "4.3.5", buf_str(&why));
        goto out;
    }
    if (hop.is_unix) {
        unsigned char none[16] = {0};
        int fd;

        s = xcalloc(1, sizeof(*s));
        s->set = &set;
        s->req = req;
        snprintf(s->host, sizeof(s->host), "%s", hop.path);
        snprintf(s->namaddr, sizeof(s->namaddr), "%s", hop.path);
        snprintf(s->relay, sizeof(s->relay), "%s", hop.path);
        snprintf(s->mta, sizeof(s->mta), "dns; %s", config_str(cfg, "myhostname"));
        fd = smtp_connect_addr(AF_UNIX, none, 0, hop.path, set.connect_timeout, &cwhy);

        if (fd < 0) {
            buf_reset(&why);
            buf_printf(&why, "connect to %s: %s", hop.path, buf_str(&cwhy));
            strcpy(dsn, "4.4.1");
        } else if (smtp_session_run(s, fd, dsn, &why) == SMTP_DONE) {
            goto out;
        } else {
            snprintf(relay, sizeof(relay), "%s", s->relay);
        }
        req->dest_failed = 1;
        fail_all(req, relay, dsn, buf_str(&why));
        goto out;
    }

    memset(&res, 0, sizeof(res));
    res.want_ipv4 = set.want_ipv4;
    res.want_ipv6 = set.want_ipv6;
    if (dns_mx_resolve(&res, hop.host, hop.use_mx, set.myhostname,
                       (size_t)set.mx_address_limit, &addrs, dsn, &why) < 0) {
        if (dsn[0] != '5')
            req->dest_failed = 1;
        fail_all(req, "none", dsn, buf_str(&why));
        goto out;
    }
    s = xcalloc(1, sizeof(*s));
    for (i = 0; i < addrs.count; i++) {
        const struct dns_addr *a = &addrs.a[i];
        int fd;

        memset(s, 0, sizeof(*s));
        s->set = &set;
        s->req = req;
        snprintf(s->host, sizeof(s->host), "%s", a->host);
        snprintf(s->namaddr, sizeof(s->namaddr), "%s[%s]", a->host, a->ip);
        snprintf(s->relay, sizeof(s->relay), "%s[%s]:%u", a->host, a->ip, hop.port);
        snprintf(s->mta, sizeof(s->mta), "dns; %s", a->host);
        fd = smtp_connect_addr(a->family, a->addr, hop.port, NULL, set.connect_timeout, &cwhy);
        if (fd < 0) {
            buf_reset(&why);
            buf_printf(&why, "connect to %s[%s]:%u: %s", a->host, a->ip, hop.port,
                       buf_str(&cwhy));
            msg_info("%s", buf_str(&why));
            strcpy(dsn, "4.4.1");
            strcpy(relay, "none");
            continue;
        }
        if (smtp_session_run(s, fd, dsn, &why) == SMTP_DONE)
            goto out;
        msg_info("%s", buf_str(&why));
        snprintf(relay, sizeof(relay), "%s", s->relay);
    }
    req->dest_failed = 1;
    fail_all(req, relay, dsn, buf_str(&why));

out:
    free(s);
    dns_addr_list_free(&addrs);
    buf_free(&why);
    buf_free(&cwhy);
}

/* Before the chroot: read resolv.conf while it can be seen. */
static void smtp_pre_jail(const struct config *cfg)
{
    (void)cfg;
    if (res_init() != 0)
        msg_warn("res_init: cannot initialize the resolver");
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
}

/* Speak LMTP when our service or program name says so. */
static int lmtp_named(const char *argv0)
{
    const char *base = strrchr(argv0, '/');

    return strcmp(base ? base + 1 : argv0, "lmtp") == 0;
}

int main(int argc, char **argv)
{
    static struct deliver_agent agent = {"smtp", smtp_pre_jail, NULL, smtp_deliver};
    int i;

    is_lmtp = argc > 0 && lmtp_named(argv[0]);
    for (i = 1; i < argc - 1; i++)         /* master passes the service name with -n */
        if (strcmp(argv[i], "-n") == 0 && strcmp(argv[i + 1], "lmtp") == 0)
            is_lmtp = 1;
    if (is_lmtp)
        agent.program = "lmtp";
    deliver_agent_main(argc, argv, &agent);
}
