/*
 * mail_tool - helpers shared by the queue tools (see mail_tool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

int tool_trigger(const char *socket_path, const char *data, size_t len)
{
    struct sockaddr_un sun;
    int fd, rc = -1, saved;
    void (*old)(int);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun.sun_path, socket_path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    old = signal(SIGPIPE, SIG_IGN);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0
        && write(fd, data, len) == (ssize_t)len)
        rc = 0;
    saved = errno;
    signal(SIGPIPE, old);
    close(fd);
    errno = saved;
    return rc;
}
