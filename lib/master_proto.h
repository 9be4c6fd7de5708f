/*
 * master_proto - the contract between master and the services it starts.
 *
 * This header is the whole interface; both sides include it and neither
 * relies on anything that is not written here.
 *
 * STARTING A SERVICE
 *
 * For each master.cf entry, master fork()s and exec()s the command
 * (column 8: a bare name is looked up in daemon_directory, an absolute
 * path is used as is) as
 *
 *   PROGRAM -n SERVICE -t inet|unix [-s COUNT] [-u] [-j] [-v]
 *           [-o name=value]... [args...]
 *
 *   -n SERVICE    the master.cf service name (column 1), as written;
 *                 used for log lines, for private/SERVICE, and to look up
 *                 service-specific parameters.
 *   -t TYPE       the master.cf type (column 2): "inet" or "unix".
 *   -s COUNT      how many listening sockets the child inherits
 *                 (default 1; see FILE DESCRIPTORS).
 *   -u            drop privileges to mail_owner (master.cf unpriv = y).
 *                 Only meaningful when started as root; an unprivileged
 *                 instance ignores it.
 *   -j            chroot to queue_directory (master.cf chroot = y), done
 *                 by the child itself with priv_drop() after it has read
 *                 everything it needs from outside the jail.
 *   -v            verbose logging (repeatable).
 *   -o name=value the master.cf overrides, in file order, already split
 *                 into one "name=value" argument each (values unexpanded;
 *                 the child applies them with config_override()).
 *   args          the remaining master.cf words after the command and its
 *                 -o pairs, in order.
 *
 * MAIL_CONFIG in the environment names the configuration directory (the
 * one that holds main.cf); the child reads main.cf from there. What else
 * of master's environment passes is master's choice (as Postfix's
 * import_environment); a service must not depend on it.
 *
 * FILE DESCRIPTORS
 *
 *   0, 1                             master's (/dev/null once detached)
 *   2                                a pipe to master, which logs each
 *                                    line as a warning: so a service that
 *                                    fails before its logging is set up
 *                                    (bad argument, unreadable main.cf)
 *                                    still says why in the log. Under
 *                                    `postern start-fg` (environment
 *                                    POSTERN_FOREGROUND=1) it is the
 *                                    terminal, and services log there too
 *   MASTER_STATUS_FD (3)             write end of a pipe to master
 *   MASTER_LISTEN_FD (4) ..
 *   MASTER_LISTEN_FD + COUNT - 1     the listening sockets, already
 *                                    bound and listening, non-blocking
 *
 * Every other descriptor is closed (or close-on-exec) before exec. The
 * child never bind()s its own service sockets. The inherited descriptors
 * are not close-on-exec in the child; a service that execs helpers must
 * close them or mark them FD_CLOEXEC first.
 *
 * STATUS MESSAGES (child -> master, on MASTER_STATUS_FD)
 *
 * A message is one struct master_status, written with a single write()
 * of sizeof(struct master_status) bytes (below PIPE_BUF, so it is atomic
 * and never interleaves with another child's message on a shared pipe):
 *
 *   MASTER_STAT_AVAIL   the child is idle and waiting for a connection;
 *                       sent once after start-up and again each time it
 *                       has finished its work and can take more.
 *   MASTER_STAT_TAKEN   the child has accepted a connection (or started
 *                       work on a trigger) and is busy.
 *
 * A service that serves many clients from one event loop stays AVAIL
 * while it can take more; every service sends TAKEN when it retires
 * (max_use reached, or SIGTERM), so that master starts a replacement at
 * once instead of leaving new clients waiting for the old sessions to end.
 *
 * Master counts available children per service and starts another one
 * (up to maxproc) when none is available and a listener becomes readable.
 * End of file on the pipe (the child exited or closed fd 3) means the
 * child is gone; master reaps it with waitpid(). A message of the wrong
 * size or with a pid that is not the child's is logged and ignored.
 *
 * STOPPING
 *
 * SIGTERM to a child means: stop accepting new connections (close the
 * listening sockets), finish the work in progress, and exit with status 0.
 * A child that is still running after master's grace period gets SIGKILL.
 * Any exit status other than 0, or death by a signal, is logged by master
 * as a failure and counts towards its restart throttle.
 *
 * WAKEUP
 *
 * For a service with a wakeup interval (master.cf column 5; only unix
 * services), master, every interval seconds, connects to the service's
 * unix socket (private/NAME or public/NAME), writes the single byte
 * MASTER_TRIGGER_WAKEUP ('W') and closes the connection, without waiting
 * for an answer. A wakeup column ending in '?' means master only sends
 * the trigger while a child of that service is running (it does not start
 * one for the wakeup). A service tells a trigger apart from a client by
 * reading that one byte followed by end of file; it must not block on a
 * trigger connection.
 */
#ifndef POSTERN_MASTER_PROTO_H
#define POSTERN_MASTER_PROTO_H

#include <sys/types.h>

/* Descriptor numbers a service inherits. */
#define MASTER_STATUS_FD        3
#define MASTER_LISTEN_FD        4

/* Upper bound on -s COUNT (listening sockets per service). */
#define MASTER_MAX_LISTEN_FDS   64

/* Values of master_status.avail. */
#define MASTER_STAT_TAKEN       0
#define MASTER_STAT_AVAIL       1

/* The byte master writes to wake a service. */
#define MASTER_TRIGGER_WAKEUP   'W'

/* Environment variable that names the configuration directory. */
#define MASTER_ENV_CONFIG       "MAIL_CONFIG"

/* One status message, child -> master, written with one write(). */
struct master_status {
    int pid;        /* getpid() of the sender */
    int avail;      /* MASTER_STAT_AVAIL or MASTER_STAT_TAKEN */
};

#endif
