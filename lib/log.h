/*
 * log - the suite's logging, in Postfix's shapes.
 *
 * Every line reads "postern/PROGRAM[PID]: text" (the prefix is syslog_name,
 * "postern" unless main.cf says otherwise). Lines go to syslog (facility
 * mail), to a file named by maillog_file (with a syslog-style time stamp
 * and host name, so pflogsumm reads it), and/or to stderr for programs run
 * in the foreground and for command-line tools.
 *
 * Severity follows Postfix: info, warning, error, fatal (environment
 * problem: exit 1), panic (a bug: abort).
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

/* Program name, e.g. "master"; call first. Logs to stderr until told otherwise. */
void log_init(const char *program);
/* syslog_name from main.cf ("postern" by default). */
void log_set_syslog_name(const char *name);
/* Where lines go. Each may be combined with the others. */
/* 0: off; 1: "PROGRAM: text" as tools print; 2: full log lines (foreground daemons). */
void log_to_stderr(int mode);
int log_to_syslog(const char *facility);    /* -1: unknown facility */
int log_to_syslog_check(const char *facility);  /* known facility? 0 or -1 */
int log_to_file(const char *path);          /* -1 with errno set */
/* Host name used in file log lines. */
void log_set_hostname(const char *host);
/* Log verbose (debug) lines too. */
void log_set_verbose(int level);
extern int msg_verbose;

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called by msg_fatal before exit (e.g. to tell master we failed). */
void log_set_fatal_hook(void (*hook)(void));

#endif
