/*
 * local_expand - expand the per-recipient macros of forward_path
 * and luser_relay the way Postfix's local(8) does:
 *
 *   $name  ${name}         the value
 *   ${name?text}           text when name has a non-empty value, else ""
 *   ${name:text}           text when name is empty or undefined, else ""
 *   $$                     a literal $
 *
 * Names: user, home, shell, recipient, local, extension, domain,
 * recipient_delimiter, mailbox (the Postfix set). text may itself hold
 * macros (expanded in turn, nesting bounded). Characters of substituted
 * values that are not in LOCAL_EXPAND_SAFE become '_' (Postfix's
 * forward_expansion_filter default), so no recipient can smuggle shell
 * or path syntax in.
 *
 * Returns 0, or a bit set: LOCAL_EXPAND_UNDEF when a bare $name named an
 * undefined or empty attribute (forward_path skips such an element, as
 * Postfix does); -1 on a syntax error or an unknown name, with why.
 * The result is bounded by LOCAL_EXPAND_MAX bytes.
 */
#ifndef POSTERN_LOCAL_EXPAND_H
#define POSTERN_LOCAL_EXPAND_H

#include "buf.h"

#define LOCAL_EXPAND_UNDEF  0x01
#define LOCAL_EXPAND_MAX    4096
#define LOCAL_EXPAND_SAFE   "1234567890!@%-_=+:,./" \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

struct local_expand_vars {
    const char *user;
    const char *home;
    const char *shell;
    const char *recipient;
    const char *local;
    const char *extension;
    const char *domain;
    const char *recipient_delimiter;
    const char *mailbox;
};

int local_expand(const char *pattern, const struct local_expand_vars *v,
                 struct buf *out, struct buf *why);

#endif
