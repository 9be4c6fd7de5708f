/*
 * cleanup_priv - what the cleanup_*.c files share; not for other modules.
 *
 *   cleanup.c         open/close, message state, content state machine,
 *                     envelope and header output
 *   cleanup_addr.c    address rewriting: myorigin, canonical maps,
 *                     masquerading, virtual alias expansion
 *   cleanup_header.c  header recognition, the RFC 5322 address scanner
 *                     and rewriting of address headers
 */
#ifndef POSTERN_CLEANUP_PRIV_H
#define POSTERN_CLEANUP_PRIV_H

#include <stddef.h>

#include "buf.h"
#include "cleanup.h"
#include "dict.h"

/* masquerade_classes */
#define CLEANUP_MASQ_ENV_FROM   0x01
#define CLEANUP_MASQ_ENV_RCPT   0x02
#define CLEANUP_MASQ_HDR_FROM   0x04
#define CLEANUP_MASQ_HDR_RCPT   0x08

/* propagate_unmatched_extensions */
#define CLEANUP_PROP_CANONICAL  0x01
#define CLEANUP_PROP_VIRTUAL    0x02

/* Which address class is being rewritten. */
enum cleanup_class {
    CLEANUP_ENV_FROM,
    CLEANUP_ENV_RCPT,
    CLEANUP_HDR_FROM,
    CLEANUP_HDR_RCPT,
};

/* A list of tables opened from one parameter. */
struct cleanup_maps {
    struct dict **v;
    int n;
    const char *param;
};

struct cleanup {
    char *myorigin, *mydomain, *myhostname, *mail_name, *delimiters;
    char **local_domains;           /* myorigin + literal mydestination entries */
    char **masq_domains, **masq_exceptions;
    unsigned masq_classes, propagate;
    int append_at_myorigin, append_dot_mydomain;
    long virt_recur_limit, virt_expan_limit, hopcount_limit;
    long delay_warning_time;        /* seconds; 0: no delay warnings */
    size_t header_limit;
    struct cleanup_maps canon, send_canon, rcpt_canon, virtual;
};

/* One recipient after expansion. */
struct cleanup_rcpt {
    char *addr;
    char *orcpt;                    /* NULL: none */
    unsigned notify;
};

struct cleanup_msg {
    struct cleanup *c;
    struct queue_file_writer *w;
    const struct cleanup_envelope *env;
    struct cleanup_status err;      /* sticky first failure */
    char queue_id[64];
    struct timeval arrival;
    char *sender;                   /* after rewriting */

    struct cleanup_rcpt *rcpt;      /* expanded recipients, duplicates removed */
    size_t nrcpt, rcpt_cap;
    size_t given;                   /* cleanup_rcpt() calls */
    char *first_given;              /* the first given recipient, for Received: */

    /* content state */
    int in_headers;                 /* still in the primary header block */
    int line_open;                  /* a body line was started and not ended */
    struct buf line;                /* header mode: the line so far */
    struct buf cur;                 /* the logical header being collected */
    struct buf hout;                /* headers ready for output */
    size_t hdr_bytes;               /* input header bytes so far */
    long hops;
    unsigned seen;                  /* CLEANUP_SEEN_* */
    char **xrcpt, **xrcpt_resent;   /* -t recipients */
    size_t nx, capx, nxr, capxr;
    int logged_msgid;
};

#define CLEANUP_SEEN_MSGID          0x01
#define CLEANUP_SEEN_DATE           0x02
#define CLEANUP_SEEN_FROM           0x04
#define CLEANUP_SEEN_RESENT         0x08
#define CLEANUP_SEEN_RESENT_MSGID   0x10
#define CLEANUP_SEEN_RESENT_DATE    0x20
#define CLEANUP_SEEN_RESENT_FROM    0x40

/* Longest address cleanup hands on (Postfix's virtual_alias_address_length_limit). */
#define CLEANUP_MAX_ADDR 1000

/* cleanup.c */
void cleanup_set_status(struct cleanup_status *st, enum cleanup_result r, int code,
                        const char *enh, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int cleanup_failed(struct cleanup_msg *m, enum cleanup_result r, int code,
                   const char *enh, const char *text);

/*
 * cleanup_addr.c. Each returns 0, or -1 after recording the failure in
 * m->err (tempfail). addr holds an internal-form address and is rewritten
 * in place.
 */
int cleanup_rewrite_local(const struct cleanup *c, struct buf *addr);
int cleanup_rewrite_addr(struct cleanup_msg *m, enum cleanup_class cls,
                         struct buf *addr, int append);
/* Expand addr through virtual_alias_maps; results are added to m. */
int cleanup_expand_rcpt(struct cleanup_msg *m, const char *addr, const char *orig,
                        const char *orcpt, unsigned notify);

/* cleanup_header.c */
/* Length of the header name if line is "Name:" (SP/TAB allowed before ':'), else 0. */
size_t cleanup_header_name(const char *line, size_t len);
/* Could line[0..len) still become a header line when more bytes come? */
int cleanup_header_prefix(const char *line, size_t len);
/* Process one logical header (raw, folded with LF): rewrite, count, collect. */
int cleanup_header(struct cleanup_msg *m, const char *hdr, size_t len);
/*
 * Scan the address list in value[0..len): call fn with the internal form
 * of each address (NUL-terminated) and its span in value. fn may return
 * a replacement (external form, malloc()ed) or NULL to keep it.
 */
typedef char *(*cleanup_addr_fn)(const char *internal, void *ctx);
int cleanup_scan_addresses(const char *value, size_t len, struct buf *out,
                           cleanup_addr_fn fn, void *ctx);

/* Quote a local part as needed and append local@domain (external form) to out. */
void cleanup_externalize(struct buf *out, const char *internal);

#endif
