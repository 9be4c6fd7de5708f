/*
 * fuzz_smtpd_check - libFuzzer target for lib/smtpd_check*.c.
 *
 * Input: up to five NUL-separated fields, client address, client name,
 * HELO name, sender, recipient (a missing field is NULL), checked against
 * a configuration that uses every restriction. Replies must be 4xx/5xx
 * with a matching enhanced code and text and log lines free of control
 * characters; a recipient outside the local domains from outside
 * mynetworks must never be accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "maincf.h"
#include "smtpd_check.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const char conf[] =
    "myhostname = mx.example.test\n"
    "mydomain = example.test\n"
    "mydestination = $myhostname, localhost, example.test, [192.0.2.1]\n"
    "mynetworks = 127.0.0.0/8, [::1]/128, !192.0.2.66, 192.0.2.0/24\n"
    "relay_domains = .relay.example\n"
    "virtual_mailbox_domains = v.example\n"
    "virtual_mailbox_maps = inline:{a@v.example=a/}\n"
    "local_recipient_maps = inline:{root=1}\n"
    "recipient_delimiter = +-\n"
    "smtpd_restriction_classes = cls\n"
    "cls = check_client_access inline:{127.0.0.1=OK}, reject_non_fqdn_sender\n"
    "smtpd_client_restrictions = check_client_access inline:{{10.0.0.1=REJECT 5.7.2 x},"
    " 10.0.0.2=HOLD, .bad.example=cls, 10.0.0=DISCARD}\n"
    "smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,"
    " check_helo_access inline:{h.example=DEFER}\n"
    "smtpd_sender_restrictions = check_sender_access inline:{<>=DUNNO, x@=cls,"
    " {.e.example=permit_mynetworks, reject}}\n"
    "smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unlisted_recipient,"
    " check_recipient_access inline:{{r@example.test=450 4.1.1 later}}\n";

static struct config *cfg;
static struct smtpd_check *chk;

static void check_reply(enum smtpd_check_result r, const struct smtpd_check_reply *rep)
{
    CHECK(rep->result == r);
    for (const char *p = rep->text; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    for (const char *p = rep->log; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    CHECK(memchr(rep->text, 0, sizeof(rep->text)) && memchr(rep->log, 0, sizeof(rep->log)));
    if (r == SMTPD_CHECK_REJECT || r == SMTPD_CHECK_DEFER) {
        CHECK(rep->code >= (r == SMTPD_CHECK_REJECT ? 500 : 400));
        CHECK(rep->code < (r == SMTPD_CHECK_REJECT ? 600 : 500));
        CHECK(rep->enh[0] == '0' + rep->code / 100 && rep->enh[1] == '.');
        CHECK(rep->text[0] != 0 && rep->log[0] != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1), *field[5] = {NULL, NULL, NULL, NULL, NULL};
    struct smtpd_check_state st;
    struct smtpd_check_reply rep;
    enum smtpd_check_result r;
    size_t n = 0, start = 0;

    if (chk == NULL) {
        struct buf err = BUF_INIT;

        log_to_stderr(0);
        cfg = config_parse("fuzz.cf", conf, sizeof(conf) - 1, &err);
        CHECK(cfg != NULL);
        chk = smtpd_check_open(cfg, &err);
        CHECK(chk != NULL);
        buf_free(&err);
    }
    memcpy(copy, data, size);
    copy[size] = 0;
    for (size_t i = 0; i <= size && n < 5; i++) {
        if (i == size || copy[i] == 0) {
            field[n++] = copy + start;
            start = i + 1;
        }
    }
    memset(&st, 0, sizeof(st));
    st.client_addr = field[0];
    st.client_name = field[1];
    st.helo = field[2];
    st.sender = field[3];
    st.recipient = field[4];
    r = smtpd_check_rcpt(chk, &st, &rep);
    check_reply(r, &rep);
    if ((r == SMTPD_CHECK_OK || r == SMTPD_CHECK_DUNNO) && st.recipient && !st.discard
        && smtpd_check_mynetworks(chk, st.client_addr ? st.client_addr : "") == 0) {
        /* Accepted from outside: only our own domains. */
        CHECK(strcasestr(st.recipient, "example.test") || strcasestr(st.recipient, "v.example")
              || strcasestr(st.recipient, "relay.example") || strcasestr(st.recipient, "[192.0.2.1]")
              || strchr(st.recipient, '@') == NULL);
    }
    r = smtpd_check_rcpt(chk, &st, &rep);
    check_reply(r, &rep);
    smtpd_check_new_transaction(&st);
    r = smtpd_check_rcpt(chk, &st, &rep);
    check_reply(r, &rep);
    smtpd_check_state_free(&st);
    free(copy);
    return 0;
}
