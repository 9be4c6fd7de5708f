/*
 * local_rcpt - split a local recipient the way Postfix's local(8) sees
 * it: "User+Ext@Domain" gives the local part "user+ext" (folded to lower
 * case, as local folds it for every lookup), the user "user", the
 * extension "ext" and the delimiter that split them.
 *
 * The extension starts at the first recipient_delimiter character after
 * the first character of the local part (the rule addr_lookup.h uses).
 * Never split: "postmaster" and "mailer-daemon"; with owner_request_special
 * and '-' as the delimiter, "owner-LIST" and "LIST-request" (Postfix's
 * split_addr()). The domain is everything after the last '@' ("" if none).
 * An extension containing '/' is dropped with a warning (extension NULL).
 */
#ifndef POSTERN_LOCAL_RCPT_H
#define POSTERN_LOCAL_RCPT_H

struct local_rcpt {
    char *address;              /* as given */
    char *local;                /* local part, folded: "user+ext" */
    char *domain;               /* "" if none; case kept */
    char *user;                 /* local part without extension, folded */
    char *extension;            /* NULL if none; case kept */
    char delim[2];              /* the delimiter that split, "" if none */
};

/* Split address; never fails (an empty local part gives empty strings). */
void local_rcpt_split(const char *address, const char *delimiters,
                      int owner_request_special, struct local_rcpt *r);
void local_rcpt_free(struct local_rcpt *r);

#endif
