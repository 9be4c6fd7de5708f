/*
 * service_path - where a master.cf service's program lives, and whether
 * every program in master.cf can be run (used by master at start and
 * reload, and by `postern check`).
 */
#ifndef POSTERN_SERVICE_PATH_H
#define POSTERN_SERVICE_PATH_H

#include "buf.h"
#include "maincf.h"
#include "mastercf.h"

/* command if absolute, else daemon_directory/command; malloc()ed. */
char *service_program_path(const struct service_def *def, const struct config *cfg);
/* One line in err per program that cannot be run; returns their number. */
int service_check_programs(const struct mastercf *mcf, const struct config *cfg,
                           struct buf *err);

#endif
