/*
 * smtpd - the SMTP server (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, DSN, SMTPUTF8, CHUNKING).
 *
 * One process, one event loop, many sessions. This file is the service:
 * it reads the settings, opens clean-up and the access restrictions
 * before the jail (their tables may live outside it), and starts a
 * session for each connection master hands over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dict.h"
#include "log.h"
#include "pattern_table.h"
#include "smtpd.h"

struct smtpd_params smtpd_par;

/* smtpd_forbid_bare_newline_exclusions as a cidr: table (or mynetworks itself). */
static void bare_newline_exclusions(const struct config *cfg)
{
    char *const *excl = config_list(cfg, "smtpd_forbid_bare_newline_exclusions");
    char *const *mynet = config_list(cfg, "mynetworks");
    struct buf text = BUF_INIT, err = BUF_INIT;
    size_t i;

    for (i = 0; excl[i] && mynet[i] && strcmp(excl[i], mynet[i]) == 0; i++)
        ;
    if (excl[i] == NULL && mynet[i] == NULL && excl[0] != NULL) {
        smtpd_par.bare_newline_excl_mynetworks = 1;
        return;
    }
    for (i = 0; excl[i]; i++) {
        const char *item = excl[i];
        size_t len = strlen(item);
        const char *close;

        if (item[0] == '[' && (close = strchr(item, ']')) != NULL) {
            buf_append(&text, item + 1, (size_t)(close - item - 1));
            buf_puts(&text, close + 1);
        } else if (strchr(item, ':') && strchr(item, '.') == NULL && item[0] != '[') {
            buf_append(&text, item, len);       /* bare IPv6 */
        } else if (strspn(item, "0123456789./") == len) {
            buf_append(&text, item, len);
        } else {
            msg_warn("smtpd_forbid_bare_newline_exclusions: ignoring %s "
                     "(only addresses and networks are supported)", item);
            continue;
        }
        if (strchr(item, '/') == NULL)
            buf_puts(&text, strchr(item, ':') ? "/128" : "/32");
        buf_puts(&text, " OK\n");
    }
    if (text.len == 0) {
        buf_free(&text);
        return;
    }
    smtpd_par.bare_newline_exclusions =
        dict_cidr_open_text("smtpd_forbid_bare_newline_exclusions", text.data, text.len, &err);
    if (smtpd_par.bare_newline_exclusions == NULL)
        msg_fatal("smtpd_forbid_bare_newline_exclusions: %s", buf_str(&err));
    buf_free(&text);
    buf_free(&err);
}

static void pre_jail(const struct config *cfg)
{
    struct buf err = BUF_INIT;
    const char *bn = config_str(cfg, "smtpd_forbid_bare_newline");

    smtpd_par.cfg = cfg;
    smtpd_par.myhostname = config_str(cfg, "myhostname");
    smtpd_par.banner = config_str(cfg, "smtpd_banner");
    smtpd_par.line_length_limit = (size_t)config_int(cfg, "line_length_limit");
    smtpd_par.recipient_limit = config_int(cfg, "smtpd_recipient_limit");
    smtpd_par.message_size_limit = config_size(cfg, "message_size_limit");
    smtpd_par.timeout = config_time(cfg, "smtpd_timeout");
    if (smtpd_par.timeout <= 0)
        smtpd_par.timeout = 1;
    smtpd_par.soft_error_limit = config_int(cfg, "smtpd_soft_error_limit");
    smtpd_par.hard_error_limit = config_int(cfg, "smtpd_hard_error_limit");
    smtpd_par.error_sleep = config_time(cfg, "smtpd_error_sleep_time");
    smtpd_par.conn_count_limit = config_int(cfg, "smtpd_client_connection_count_limit");
    smtpd_par.disable_vrfy = config_bool(cfg, "disable_vrfy_command");
    smtpd_par.delay_reject = config_bool(cfg, "smtpd_delay_reject");
    smtpd_par.bare_newline = (strcmp(bn, "yes") == 0 || strcmp(bn, "reject") == 0)
                             ? SMTP_DATA_REJECT : SMTP_DATA_NORMALIZE;
    if ((smtpd_par.check = smtpd_check_open(cfg, &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    buf_reset(&err);
    if ((smtpd_par.cleanup = cleanup_open(cfg, &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    if (smtpd_par.bare_newline == SMTP_DATA_REJECT)
        bare_newline_exclusions(cfg);
    buf_free(&err);
}

static void on_connection(int fd, const struct config *cfg, struct evloop *loop)
{
    smtpd_session_start(fd, loop);
}

int main(int argc, char **argv)
{
    static const struct daemon_service service = {
        .program = "smtpd",
        .pre_jail = pre_jail,
        .on_connection = on_connection,
    };

    daemon_main(argc, argv, &service);
}
