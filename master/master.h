/*
 * master - the supervisor's shared state.
 *
 * One struct master_service per master.cf entry that is running, each with
 * its listening sockets, its status pipe (the children write
 * MASTER_STAT_AVAIL / MASTER_STAT_TAKEN to it, see master_proto.h) and its
 * children. The files split the job:
 *
 *   master.c         start-up, lock file, signals, stop
 *   master_conf.c    reading main.cf + master.cf, and reload
 *   master_listen.c  creating the inet and unix listening sockets
 *   master_spawn.c   starting children and reaping them (back-off, throttle)
 *   master_avail.c   on-demand start: watch a socket when no child is free
 *   master_wakeup.c  periodic wakeups of services with a wakeup time
 */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "events.h"
#include "maincf.h"
#include "mastercf.h"
#include "queue_tree.h"

struct master_service;

struct master_proc {
    pid_t pid;
    struct master_service *serv;
    int avail;                      /* counted in serv->avail_proc */
    int retired;                    /* told to finish and exit (reload/stop) */
    int served;                     /* reported TAKEN at least once */
    time_t started;
    struct master_proc *next;       /* in master_state.procs */
};

struct master_service {
    struct service_def def;         /* deep copy, owned */
    char *key;                      /* "name/type" */
    char *listen_sig;               /* what the sockets are bound to */
    char *path;                     /* absolute program path */
    int *listen_fds;
    int listen_count;
    int status_fd[2];               /* [0] read by master, [1] passed as fd 3 */
    struct ev_watch *status_watch;
    int stderr_fd[2];               /* children's stderr, logged by master */
    struct ev_watch *stderr_watch;
    struct buf stderr_line;         /* a partial line from stderr_fd[0] */
    struct ev_watch **listen_watch; /* active only while no child is free */
    int total_proc;                 /* live children, not counting retired */
    int retired_proc;               /* retired children still running */
    int avail_proc;
    int crashes;                    /* consecutive abnormal exits */
    time_t hold_until;              /* no new children before this (back-off) */
    struct ev_watch *hold_timer;
    struct ev_watch *wakeup_timer;
    int removed;                    /* gone from master.cf; freed when idle */
    int reload_keep;                /* reload: same entry, same sockets */
    struct master_service *next;
};

struct master_state {
    struct config *cfg;
    struct mastercf *mcf;
    const char *config_dir;
    struct queue_owner own;         /* who owns the queue and its sockets */
    struct evloop *loop;
    struct master_service *services;
    struct master_proc *procs;
    int foreground;
    int stopping;
    int verbose;
};

extern struct master_state master;

/* master_conf.c */
int master_conf_load(const char *config_dir, struct config **cfg,
                     struct mastercf **mcf, struct buf *err);
void master_conf_start(void);
void master_conf_reload(void);
void master_conf_collect(void);

/* master_listen.c */
int master_listen_open(struct master_service *serv, struct buf *err);
void master_listen_close(struct master_service *serv);
char *master_listen_signature(const struct service_def *def, const struct config *cfg);

/* master_spawn.c */
void master_spawn(struct master_service *serv);
void master_reap_children(void);
void master_retire_children(struct master_service *serv);
void master_kill_all(int signo, int whole_group);
void master_stderr_watch(struct master_service *serv);
int master_proc_count(void);
struct master_proc *master_proc_find(pid_t pid);

/* master_avail.c */
void master_avail_start(struct master_service *serv);
void master_avail_stop(struct master_service *serv);
void master_avail_update(struct master_service *serv);
void master_status_watch(struct master_service *serv);

/* master_wakeup.c */
void master_wakeup_start(struct master_service *serv);
void master_wakeup_stop(struct master_service *serv);
void master_wakeup_now(struct master_service *serv);

#endif
