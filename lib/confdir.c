/*
 * confdir - choose the configuration directory (see confdir.h).
 */
#include <stdlib.h>

#include "confdir.h"
#include "log.h"

const char *confdir_resolve(const char *opt)
{
    const char *dir = opt;

    if (dir == NULL || *dir == 0)
        dir = getenv("MAIL_CONFIG");
    if (dir == NULL || *dir == 0)
        dir = DEF_CONFIG_DIR;
    if (setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: out of memory");
    return getenv("MAIL_CONFIG");
}
