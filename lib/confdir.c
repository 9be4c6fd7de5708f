/*
 * confdir - choose the configuration directory (see confdir.h).
 */
#include <stdlib.h>

#include "confdir.h"
#include "log.h"

const char *confdir_resolve(const char *opt)
{
    const char *dir = opt;
    char *abs = NULL;

    if (dir == NULL || *dir == 0)
        dir = getenv("MAIL_CONFIG");
    if (dir == NULL || *dir == 0)
        dir = DEF_CONFIG_DIR;
    /* master changes directory; children and reloads need an absolute path. */
    if (dir[0] != '/' && (abs = realpath(dir, NULL)) != NULL)
        dir = abs;
    if (setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: out of memory");
    free(abs);
    return getenv("MAIL_CONFIG");
}
