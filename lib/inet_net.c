/*
 * inet_net - IPv4/IPv6 addresses and networks (see inet_net.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "inet_net.h"

#define INET_NET_MAX_TEXT 128

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* inet_pton for family chosen by the presence of ':'; no zone ids. */
static int parse_bytes(const char *s, int *family, unsigned char *out)
{
    *family = strchr(s, ':') ? AF_INET6 : AF_INET;
    if (*s == 0 || strchr(s, '%'))
        return -1;
    return inet_pton(*family, s, out) == 1 ? 0 : -1;
}

int inet_net_parse(const char *text, struct inet_net *net, struct buf *err)
{
    char copy[INET_NET_MAX_TEXT], *addr = copy, *slash, *close;
    unsigned long prefix;
    unsigned bits;
    size_t len = strlen(text), nbytes;

    memset(net, 0, sizeof(*net));
    if (len == 0 || len >= sizeof(copy)) {
        buf_printf(err, "bad network \"%.80s\"", text);
        return -1;
    }
    memcpy(copy, text, len + 1);
    if (*addr == '[') {
        addr++;
        if ((close = strchr(addr, ']')) == NULL) {
            buf_printf(err, "missing \"]\" in \"%s\"", text);
            return -1;
        }
        if (close[1] != 0 && close[1] != '/') {
            buf_printf(err, "text after \"]\" in \"%s\"", text);
            return -1;
        }
        /* [addr]/len -> addr/len; [addr] -> addr */
        memmove(close, close + 1, strlen(close + 1) + 1);
    }
    slash = strchr(addr, '/');
    if (slash)
        *slash++ = 0;
    if (parse_bytes(addr, &net->family, net->net) < 0) {
        buf_printf(err, "bad address \"%s\" in \"%s\"", addr, text);
        return -1;
    }
    bits = net->family == AF_INET6 ? 128 : 32;
    nbytes = bits / 8;
    if (slash) {
        if (*slash == 0 || strspn(slash, "0123456789") != strlen(slash) || strlen(slash) > 3
            || (prefix = strtoul(slash, NULL, 10)) > bits) {
            buf_printf(err, "bad prefix length in \"%s\" (want 0..%u)", text, bits);
            return -1;
        }
    } else {
        prefix = bits;
    }
    net->prefix = (unsigned)prefix;
    for (size_t i = 0; i < nbytes; i++) {
        unsigned have = net->prefix > i * 8 ? net->prefix - (unsigned)i * 8 : 0;

        net->mask[i] = have >= 8 ? 0xff : (unsigned char)((0xff00u >> have) & 0xff);
    }
    for (size_t i = 0; i < nbytes; i++) {
        if (net->net[i] & ~net->mask[i]) {
            char fixed[INET6_ADDRSTRLEN];
            unsigned char b[16];

            for (size_t j = 0; j < nbytes; j++)
                b[j] = net->net[j] & net->mask[j];
            if (inet_ntop(net->family, b, fixed, sizeof(fixed)) == NULL)
                strcpy(fixed, "?");
            buf_printf(err, "non-null host address bits in \"%s\", perhaps you should use"
                       " \"%s/%u\" instead", text, fixed, net->prefix);
            return -1;
        }
    }
    return 0;
}

int inet_addr_parse(const char *text, struct inet_addr *addr)
{
    char copy[INET_NET_MAX_TEXT];
    size_t len = strlen(text);

    memset(addr, 0, sizeof(*addr));
    if (len == 0 || len >= sizeof(copy))
        return -1;
    memcpy(copy, text, len + 1);
    if (copy[0] == '[') {
        if (copy[len - 1] != ']')
            return -1;
        copy[len - 1] = 0;
        memmove(copy, copy + 1, len - 1);
        if (strncasecmp(copy, "IPv6:", 5) == 0)
            memmove(copy, copy + 5, strlen(copy + 5) + 1);
    }
    if (parse_bytes(copy, &addr->family, addr->bytes) < 0)
        return -1;
    if (addr->family == AF_INET6 && memcmp(addr->bytes, v4mapped, 12) == 0) {
        memmove(addr->bytes, addr->bytes + 12, 4);
        memset(addr->bytes + 4, 0, 12);
        addr->family = AF_INET;
    }
    return 0;
}

int inet_net_match(const struct inet_net *net, const struct inet_addr *addr)
{
    size_t nbytes = net->family == AF_INET6 ? 16 : 4;

    if (net->family != addr->family)
        return 0;
    for (size_t i = 0; i < nbytes; i++)
        if ((addr->bytes[i] & net->mask[i]) != net->net[i])
            return 0;
    return 1;
}

int inet_addr_normalize(const char *text, char *out, size_t outlen)
{
    struct inet_addr a;

    if (outlen == 0)
        return -1;
    if (inet_addr_parse(text, &a) < 0
        || inet_ntop(a.family, a.bytes, out, (socklen_t)outlen) == NULL) {
        snprintf(out, outlen, "%s", text);
        return -1;
    }
    return 0;
}
