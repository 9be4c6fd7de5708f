/*
 * smtp_addr - RFC 5321 envelope addresses (reverse-path and forward-path).
 *
 * smtp_addr_parse() takes the address text of a MAIL FROM or RCPT TO
 * command, exactly as the client sent it ("<user@example.org>", "<>",
 * "<@relay.example:user@example.org>", or a bare "user@example.org" when
 * the caller allows it) and fills a struct smtp_addr. Nothing is
 * allocated: every field is a fixed-size array inside the struct, so the
 * struct can live on the stack, be copied with memcpy() and needs no
 * free function. Every function here is total: any bytes, any length
 * (NUL bytes included) give a result or an error code, never a crash and
 * never a read past s[len - 1].
 *
 * What the parser accepts (RFC 5321 section 4.1.2, RFC 6531 section 3.3):
 *   Path        "<" [route ":"] Mailbox ">"     route: "@dom,@dom2"
 *   Mailbox     Local-part ["@" Domain-or-literal]
 *   Local-part  Dot-string (atext and dots, no leading, trailing or double
 *               dot) or Quoted-string ("..." with printable ASCII and
 *               backslash-pairs \x for x in 32..126)
 *   Domain      LDH labels of 1..63 octets, no leading or trailing hyphen,
 *               optionally ONE trailing dot (accepted, flagged)
 *   Literal     "[" IPv4 "]" or "[IPv6:" IPv6 "]" (tag case-insensitive);
 *               other tagged literals are refused
 *   UTF-8       with SMTP_ADDR_UTF8 only (the client said SMTPUTF8):
 *               strict UTF-8 (no overlongs, no surrogates, nothing past
 *               U+10FFFF) is then allowed in atext, quoted text and domain
 *               labels. Full IDNA validation of U-labels is not done.
 * Postfix-style leniency: an address without a domain ("<postmaster>",
 * "<user>") is accepted with SMTP_ADDR_F_NO_DOMAIN set, as Postfix's
 * smtpd accepts it; reject_non_fqdn_* decide later.
 * Deliberately refused although the grammar allows it: an empty quoted
 * local part (""@example.org), because its internal form "@example.org"
 * would look like a catch-all lookup key.
 *
 * Length limits (RFC 5321 section 4.5.3.1), in octets as written on the
 * wire: local part 64 (quotes and backslashes counted), domain 255 (a
 * trailing dot counted), whole path 256 including "<", ">" and any source
 * route (a bare address counts as if it had the two brackets).
 */
#ifndef POSTERN_SMTP_ADDR_H
#define POSTERN_SMTP_ADDR_H

#include <stddef.h>

struct buf;

#define SMTP_ADDR_LOCAL_MAX  64
#define SMTP_ADDR_DOMAIN_MAX 255
#define SMTP_ADDR_PATH_MAX   256

/* Flags for smtp_addr_parse(). */
#define SMTP_ADDR_UTF8       (1u << 0)  /* SMTPUTF8 given: UTF-8 allowed */
#define SMTP_ADDR_ALLOW_NULL (1u << 1)  /* "<>" accepted (MAIL FROM only) */
#define SMTP_ADDR_ALLOW_BARE (1u << 2)  /* no <> accepted (strict_rfc821_envelopes = no) */

/* What the parser found (struct smtp_addr.flags). */
#define SMTP_ADDR_F_NULL         (1u << 0)  /* "<>": local and domain are "" */
#define SMTP_ADDR_F_BARE         (1u << 1)  /* written without "<" ">" */
#define SMTP_ADDR_F_ROUTE        (1u << 2)  /* had a source route, see .route */
#define SMTP_ADDR_F_QUOTED       (1u << 3)  /* local part was a Quoted-string */
#define SMTP_ADDR_F_LITERAL      (1u << 4)  /* domain is "[...]" (IPv4 or IPv6) */
#define SMTP_ADDR_F_LITERAL_V6   (1u << 5)  /* ... and it is "[IPv6:...]" */
#define SMTP_ADDR_F_TRAILING_DOT (1u << 6)  /* "user@example.org." (dot NOT kept in .domain) */
#define SMTP_ADDR_F_NO_DOMAIN    (1u << 7)  /* no "@domain" at all */
#define SMTP_ADDR_F_UTF8         (1u << 8)  /* local part or domain has non-ASCII */
#define SMTP_ADDR_F_NUMERIC      (1u << 9)  /* domain is all digits and dots (no []) */

struct smtp_addr {
    /*
     * The local part DECODED: quotes removed, backslash-pairs undone. It
     * may contain '@', '%', '!', spaces and quotes; never a control
     * character or NUL. To print or store it in external form, use
     * smtp_addr_format()/smtp_addr_quote_local().
     */
    char local[SMTP_ADDR_LOCAL_MAX + 1];
    /* Domain as written (case kept), without a trailing dot; an address
     * literal keeps its brackets: "[192.0.2.1]", "[IPv6:2001:db8::1]". */
    char domain[SMTP_ADDR_DOMAIN_MAX + 1];
    /* Source route as written, without the ':' ("@a.example,@b.example"),
     * or "". The route is NOT part of the address (RFC 5321 section C). */
    char route[SMTP_ADDR_PATH_MAX + 1];
    size_t local_len, domain_len;
    unsigned flags;             /* SMTP_ADDR_F_* */
};

/* Results of smtp_addr_parse(). Reply codes are what smtp_cmd uses. */
enum smtp_addr_err {
    SMTP_ADDR_OK = 0,
    SMTP_ADDR_ESYNTAX,      /* bad syntax: 501 5.1.7 (sender) / 501 5.1.3 (recipient) */
    SMTP_ADDR_ELOCAL_LONG,  /* local part > 64: same codes */
    SMTP_ADDR_EDOMAIN_LONG, /* domain > 255 or a label > 63: same codes */
    SMTP_ADDR_EPATH_LONG,   /* path > 256: same codes */
    SMTP_ADDR_ENULL,        /* "<>" without SMTP_ADDR_ALLOW_NULL: 501 5.1.3 */
    SMTP_ADDR_EBARE,        /* no "<>" without SMTP_ADDR_ALLOW_BARE: 501 5.1.7 / 5.1.3 */
    SMTP_ADDR_E8BIT,        /* non-ASCII without SMTP_ADDR_UTF8: 553 5.6.7 (RFC 6531) */
    SMTP_ADDR_EUTF8,        /* malformed UTF-8 (overlong, surrogate, ...): 501 5.5.2 */
};

/*
 * Parse one path of len bytes (s need not be NUL-terminated). Leading or
 * trailing white space is NOT skipped: the caller passes the path only.
 * Returns SMTP_ADDR_OK and fills *out, or an error code; on error *out
 * is zeroed (all strings "").
 */
enum smtp_addr_err smtp_addr_parse(const char *s, size_t len, unsigned flags,
                                   struct smtp_addr *out);

/* A short English text for an error code ("bad address syntax", ...). */
const char *smtp_addr_strerror(enum smtp_addr_err err);

/*
 * Relay tricks (for reject_unauth_destination and friends): a bit mask
 * of what a parsed address holds that could route mail somewhere other
 * than what its domain says. 0 means none.
 *   PERCENT  '%' in the decoded local part  (user%other@mydomain)
 *   BANG     '!' in the decoded local part  (other!user@mydomain)
 *   AT       '@' in the decoded local part  ("user@other"@mydomain)
 *   ROUTE    a source route was given       (<@mydomain:user@other>)
 *   DOT      trailing dot on the domain     (user@mydomain.)
 *   LITERAL  the domain is an IP literal    (user@[192.0.2.1])
 *   NUMERIC  the domain is all digits and dots (user@192.0.2.1)
 * Postfix refuses PERCENT, BANG and AT for non-local senders when the
 * domain is one of ours (allow_untrusted_routing = no); an MTA that
 * strips the route and the trailing dot, as this parser does, is safe
 * from ROUTE and DOT, but the caller may want to log or refuse them.
 */
#define SMTP_ADDR_TRICK_PERCENT  (1u << 0)
#define SMTP_ADDR_TRICK_BANG     (1u << 1)
#define SMTP_ADDR_TRICK_AT       (1u << 2)
#define SMTP_ADDR_TRICK_ROUTE    (1u << 3)
#define SMTP_ADDR_TRICK_DOT      (1u << 4)
#define SMTP_ADDR_TRICK_LITERAL  (1u << 5)
#define SMTP_ADDR_TRICK_NUMERIC  (1u << 6)
unsigned smtp_addr_tricks(const struct smtp_addr *a);
/* The PERCENT | BANG | AT part only: does the local part hide a route? */
unsigned smtp_addr_local_route_chars(const struct smtp_addr *a);

/*
 * Append local[0..len) to out in external form, as Postfix's
 * quote_822_local does: unchanged when it is a valid Dot-string (UTF-8
 * counts as atext), otherwise wrapped in double quotes with '"' and '\'
 * backslash-escaped. An empty local part becomes "". Returns 0, or -1
 * when out's limit is reached (out is then truncated to what it held).
 */
int smtp_addr_quote_local(struct buf *out, const char *local, size_t len);

/*
 * Append the address in external form to out, "local@domain" with the
 * local part quoted as needed; "" for the null sender; no route; the
 * trailing dot restored when SMTP_ADDR_F_TRAILING_DOT is set. Parsing
 * "<" + result + ">" with the same flags gives back the same local,
 * domain and SMTP_ADDR_F_NULL/TRAILING_DOT/LITERAL/NO_DOMAIN flags.
 * smtp_addr_format_path() adds the angle brackets. 0 or -1 (limit).
 */
int smtp_addr_format(struct buf *out, const struct smtp_addr *a);
int smtp_addr_format_path(struct buf *out, const struct smtp_addr *a);

/*
 * Append the internal (unquoted) form "local@domain" (Postfix's internal
 * form; "local" alone without a domain; "" for the null sender). WARNING:
 * it is ambiguous ("a@b"@c gives a@b@c); decide on relaying with the
 * fields of struct smtp_addr, never by re-parsing this string.
 */
int smtp_addr_internal(struct buf *out, const struct smtp_addr *a);

/*
 * Canonicalise in place: ASCII letters of the domain (and of an address
 * literal) lower-cased, trailing-dot flag cleared (the dot is already
 * gone from .domain). The local part is left alone (it is case-sensitive
 * by RFC 5321; lookups fold it themselves).
 */
void smtp_addr_canonicalise(struct smtp_addr *a);

/*
 * Check a domain name or an address literal on its own (e.g. the EHLO
 * argument for reject_invalid_helo_hostname). Same rules as for the
 * domain of a path; a trailing dot is refused here. flags: SMTP_ADDR_UTF8
 * or 0. Returns SMTP_ADDR_OK, SMTP_ADDR_ESYNTAX, SMTP_ADDR_EDOMAIN_LONG,
 * SMTP_ADDR_E8BIT or SMTP_ADDR_EUTF8. *is_literal (may be NULL) is set
 * to 1 for "[...]", 0 otherwise.
 */
enum smtp_addr_err smtp_addr_check_domain(const char *s, size_t len, unsigned flags,
                                          int *is_literal);

/*
 * Strict UTF-8 (RFC 3629): returns 1 when s[0..len) is well-formed (no
 * overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF,
 * no truncated sequences; ASCII including NUL is fine), else 0.
 */
int smtp_utf8_valid(const char *s, size_t len);
/* Length of the well-formed UTF-8 sequence at s[0..len), 0 if malformed. */
size_t smtp_utf8_seq_len(const unsigned char *s, size_t len);

#endif
