/*
 * log_setup - configure logging from main.cf (see log_setup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

#include "log.h"
#include "log_setup.h"

void log_setup(const struct config *cfg, int stderr_mode)
{
    const char *file = config_str(cfg, "maillog_file");
    const char *facility = config_str(cfg, "syslog_facility");

    log_set_syslog_name(config_str(cfg, "syslog_name"));
    log_set_hostname(config_str(cfg, "myhostname"));
    /* Until the new destination works, errors still go to stderr. */
    if (*file) {
        if (log_to_file(file) < 0)
            msg_fatal("open maillog_file %s: %s", file, strerror(errno));
    } else if (log_to_syslog(facility) < 0) {
        msg_fatal("%s: unknown syslog_facility: %s", config_file(cfg), facility);
    }
    log_to_stderr(stderr_mode);
}

int log_setup_check(const struct config *cfg, struct buf *err)
{
    const char *file = config_str(cfg, "maillog_file");
    int fd;

    if (*file) {
        fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            buf_printf(err, "%s: cannot open maillog_file %s: %s", config_file(cfg), file,
                       strerror(errno));
            return -1;
        }
        close(fd);
        return 0;
    }
    if (log_to_syslog_check(config_str(cfg, "syslog_facility")) < 0) {
        buf_printf(err, "%s: unknown syslog_facility: %s", config_file(cfg),
                   config_str(cfg, "syslog_facility"));
        return -1;
    }
    return 0;
}
