/*
 * log - logging to syslog, a file and stderr (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int msg_verbose;

static char program[64] = "postern";
static char syslog_name[64] = "postern";
static char hostname[256];
static char ident[160];
static int stderr_mode = 1;
static int use_syslog;
static int log_fd = -1;
static void (*fatal_hook)(void);
static int in_fatal;

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static void update_ident(void)
{
    snprintf(ident, sizeof(ident), "%s/%s", syslog_name, program);
}

void log_init(const char *name)
{
    const char *slash = strrchr(name, '/');

    copy(program, sizeof(program), slash ? slash + 1 : name);
    if (hostname[0] == 0 && gethostname(hostname, sizeof(hostname) - 1) < 0)
        copy(hostname, sizeof(hostname), "localhost");
    update_ident();
}

void log_set_syslog_name(const char *name)
{
    copy(syslog_name, sizeof(syslog_name), name);
    update_ident();
    if (use_syslog) {
        closelog();
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

void log_set_hostname(const char *host)
{
    copy(hostname, sizeof(hostname), host);
}

void log_set_verbose(int level)
{
    msg_verbose = level;
}

void log_to_stderr(int mode)
{
    stderr_mode = mode;
}

static const struct {
    const char *name;
    int facility;
} facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

int log_to_syslog_check(const char *facility)
{
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strcasecmp(facility, facilities[i].name) == 0)
            return 0;
    return -1;
}

int log_to_syslog(const char *facility)
{
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
        if (strcasecmp(facility, facilities[i].name) == 0) {
            if (use_syslog)
                closelog();
            /* LOG_NDELAY connects now, so logging works after chroot. */
            openlog(ident, LOG_PID | LOG_NDELAY, facilities[i].facility);
            use_syslog = 1;
            return 0;
        }
    }
    return -1;
}

int log_to_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

    if (fd < 0)
        return -1;
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void log_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

/* Write a whole line with one write(2), so concurrent writers never interleave. */
static void write_line(int fd, const char *line, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, line, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        line += n;
        len -= (size_t)n;
    }
}

__attribute__((format(printf, 3, 0)))
static void vlog(int priority, const char *label, const char *fmt, va_list ap)
{
    char text[4096], line[4600], stamp[32];
    int saved = errno;
    int len;
    time_t now;
    struct tm tm;

    vsnprintf(text, sizeof(text), fmt, ap);
    /* Never let a peer's bytes forge a second log line. */
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';

    if (use_syslog)
        syslog(priority, "%s%s", label, text);

    if (log_fd >= 0 || stderr_mode == 2) {
        now = time(NULL);
        localtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
        len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n",
                       stamp, hostname, ident, (long)getpid(), label, text);
        if (len > (int)sizeof(line) - 1)
            len = (int)sizeof(line) - 1;
        if (log_fd >= 0)
            write_line(log_fd, line, (size_t)len);
        if (stderr_mode == 2)
            write_line(2, line, (size_t)len);
    }
    if (stderr_mode == 1) {
        len = snprintf(line, sizeof(line), "%s: %s%s\n", program, label, text);
        if (len > (int)sizeof(line) - 1)
            len = (int)sizeof(line) - 1;
        write_line(2, line, (size_t)len);
    }
    errno = saved;
}

#define LOG_BODY(prio, label) \
    do { va_list ap; va_start(ap, fmt); vlog(prio, label, fmt, ap); va_end(ap); } while (0)

void msg_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, ""); }
void msg_warn(const char *fmt, ...) { LOG_BODY(LOG_WARNING, "warning: "); }
void msg_error(const char *fmt, ...) { LOG_BODY(LOG_ERR, "error: "); }

void msg_debug(const char *fmt, ...)
{
    if (msg_verbose)
        LOG_BODY(LOG_DEBUG, "");
}

void msg_fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "fatal: ");
    if (!in_fatal++ && fatal_hook)
        fatal_hook();
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "panic: ");
    abort();
}
