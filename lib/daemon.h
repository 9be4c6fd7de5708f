/*
 * daemon - the one skeleton every service that master starts runs in.
 *
 * It owns the start-up order, so that no program gets it wrong:
 *
 *   1. parse master's arguments (lib/master_proto.h), read main.cf and the
 *      service's -o overrides, set up logging;
 *   2. call pre_jail: open whatever needs privilege (files outside the
 *      chroot, privileged sockets);
 *   3. chroot to queue_directory (-j), switch to mail_owner (-u), clear
 *      every capability, PR_SET_NO_NEW_PRIVS (lib/privilege.h);
 *   4. call post_jail, then serve: accept on the inherited listening
 *      sockets and hand each connection to on_connection, or read a
 *      wakeup from master and call on_trigger;
 *   5. retire: after max_idle seconds without work, after max_use
 *      connections, or on SIGTERM from master, stop accepting, let the
 *      sessions in progress finish, and exit 0.
 *
 * A service that keeps sessions open after on_connection returns counts
 * them with daemon_session_begin()/daemon_session_end(), so that it is not
 * retired in the middle of one.
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include "events.h"
#include "maincf.h"

struct daemon_service {
    const char *program;            /* "smtpd": log name */
    /* Before the jail: may open privileged resources. */
    void (*pre_jail)(const struct config *cfg);
    /* After the jail, before serving. */
    void (*post_jail)(const struct config *cfg, struct evloop *loop);
    /* A client connected; fd is non-blocking and now owned by the service. */
    void (*on_connection)(int fd, const struct config *cfg, struct evloop *loop);
    /*
     * For wakeup services: master (or a peer) sent these bytes. When set,
     * connections are read for a wakeup request and closed; on_connection
     * is not used.
     */
    void (*on_trigger)(const char *data, size_t len, const struct config *cfg,
                       struct evloop *loop);
    /* Retiring: stop starting new work (optional). */
    void (*on_retire)(void);
    int no_idle_exit;               /* never exit for max_idle or max_use (qmgr) */
    /*
     * on_connection serves the whole client before it returns (delivery
     * agents): the process tells master it is busy (TAKEN) for that time
     * and available again after, so master starts more processes.
     */
    int one_at_a_time;
};

/* Run the service; never returns. */
_Noreturn void daemon_main(int argc, char **argv, const struct daemon_service *svc);

/* Sessions that outlive on_connection. */
void daemon_session_begin(void);
void daemon_session_end(void);

/* Facts from master's command line. */
const char *daemon_service_name(void);  /* master.cf column 1 */
const char *daemon_service_type(void);  /* "inet" or "unix" */
int daemon_retiring(void);

#endif
