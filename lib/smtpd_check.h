/*
 * smtpd_check - smtpd's access restrictions, with Postfix's names and
 * semantics (smtpd_client_restrictions, smtpd_helo_restrictions,
 * smtpd_sender_restrictions, smtpd_relay_restrictions,
 * smtpd_recipient_restrictions, smtpd_delay_reject).
 *
 * A restriction list is evaluated left to right; the first restriction
 * that decides (OK/permit, REJECT, DEFER) ends that list; DUNNO goes on;
 * a list that ends without a decision is DUNNO. Supported restrictions:
 *
 *   permit, reject, defer, permit_mynetworks, reject_unauth_destination,
 *   defer_unauth_destination, reject_unlisted_recipient,
 *   reject_non_fqdn_sender, reject_non_fqdn_recipient,
 *   reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname,
 *   check_client_access TABLE, check_helo_access TABLE,
 *   check_sender_access TABLE, check_recipient_access TABLE,
 *   and the names of smtpd_restriction_classes.
 *
 * Access table results: OK, REJECT [text], DEFER [text], DUNNO, a "4xx"
 * or "5xx" [text] reply, HOLD [text], DISCARD [text], and a restriction
 * class name or restriction list ("permit_mynetworks, reject"). A table
 * that cannot answer (LDAP down) is a DEFER with 451 4.3.0, never DUNNO.
 * An unknown restriction or a missing table argument is a configuration
 * error: smtpd_check_open fails, naming the parameter.
 *
 * reject_unauth_destination refuses every classic relay trick from a
 * client that is not otherwise permitted: the percent hack
 * (user%other@mydomain), bang paths (other!user@mydomain), source routes,
 * quoted local parts hiding '@', trailing dots, address literals
 * (smtp_addr.h reports them). Local domains are mydestination,
 * virtual_alias_domains, virtual_mailbox_domains; relay_domains may
 * receive too.
 */
#ifndef POSTERN_SMTPD_CHECK_H
#define POSTERN_SMTPD_CHECK_H

#include "buf.h"
#include "maincf.h"

struct smtpd_check;

/* Parse every restriction list of cfg and open its tables. NULL with err. */
struct smtpd_check *smtpd_check_open(const struct config *cfg, struct buf *err);
void smtpd_check_close(struct smtpd_check *chk);

enum smtpd_check_result {
    SMTPD_CHECK_DUNNO,              /* no decision: go on */
    SMTPD_CHECK_OK,                 /* permitted */
    SMTPD_CHECK_REJECT,             /* 5xx */
    SMTPD_CHECK_DEFER,              /* 4xx */
};

struct smtpd_check_reply {
    enum smtpd_check_result result;
    int code;                       /* e.g. 554 */
    char enh[16];                   /* e.g. "5.7.1" */
    char text[512];                 /* e.g. "<a@b>: Relay access denied" */
    char log[512];                  /* Postfix's reject log detail */
};

/* What smtpd knows about the session; it fills this in as it learns. */
struct smtpd_check_state {
    const char *client_addr;        /* "192.0.2.1", "2001:db8::1" */
    const char *client_name;        /* verified name, or "unknown" */
    const char *helo;               /* NULL before HELO/EHLO */
    const char *sender;             /* NULL before MAIL; "" for <> */
    const char *recipient;          /* the RCPT being checked */
    int hold;                       /* set by a HOLD action: queue it on hold */
    int discard;                    /* set by a DISCARD action: accept and drop */
    /* Internal to smtpd_check (smtpd_delay_reject): stages already decided. */
    unsigned done;
    struct smtpd_check_reply *early;
};

/* A new transaction (MAIL after RSET or after a message): forget sender results. */
void smtpd_check_new_transaction(struct smtpd_check_state *st);
/* The session ends: free what smtpd_check kept in st. */
void smtpd_check_state_free(struct smtpd_check_state *st);

/*
 * One stage each. With smtpd_delay_reject = yes (the default) smtpd calls
 * only smtpd_check_rcpt, which evaluates the client, helo and sender
 * restrictions first (once per session/transaction, remembered), then
 * smtpd_relay_restrictions and smtpd_recipient_restrictions. Each returns
 * the result and fills reply for REJECT and DEFER.
 */
enum smtpd_check_result smtpd_check_client(struct smtpd_check *chk,
                                           struct smtpd_check_state *st,
                                           struct smtpd_check_reply *reply);
enum smtpd_check_result smtpd_check_helo(struct smtpd_check *chk,
                                         struct smtpd_check_state *st,
                                         struct smtpd_check_reply *reply);
enum smtpd_check_result smtpd_check_sender(struct smtpd_check *chk,
                                           struct smtpd_check_state *st,
                                           struct smtpd_check_reply *reply);
enum smtpd_check_result smtpd_check_rcpt(struct smtpd_check *chk,
                                         struct smtpd_check_state *st,
                                         struct smtpd_check_reply *reply);

/* Is addr in mynetworks? */
int smtpd_check_mynetworks(struct smtpd_check *chk, const char *addr);

#endif
