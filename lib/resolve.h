/*
 * resolve - which transport and next hop a recipient goes to: Postfix's
 * trivial-rewrite "resolve" step, used by qmgr for every recipient.
 *
 * For ADDRESS = localpart@domain (the domain compared case-insensitively,
 * a trailing dot ignored), in this order:
 *
 *   1. transport_maps (transport(5)): the full address, then (with
 *      recipient_delimiter) the address without its extension, then the
 *      domain, then each parent ".domain" (".example.com" for
 *      a.b.example.com, then ".com"), then "*". A result "transport:nexthop"
 *      overrides the class default below; an empty transport keeps the
 *      class's transport, an empty nexthop keeps the class's nexthop
 *      (the domain, or relayhost for the default class); "error:TEXT"
 *      and "discard:TEXT" carry TEXT as nexthop. A table failure is a
 *      temporary failure of the whole resolve.
 *   2. the address class:
 *        domain in mydestination or an address literal [ip] of this host
 *            -> local_transport (default "local:$myhostname")
 *        domain in virtual_alias_domains
 *            -> error, "5.1.1 User unknown in virtual alias table"
 *        domain in virtual_mailbox_domains
 *            -> virtual_transport
 *        domain in relay_domains
 *            -> relay_transport (nexthop: relayhost if set, else domain)
 *        anything else
 *            -> default_transport (nexthop: relayhost if set, else domain)
 *      "transport:nexthop" values of these parameters are split the same
 *      way. An address without @ is local. A domain list entry may be a
 *      table (type:name, looked up by domain) or a plain domain; in
 *      Postfix's default (parent_domain_matches_subdomains), a plain
 *      ".example.com" entry matches subdomains only.
 *
 * Parameters are read once at resolver_open(); tables stay open.
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include "buf.h"
#include "maincf.h"

enum resolve_class {
    RESOLVE_LOCAL,
    RESOLVE_VIRTUAL_ALIAS,
    RESOLVE_VIRTUAL,
    RESOLVE_RELAY,
    RESOLVE_DEFAULT,
};

#define RESOLVE_MAX_TRANSPORT 64
#define RESOLVE_MAX_NEXTHOP   1024

struct resolved {
    enum resolve_class cls;
    char transport[RESOLVE_MAX_TRANSPORT + 1];  /* "local", "smtp", "error" */
    char nexthop[RESOLVE_MAX_NEXTHOP + 1];
};

struct resolver;

struct resolver *resolver_open(const struct config *cfg, struct buf *err);
void resolver_close(struct resolver *r);

/* 0 filled in; -1 temporary failure (why); a table or config error. */
int resolve_addr(struct resolver *r, const char *address, struct resolved *out,
                 struct buf *why);

#endif
