/*
 * testsvc - a test-only service that end-to-end tests run under master.
 *
 * It runs in the shared daemon skeleton like every real service, so tests
 * see what a real service gets: its socket, its user, its chroot, its
 * capabilities. The last master.cf argument picks a mode:
 *
 *   (none)   greet each client with "testsvc pid=N uid=N gid=N service=S
 *            max_use=N" (max_use shows that master.cf -o reached it),
 *            then echo each line back until "QUIT" or end of file
 *   trigger  a wakeup service: log "testsvc: wakeup N" for each trigger
 *   crash    exit with status 3 at once (to test back-off and throttling)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "mem.h"

#define LINE_MAX_BYTES 1024

struct session {
    int fd;
    struct ev_watch *watch;
    struct buf line;
};

static long wakeups;

static void session_close(struct session *s)
{
    ev_cancel(s->watch);
    close(s->fd);
    buf_free(&s->line);
    free(s);
    daemon_session_end();
}

static void reply(struct session *s, const char *text)
{
    size_t len = strlen(text);

    /* Replies are short and the client reads them; a full socket ends the session. */
    if (write(s->fd, text, len) != (ssize_t)len)
        msg_debug("short write to client");
}

static void session_read(int fd, void *arg)
{
    struct session *s = arg;
    char data[512], out[LINE_MAX_BYTES + 16];
    ssize_t n = read(fd, data, sizeof(data));

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        session_close(s);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (data[i] != '\n') {
            if (buf_putc(&s->line, data[i]) < 0) {
                reply(s, "error: line too long\r\n");
                session_close(s);
                return;
            }
            continue;
        }
        if (s->line.len > 0 && s->line.data[s->line.len - 1] == '\r')
            buf_truncate(&s->line, s->line.len - 1);
        if (strcmp(buf_str(&s->line), "QUIT") == 0) {
            reply(s, "bye\r\n");
            session_close(s);
            return;
        }
        snprintf(out, sizeof(out), "echo %s\r\n", buf_str(&s->line));
        reply(s, out);
        buf_reset(&s->line);
    }
}

static void on_connection(int fd, const struct config *cfg, struct evloop *loop)
{
    struct session *s = xcalloc(1, sizeof(*s));
    char greeting[256];

    s->fd = fd;
    buf_init(&s->line, LINE_MAX_BYTES);
    daemon_session_begin();
    snprintf(greeting, sizeof(greeting),
             "testsvc pid=%ld uid=%ld gid=%ld service=%s max_use=%ld\r\n",
             (long)getpid(), (long)getuid(), (long)getgid(), daemon_service_name(),
             config_int(cfg, "max_use"));
    reply(s, greeting);
    s->watch = ev_read(loop, fd, session_read, s);
}

static void on_trigger(const char *data, size_t len, const struct config *cfg,
                       struct evloop *loop)
{
    msg_info("testsvc: wakeup %ld (%zu bytes)", ++wakeups, len);
}

static void post_jail(const struct config *cfg, struct evloop *loop)
{
    msg_info("testsvc: started as uid %ld", (long)getuid());
}

int main(int argc, char **argv)
{
    static const struct daemon_service echo_service = {
        .program = "testsvc", .post_jail = post_jail, .on_connection = on_connection,
    };
    static const struct daemon_service trigger_service = {
        .program = "testsvc", .post_jail = post_jail, .on_trigger = on_trigger,
        .no_idle_exit = 1,
    };
    const char *mode = argc > 1 ? argv[argc - 1] : "";

    if (strcmp(mode, "crash") == 0)
        return 3;
    daemon_main(argc, argv, strcmp(mode, "trigger") == 0 ? &trigger_service : &echo_service);
}
