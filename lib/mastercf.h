/*
 * mastercf - master.cf: the services master runs.
 *
 * Postfix's format: one service per logical line (lines that begin with
 * white space continue the previous one, '#' comments), with the columns
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 * '-' in a column means its default (private y, unpriv y, chroot n, wakeup
 * 0, maxproc $default_process_limit). wakeup may end in '?' (only wake a
 * running service). Arguments "-o name=value" and "-o { name = value }"
 * override main.cf for that service; { ... } groups an argument that holds
 * white space. Arguments are kept as written; -o values are checked here
 * and expanded by the service when it applies them (config_override), so
 * "-o smtpd_relay_restrictions=$mua_relay_restrictions" works as in
 * Postfix. For inet services '-' in the private column means n.
 *
 * type is "inet" or "unix". An inet service is "port", "host:port" or
 * "[v6addr]:port"; port may be a name from /etc/services. Every error
 * names the file and line.
 */
#ifndef POSTERN_MASTERCF_H
#define POSTERN_MASTERCF_H

#include "buf.h"
#include "maincf.h"

#define MASTERCF_MAX_FILE   (1024 * 1024)
#define MASTERCF_MAX_ARGS   256

enum service_type { SERVICE_INET, SERVICE_UNIX };

struct service_def {
    char *name;                 /* column 1, as written */
    enum service_type type;
    int private_;               /* 1: private/NAME, 0: public/NAME (unix) */
    int unpriv;                 /* 1: run as mail_owner */
    int chroot;                 /* 1: chroot to queue_directory */
    int wakeup;                 /* seconds, 0 = never */
    int wakeup_if_running;      /* wakeup column ended in '?' */
    int maxproc;                /* 0 = no limit */
    char *command;              /* column 8, e.g. "smtpd" or an absolute path */
    char **args;                /* remaining words after command, NULL-terminated,
                                 * with -o pairs normalised to "-o" "name=value" */
    char **override_names;      /* -o names, NULL-terminated */
    char **override_values;     /* -o values (unexpanded), parallel to names */
    int line;                   /* first line of the entry */
    int maxproc_default;        /* maxproc column was '-' (for formatting) */
};

struct mastercf {
    char *path;
    struct service_def *services;
    int count;
};

/*
 * Read PATH. cfg supplies default_process_limit and checks -o names and
 * values (config_override on a copy). NULL on error, message in err.
 */
struct mastercf *mastercf_load(const char *path, const struct config *cfg,
                               struct buf *err);
struct mastercf *mastercf_parse(const char *path, const char *text, size_t len,
                                const struct config *cfg, struct buf *err);
void mastercf_free(struct mastercf *mcf);

/* Deep copy of a service (master keeps its own across reloads); release it with service_def_release. */
void service_def_copy(struct service_def *dst, const struct service_def *src);
void service_def_release(struct service_def *s);
/* Same service, same settings? (Used by master on reload.) */
int service_def_equal(const struct service_def *a, const struct service_def *b);
/* "smtp/inet": the key a service is known by. */
const char *service_def_key(const struct service_def *s, struct buf *out);
/* One line in `postconf -M` format. */
void service_def_format(const struct service_def *s, struct buf *out);

#endif
