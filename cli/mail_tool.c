/*
 * mail_tool - helpers shared by the queue tools (see mail_tool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mail_tool.h"
#include "safe_file.h"

struct config *tool_load_config(const char *dir)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct config *cfg;

    buf_printf(&path, "%s/main.cf", dir);
    if (access(buf_str(&path), F_OK) < 0 && errno == ENOENT) {
        cfg = config_defaults();
    } else if ((cfg = config_load(dir, &err)) == NULL) {
        tool_error_lines(&err);
        msg_fatal("%s has errors", buf_str(&path));
    }
    buf_free(&path);
    buf_free(&err);
    return cfg;
}

void tool_error_lines(const struct buf *err)
{
    const char *p = buf_str(err);
    size_t n;

    while (*p) {
        n = strcspn(p, "\n");
        if (n)
            msg_error("%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

void tool_path(const struct config *cfg, const char *name, struct buf *out)
{
    char exe[PATH_MAX];
    ssize_t n;

    buf_reset(out);
    buf_printf(out, "%s/%s", config_str(cfg, "command_directory"), name);
    if (access(buf_str(out), X_OK) == 0)
        return;
    if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
        exe[n] = 0;
        buf_reset(out);
        buf_printf(out, "%s/%s", dirname(exe), name);
    }
}
