/*
 * smtpd_peer - who the client is, and how many sessions it has open.
 *
 * Client name: the address only, name "unknown". A reverse lookup with
 * forward confirmation would block the event loop (getnameinfo() is
 * synchronous, and inside the chroot the resolver files are out of
 * reach); it comes back with an asynchronous resolver.
 *
 * smtpd_client_connection_count_limit is counted here, in this process,
 * because anvil does not exist yet: an smtpd process serves many
 * sessions from one event loop, so this is exact while master runs one
 * smtpd per service, and a lower bound otherwise. Clients in mynetworks
 * are exempt, as with Postfix's default smtpd_client_event_limit_exceptions.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dict.h"
#include "log.h"
#include "mem.h"
#include "smtpd.h"

struct peer_count {
    char addr[64];
    long count;
    struct peer_count *next;
};

static struct peer_count *peers;

void smtpd_peer_init(struct smtpd_session *s, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    snprintf(s->addr, sizeof(s->addr), "unknown");
    snprintf(s->port, sizeof(s->port), "unknown");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0
        && getnameinfo((struct sockaddr *)&ss, sl, s->addr, sizeof(s->addr), s->port,
                       sizeof(s->port), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        /* IPv4 in IPv6 clothing: show it as IPv4, as Postfix does. */
        if (strncasecmp(s->addr, "::ffff:", 7) == 0 && strchr(s->addr + 7, '.'))
            memmove(s->addr, s->addr + 7, strlen(s->addr + 7) + 1);
    }
    snprintf(s->name, sizeof(s->name), "unknown");
    snprintf(s->namaddr, sizeof(s->namaddr), "%s[%s]", s->name, s->addr);
}

int smtpd_peer_in_mynetworks(const char *addr)
{
    return smtpd_par.check != NULL && smtpd_check_mynetworks(smtpd_par.check, addr) == 1;
}

long smtpd_peer_enter(const char *addr)
{
    struct peer_count *p;

    for (p = peers; p; p = p->next)
        if (strcmp(p->addr, addr) == 0)
            break;
    if (p == NULL) {
        p = xcalloc(1, sizeof(*p));
        snprintf(p->addr, sizeof(p->addr), "%s", addr);
        p->next = peers;
        peers = p;
    }
    if (smtpd_par.conn_count_limit > 0 && p->count >= smtpd_par.conn_count_limit
        && !smtpd_peer_in_mynetworks(addr))
        return p->count;
    p->count++;
    return 0;
}

void smtpd_peer_leave(const char *addr)
{
    struct peer_count **pp, *p;

    if (addr[0] == 0)
        return;
    for (pp = &peers; (p = *pp) != NULL; pp = &p->next) {
        if (strcmp(p->addr, addr) != 0)
            continue;
        if (--p->count <= 0) {
            *pp = p->next;
            free(p);
        }
        return;
    }
}

enum smtp_data_policy smtpd_peer_bare_newline_policy(const char *addr)
{
    struct buf value = BUF_INIT, why = BUF_INIT;
    int excluded = 0;

    if (smtpd_par.bare_newline == SMTP_DATA_NORMALIZE)
        return SMTP_DATA_NORMALIZE;
    if (smtpd_par.bare_newline_excl_mynetworks)
        excluded = smtpd_peer_in_mynetworks(addr);
    else if (smtpd_par.bare_newline_exclusions)
        excluded = dict_lookup(smtpd_par.bare_newline_exclusions, addr, &value, &why)
                   == DICT_FOUND;
    buf_free(&value);
    buf_free(&why);
    return excluded ? SMTP_DATA_NORMALIZE : SMTP_DATA_REJECT;
}
