/*
 * log_setup - configure logging from main.cf (see log_setup.h).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "log_setup.h"

void log_setup(const struct config *cfg, int stderr_mode)
{
    const char *file = config_str(cfg, "maillog_file");
    const char *facility = config_str(cfg, "syslog_facility");

    log_set_syslog_name(config_str(cfg, "syslog_name"));
    log_set_hostname(config_str(cfg, "myhostname"));
    log_to_stderr(stderr_mode);
    if (*file) {
        if (log_to_file(file) < 0)
            msg_fatal("open maillog_file %s: %s", file, strerror(errno));
    } else if (log_to_syslog(facility) < 0) {
        msg_fatal("%s: unknown syslog_facility: %s", config_file(cfg), facility);
    }
}
