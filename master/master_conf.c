/*
 * master_conf - read main.cf and master.cf, start the services, and reload.
 *
 * On reload (SIGHUP) both files are read again; if either has an error,
 * master logs it and keeps running the old configuration. Otherwise every
 * running child is told to finish its current work and exit (so that new
 * processes see the new main.cf), services whose sockets are unchanged
 * keep them (no connection is refused during a reload), services that
 * changed their address get new sockets, new services start and removed
 * ones stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "log_setup.h"
#include "master.h"
#include "mem.h"
#include "service_path.h"
#include "version.h"

int master_conf_load(const char *config_dir, struct config **cfg,
                     struct mastercf **mcf, struct buf *err)
{
    struct buf path = BUF_INIT;
    int ret = 0;

    *mcf = NULL;
    if ((*cfg = config_load(config_dir, err)) == NULL)
        return -1;
    buf_printf(&path, "%s/master.cf", config_dir);
    if ((*mcf = mastercf_load(buf_str(&path), *cfg, err)) == NULL) {
        ret = -1;
    } else if (service_check_programs(*mcf, *cfg, err) > 0) {
        ret = -1;
    }
    if (ret < 0) {
        config_free(*cfg);
        mastercf_free(*mcf);
        *cfg = NULL;
        *mcf = NULL;
    }
    buf_free(&path);
    return ret;
}

/* A running service for def, with status pipe; sockets are opened later. */
static struct master_service *service_new(const struct service_def *def)
{
    struct master_service *serv = xcalloc(1, sizeof(*serv));
    struct buf key = BUF_INIT;

    service_def_copy(&serv->def, def);
    serv->key = xstrdup(service_def_key(def, &key));
    buf_free(&key);
    serv->path = service_program_path(def, master.cfg);
    serv->listen_sig = master_listen_signature(def, master.cfg);
    if (pipe2(serv->status_fd, O_CLOEXEC | O_NONBLOCK) < 0
        || pipe2(serv->stderr_fd, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    master_status_watch(serv);
    master_stderr_watch(serv);
    serv->next = master.services;
    master.services = serv;
    return serv;
}

static int has_procs(const struct master_service *serv)
{
    for (struct master_proc *p = master.procs; p; p = p->next)
        if (p->serv == serv)
            return 1;
    return 0;
}

/* Free removed services whose last process has exited. */
void master_conf_collect(void)
{
    struct master_service **sp = &master.services, *serv;

    while ((serv = *sp) != NULL) {
        if (!serv->removed || has_procs(serv)) {
            sp = &serv->next;
            continue;
        }
        *sp = serv->next;
        master_avail_stop(serv);
        master_wakeup_stop(serv);
        ev_cancel(serv->hold_timer);
        ev_cancel(serv->status_watch);
        ev_cancel(serv->stderr_watch);
        close(serv->status_fd[0]);
        close(serv->status_fd[1]);
        close(serv->stderr_fd[0]);
        close(serv->stderr_fd[1]);
        buf_free(&serv->stderr_line);
        master_listen_close(serv);
        service_def_release(&serv->def);
        free(serv->key);
        free(serv->path);
        free(serv->listen_sig);
        free(serv);
    }
}

static void service_remove(struct master_service *serv)
{
    serv->removed = 1;
    master_avail_stop(serv);
    master_wakeup_stop(serv);
    master_listen_close(serv);
    master_retire_children(serv);
}

static void service_run(struct master_service *serv)
{
    master_avail_update(serv);
    master_wakeup_start(serv);
}

void master_conf_start(void)
{
    struct buf err = BUF_INIT;

    for (int i = 0; i < master.mcf->count; i++) {
        struct master_service *serv = service_new(&master.mcf->services[i]);

        if (master_listen_open(serv, &err) < 0)
            msg_fatal("%s/master.cf, line %d: service %s: %s", master.config_dir,
                      serv->def.line, serv->def.name, buf_str(&err));
    }
    for (struct master_service *s = master.services; s; s = s->next)
        service_run(s);
    buf_free(&err);
}

static struct master_service *find_live(const char *key)
{
    for (struct master_service *s = master.services; s; s = s->next)
        if (!s->removed && strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

#define OPEN_RETRIES 30     /* seconds a new socket may wait for an old one to go */

/*
 * A socket bound by a service that is going away may be wanted by a new
 * one (same address, new name or settings): it is handed over, never
 * closed and re-bound, so no client is refused and no bind can fail.
 */
struct socket_pool {
    struct master_service **servs;
    int count;
};

static void pool_add(struct socket_pool *pool, struct master_service *serv)
{
    pool->servs = xreallocarray(pool->servs, (size_t)pool->count + 1, sizeof(*pool->servs));
    pool->servs[pool->count++] = serv;
}

/* Move the sockets bound to sig from a pooled service to serv. */
static int pool_take(struct socket_pool *pool, struct master_service *serv)
{
    for (int i = 0; i < pool->count; i++) {
        struct master_service *old = pool->servs[i];

        if (old->listen_count > 0 && strcmp(old->listen_sig, serv->listen_sig) == 0) {
            serv->listen_fds = old->listen_fds;
            serv->listen_count = old->listen_count;
            old->listen_fds = NULL;
            old->listen_count = 0;
            return 1;
        }
    }
    return 0;
}

static void open_retry(void *arg)
{
    struct master_service *serv = arg;
    struct buf err = BUF_INIT;

    serv->hold_timer = NULL;
    if (serv->removed || master.stopping) {
        buf_free(&err);
        return;
    }
    if (master_listen_open(serv, &err) == 0) {
        msg_info("%s/master.cf, line %d: service %s: listening again",
                 master.config_dir, serv->def.line, serv->def.name);
        service_run(serv);
    } else if (++serv->crashes < OPEN_RETRIES) {
        serv->hold_timer = ev_timer(master.loop, 1.0, open_retry, serv);
    } else {
        msg_error("%s/master.cf, line %d: service %s: %s -- not started",
                  master.config_dir, serv->def.line, serv->def.name, buf_str(&err));
        service_remove(serv);
    }
    buf_free(&err);
}

/* Open a new service's sockets, or keep trying while old children let go. */
static void open_or_retry(struct master_service *serv)
{
    struct buf err = BUF_INIT;

    if (master_listen_open(serv, &err) == 0) {
        service_run(serv);
    } else {
        msg_warn("%s/master.cf, line %d: service %s: %s -- will retry",
                 master.config_dir, serv->def.line, serv->def.name, buf_str(&err));
        serv->crashes = 0;
        serv->hold_timer = ev_timer(master.loop, 1.0, open_retry, serv);
    }
    buf_free(&err);
}

void master_conf_reload(void)
{
    struct config *cfg, *old_cfg = master.cfg;
    struct mastercf *mcf, *old_mcf = master.mcf;
    struct master_service **fresh, *serv;
    struct socket_pool pool = {NULL, 0};
    struct buf err = BUF_INIT, key = BUF_INIT;
    int nfresh = 0;

    if (master_conf_load(master.config_dir, &cfg, &mcf, &err) < 0
        || log_setup_check(cfg, &err) < 0) {
        msg_warn("%s", buf_str(&err));
        msg_warn("configuration errors: not reloaded; still running the old configuration");
        if (cfg) {
            config_free(cfg);
            mastercf_free(mcf);
        }
        buf_free(&err);
        return;
    }
    master.cfg = cfg;
    master.mcf = mcf;
    log_setup(cfg, master.foreground ? 2 : 0);

    /* Every child finishes what it is doing and exits; new ones read the new files. */
    for (serv = master.services; serv; serv = serv->next) {
        master_retire_children(serv);
        master_wakeup_stop(serv);
        master_avail_stop(serv);
        ev_cancel(serv->hold_timer);
        serv->hold_timer = NULL;
    }

    /* Services whose entry and address are unchanged keep everything. */
    fresh = xcalloc((size_t)mcf->count + 1, sizeof(*fresh));
    for (serv = master.services; serv; serv = serv->next)
        serv->reload_keep = 0;
    for (int i = 0; i < mcf->count; i++) {
        const struct service_def *def = &mcf->services[i];
        char *sig = master_listen_signature(def, cfg);
        struct master_service *old = find_live(service_def_key(def, &key));

        if (old && !old->reload_keep && strcmp(old->listen_sig, sig) == 0) {
            service_def_release(&old->def);
            service_def_copy(&old->def, def);
            free(old->path);
            old->path = service_program_path(def, cfg);
            old->crashes = 0;
            old->hold_until = 0;
            old->reload_keep = 1;
        }
        free(sig);
    }
    /* The others go; their sockets wait in the pool for a taker. */
    for (serv = master.services; serv; serv = serv->next) {
        if (!serv->removed && !serv->reload_keep) {
            pool_add(&pool, serv);
            serv->removed = 1;
        }
    }
    for (int i = 0; i < mcf->count; i++) {
        const struct service_def *def = &mcf->services[i];
        struct master_service *old = find_live(service_def_key(def, &key));

        if (old && old->reload_keep && old->def.line == def->line)
            continue;
        serv = service_new(def);
        if (pool_take(&pool, serv))
            msg_debug("%s: kept the sockets of %s", serv->key, serv->listen_sig);
        fresh[nfresh++] = serv;
    }
    /* Close what nobody took before binding anything new. */
    for (int i = 0; i < pool.count; i++)
        service_remove(pool.servs[i]);
    for (int i = 0; i < nfresh; i++) {
        if (fresh[i]->listen_count > 0)
            service_run(fresh[i]);
        else
            open_or_retry(fresh[i]);
    }
    for (serv = master.services; serv; serv = serv->next)
        if (serv->reload_keep)
            service_run(serv);
    free(fresh);
    free(pool.servs);
    master_conf_collect();
    config_free(old_cfg);
    mastercf_free(old_mcf);
    msg_info("reload -- version %s, configuration %s", POSTERN_VERSION, master.config_dir);
    buf_free(&err);
    buf_free(&key);
}
