/*
 * log_setup - point logging where main.cf says: maillog_file if set,
 * otherwise syslog with syslog_facility; syslog_name is the prefix.
 * Shared by master, the daemons and the tools that log.
 */
#ifndef POSTERN_LOG_SETUP_H
#define POSTERN_LOG_SETUP_H

#include "maincf.h"

/*
 * stderr_mode as log_to_stderr(). Exits with a fatal error if maillog_file
 * cannot be opened or the facility is unknown.
 */
void log_setup(const struct config *cfg, int stderr_mode);
/*
 * Would log_setup() succeed with cfg? (maillog_file can be opened, the
 * facility is known.) 0, or -1 with a reason in err. Lets master refuse a
 * reload that would leave it unable to log.
 */
int log_setup_check(const struct config *cfg, struct buf *err);

#endif
