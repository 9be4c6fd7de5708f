/*
 * param_table - the compiled-in list of every main.cf parameter.
 *
 * One row per parameter: Postfix's name where the feature is the same,
 * the type main.cf checks the value against, Postfix's documented default
 * (with its $name references and, for times, its unit letter) and the
 * one-line description that `postconf -d` users and conf/main.cf readers
 * see. The rows MUST stay sorted by name (strcmp order): param_find() is a
 * binary search, and a unit test checks the order.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "param_table.h"

#define NOLIM 0, 0                  /* min/max for non-integer types */
#define POS 1, INT_MAX              /* positive integer */
#define NONNEG 0, INT_MAX           /* zero or positive integer */

/* Shorthand for one row: name, type, default, min, max, flags, text. */
#define STR(n, d, t)    { n, PT_STR, d, NOLIM, 0, t, NULL }
#define LIST(n, d, t)   { n, PT_LIST, d, NOLIM, 0, t, NULL }
#define BOOL(n, d, t)   { n, PT_BOOL, d, NOLIM, 0, t, NULL }
#define TIME(n, d, t)   { n, PT_TIME, d, NOLIM, 0, t, NULL }
#define SIZE(n, d, t)   { n, PT_SIZE, d, NOLIM, 0, t, NULL }
#define INT(n, d, r, t) { n, PT_INT, d, r, 0, t, NULL }
#define ENUM(n, d, c, t)  { n, PT_STR, d, NOLIM, 0, t, c }
#define ELIST(n, d, c, t) { n, PT_LIST, d, NOLIM, 0, t, c }
#define DYN(n, t)       { n, PT_STR, "", NOLIM, PARAM_DYNAMIC, t, NULL }

const struct param_def param_table[] = {
    LIST("alias_database", "hash:/etc/aliases",
         "alias databases that newaliases rebuilds"),
    LIST("alias_maps", "hash:/etc/aliases",
         "alias tables that local delivery consults"),
    LIST("allow_mail_to_commands", "alias, forward",
         "where local delivery to |command is allowed (alias, forward, include)"),
    LIST("allow_mail_to_files", "alias, forward",
         "where local delivery to /file is allowed (alias, forward, include)"),
    BOOL("append_at_myorigin", "yes",
         "append @$myorigin to addresses without a domain"),
    BOOL("append_dot_mydomain", "no",
         "append .$mydomain to addresses in the form user@host"),
    BOOL("biff", "yes",
         "notify the local biff service of new mail"),
    TIME("bounce_queue_lifetime", "5d",
         "how long a bounce message may stay queued before it is given up"),
    LIST("canonical_maps", "",
         "address mapping tables for header and envelope addresses"),
    STR("command_directory", "/usr/sbin",
        "where the postern command-line tools are installed"),
    STR("config_directory", "/etc/postern",
        "where main.cf and master.cf live"),
    STR("daemon_directory", "/usr/libexec/postern",
        "where the postern daemon programs are installed"),
    TIME("daemon_timeout", "18000s",
         "how long a daemon may handle one request before it is killed"),
    STR("data_directory", "/var/lib/postern",
        "where postern keeps writable caches and random seeds"),
    STR("default_database_type", "lmdb",
        "table type used when a table name has no type: prefix (postmap, postalias)"),
    INT("default_destination_concurrency_limit", "20", POS,
        "parallel deliveries to one destination, per transport"),
    INT("default_destination_recipient_limit", "50", NONNEG,
        "recipients per delivery to one destination (0: no limit)"),
    INT("default_process_limit", "100", POS,
        "default maximum number of processes per master.cf service"),
    STR("default_transport", "smtp",
        "delivery transport for remote destinations"),
    TIME("delay_warning_time", "0h",
         "when to tell the sender that mail is delayed (0: never)"),
    BOOL("disable_vrfy_command", "no",
         "reject the SMTP VRFY command"),
    LIST("export_environment", "TZ MAIL_CONFIG LANG",
         "environment variables passed on to external commands"),
    INT("header_size_limit", "102400", POS,
        "maximum bytes of one message header, including continuation lines"),
    STR("home_mailbox", "",
        "mailbox file or Maildir/ relative to the user's home (empty: mail_spool_directory)"),
    INT("hopcount_limit", "50", POS,
        "maximum Received: headers before mail is bounced as looping"),
    LIST("import_environment",
         "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C",
         "environment variables that programs keep when they start"),
    LIST("inet_interfaces", "all",
         "network addresses to receive mail on (all, loopback-only or a list)"),
    ELIST("inet_protocols", "all", "all ipv4 ipv6",
         "IP protocols to use: all, ipv4, ipv6"),
    TIME("ipc_idle", "5s",
         "how long a client keeps an idle connection to an internal service"),
    TIME("ipc_timeout", "3600s",
         "time limit for reading or writing over an internal connection"),
    INT("line_length_limit", "2048", POS,
        "longest line that is kept in one piece when receiving mail"),
    LIST("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps",
         "tables of local users; mail for other local addresses is rejected"),
    STR("local_transport", "local:$myhostname",
        "delivery transport for domains in $mydestination"),
    STR("luser_relay", "",
         "where local delivery sends mail for unknown local users (empty: bounce)"),
    STR("mail_name", "postern",
        "the mail system name shown in the SMTP greeting and bounces"),
    STR("mail_owner", "postern",
        "the unprivileged user that owns the queue and runs the daemons"),
    STR("mail_spool_directory", "/var/mail",
        "directory of UNIX-style mailboxes (a trailing / means Maildir)"),
    STR("mailbox_command", "",
        "external command that local delivery pipes mail to (empty: deliver itself)"),
    SIZE("mailbox_size_limit", "51200000",
         "maximum size of a local mailbox or Maildir file (0: no limit)"),
    STR("maillog_file", "",
        "log to this file instead of syslog (empty: syslog)"),
    LIST("masquerade_classes", "envelope_sender, header_sender, header_recipient",
         "which addresses masquerade_domains rewrites"),
    LIST("masquerade_domains", "",
         "domains whose subdomains are stripped from addresses"),
    LIST("masquerade_exceptions", "",
         "user names that are never masqueraded"),
    TIME("master_stop_timeout", "10s",
         "how long master waits for its children at stop before SIGKILL"),
    TIME("max_idle", "100s",
         "how long an idle service process waits for work before it exits"),
    INT("max_use", "100", POS,
        "requests a service process handles before it exits"),
    TIME("maximal_backoff_time", "4000s",
         "longest time between delivery attempts of deferred mail"),
    TIME("maximal_queue_lifetime", "5d",
         "how long undeliverable mail stays queued before it is bounced"),
    SIZE("message_size_limit", "10240000",
         "maximum size of a message, envelope and headers included"),
    TIME("minimal_backoff_time", "300s",
         "shortest time between delivery attempts of deferred mail"),
    LIST("mydestination", "$myhostname, localhost.$mydomain, localhost",
         "domains delivered locally by the local transport"),
    DYN("mydomain",
        "the Internet domain of this host (default: $myhostname minus its first label)"),
    DYN("myhostname",
        "the fully-qualified name of this host (default: from the system)"),
    LIST("mynetworks", "127.0.0.0/8 [::1]/128",
         "trusted client networks that may relay"),
    ENUM("mynetworks_style", "host", "host subnet class",
        "how mynetworks is computed when not set: host, subnet or class"),
    STR("myorigin", "$myhostname",
        "domain appended to addresses of locally posted mail"),
    LIST("notify_classes", "resource, software",
         "problems reported to the postmaster"),
    ELIST("propagate_unmatched_extensions", "canonical, virtual",
          "canonical virtual alias forward include generic",
          "lookups that keep an unmatched address extension (user+ext)"),
    LIST("proxy_read_maps",
         "$local_recipient_maps $mydestination $virtual_alias_maps "
         "$virtual_alias_domains $virtual_mailbox_maps $virtual_mailbox_domains "
         "$relay_domains $canonical_maps $sender_canonical_maps "
         "$recipient_canonical_maps $transport_maps $mynetworks "
         "$smtpd_client_restrictions $smtpd_helo_restrictions "
         "$smtpd_sender_restrictions $smtpd_relay_restrictions "
         "$smtpd_recipient_restrictions $alias_maps",
         "tables that lookupd may open for reading"),
    INT("qmgr_message_active_limit", "20000", POS,
        "maximum number of messages in the active queue"),
    STR("queue_directory", "/var/spool/postern",
        "root of the mail queue"),
    TIME("queue_run_delay", "300s",
         "how often the queue manager scans the deferred queue"),
    LIST("recipient_canonical_maps", "",
         "address mapping tables for recipient addresses"),
    STR("recipient_delimiter", "",
        "separator between user name and extension, e.g. + (empty: none)"),
    LIST("relay_domains", "",
         "remote domains this host relays mail to"),
    STR("relayhost", "",
        "next-hop host for remote mail (empty: direct MX delivery)"),
    LIST("sender_canonical_maps", "",
         "address mapping tables for sender addresses"),
    TIME("service_throttle_time", "60s",
         "how long master waits before restarting a failing service"),
    STR("setgid_group", "postdrop",
        "group of the mail submission and queue inspection tools"),
    STR("smtp_helo_name", "$myhostname",
        "host name that the SMTP client sends in HELO/EHLO"),
    STR("smtpd_banner", "$myhostname ESMTP $mail_name",
        "text that follows 220 in the SMTP greeting"),
    INT("smtpd_client_connection_count_limit", "50", NONNEG,
        "simultaneous connections from one client (0: no limit)"),
    LIST("smtpd_client_restrictions", "",
         "restrictions applied when a client connects"),
    BOOL("smtpd_delay_reject", "yes",
         "wait for RCPT TO before rejecting at client, HELO or sender stage"),
    TIME("smtpd_error_sleep_time", "1s",
         "delay before each reply once a client has made smtpd_soft_error_limit errors"),
    ENUM("smtpd_forbid_bare_newline", "yes", "yes reject normalize no",
        "bare LF or CR in SMTP input: yes/reject (refuse), normalize, no"),
    LIST("smtpd_forbid_bare_newline_exclusions", "$mynetworks",
         "clients exempt from smtpd_forbid_bare_newline"),
    INT("smtpd_hard_error_limit", "20", POS,
        "errors after which the SMTP server disconnects"),
    LIST("smtpd_helo_restrictions", "",
         "restrictions applied to HELO/EHLO"),
    INT("smtpd_recipient_limit", "1000", POS,
        "recipients accepted per message"),
    LIST("smtpd_recipient_restrictions", "",
         "restrictions applied to RCPT TO, after smtpd_relay_restrictions"),
    LIST("smtpd_relay_restrictions",
         "permit_mynetworks, reject_unauth_destination",
         "relay control applied to RCPT TO"),
    LIST("smtpd_restriction_classes", "",
         "names of user-defined restriction lists"),
    LIST("smtpd_sender_restrictions", "",
         "restrictions applied to MAIL FROM"),
    INT("smtpd_soft_error_limit", "10", NONNEG,
        "errors after which the SMTP server slows down its replies"),
    TIME("smtpd_timeout", "300s",
         "time limit for a client to send a command or data"),
    STR("smtpd_tls_cert_file", "",
        "PEM file with the SMTP server certificate (and chain)"),
    STR("smtpd_tls_key_file", "$smtpd_tls_cert_file",
        "PEM file with the SMTP server private key"),
    ENUM("smtpd_tls_security_level", "", "none may encrypt",
        "SMTP server TLS: none, may (offer STARTTLS) or encrypt (require it)"),
    STR("syslog_facility", "mail",
        "syslog facility of postern's log lines"),
    STR("syslog_name", "postern",
        "prefix of postern's log lines"),
    LIST("transport_maps", "",
         "tables that map recipients to transport:nexthop"),
    LIST("virtual_alias_domains", "$virtual_alias_maps",
         "domains whose every address is an alias to somewhere else"),
    INT("virtual_alias_expansion_limit", "1000", POS,
        "maximum number of addresses one virtual alias expansion may produce"),
    LIST("virtual_alias_maps", "",
         "alias tables for any address, applied before delivery"),
    INT("virtual_alias_recursion_limit", "1000", POS,
        "maximum nesting depth of virtual alias expansion"),
    LIST("virtual_gid_maps", "",
         "tables with the group ID of each virtual mailbox"),
    STR("virtual_mailbox_base", "",
        "directory prefix of every virtual mailbox path"),
    LIST("virtual_mailbox_domains", "$virtual_mailbox_maps",
         "domains delivered by the virtual transport"),
    SIZE("virtual_mailbox_limit", "51200000",
         "maximum size of a virtual mailbox or Maildir file (0: no limit)"),
    LIST("virtual_mailbox_maps", "",
         "tables with the mailbox path of each virtual address"),
    INT("virtual_minimum_uid", "100", POS,
        "smallest user ID that virtual delivery accepts from virtual_uid_maps"),
    STR("virtual_transport", "virtual",
        "delivery transport for domains in $virtual_mailbox_domains"),
    LIST("virtual_uid_maps", "",
         "tables with the user ID of each virtual mailbox"),
};

const size_t param_count = sizeof(param_table) / sizeof(param_table[0]);

/* Compare a name with a table row, for bsearch(). */
static int cmp_name(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct param_def *)row)->name);
}

/* Find a parameter by name; NULL if it is not a built-in parameter. */
const struct param_def *param_find(const char *name)
{
    return bsearch(name, param_table, param_count, sizeof(param_table[0]),
                   cmp_name);
}

/* The word for a type, as `postconf` documentation and errors use it. */
const char *param_type_name(enum param_type type)
{
    switch (type) {
    case PT_STR: return "string";
    case PT_BOOL: return "boolean";
    case PT_INT: return "integer";
    case PT_TIME: return "time";
    case PT_SIZE: return "size";
    case PT_LIST: return "list";
    }
    return "unknown";
}
