/*
 * service_path - locate and check service programs (see service_path.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service_path.h"

char *service_program_path(const struct service_def *def, const struct config *cfg)
{
    struct buf path = BUF_INIT;

    if (def->command[0] == '/')
        buf_puts(&path, def->command);
    else
        buf_printf(&path, "%s/%s", config_str(cfg, "daemon_directory"), def->command);
    return buf_steal(&path);
}

int service_check_programs(const struct mastercf *mcf, const struct config *cfg,
                           struct buf *err)
{
    int problems = 0;

    for (int i = 0; i < mcf->count; i++) {
        const struct service_def *def = &mcf->services[i];
        char *prog = service_program_path(def, cfg);

        if (access(prog, X_OK) < 0) {
            buf_printf(err, "%s%s, line %d: service %s: cannot run %s: %s",
                       err->len ? "\n" : "", mcf->path, def->line, def->name, prog,
                       strerror(errno));
            problems++;
        }
        free(prog);
    }
    return problems;
}
