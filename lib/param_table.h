/*
 * param_table - the compiled-in list of every main.cf parameter.
 *
 * Each entry has Postfix's name where the feature is the same, a type that
 * says how the value is checked, the compiled-in default (which may use
 * $name expansion, as Postfix's defaults do) and a one-line description
 * that `postconf -d` users and conf/main.cf readers see. Defaults that
 * depend on the machine (myhostname, mydomain) are marked PARAM_DYNAMIC
 * and computed by config_load().
 */
#ifndef POSTERN_PARAM_TABLE_H
#define POSTERN_PARAM_TABLE_H

#include <stddef.h>

enum param_type {
    PT_STR,         /* any text */
    PT_BOOL,        /* yes | no */
    PT_INT,         /* decimal integer within [min, max] */
    PT_TIME,        /* interval; unit letter of the default is the default unit */
    PT_SIZE,        /* byte count, optional k/m/g suffix */
    PT_LIST,        /* items separated by commas and/or white space */
};

#define PARAM_DYNAMIC 0x1   /* default computed at run time */
/*
 * Not $-expanded by main.cf: the value names per-delivery variables
 * ($user, $home, $extension, ${name?text} ...) that the program using
 * it expands itself (forward_path, mailbox_command, luser_relay).
 */
#define PARAM_RAW     0x2

struct param_def {
    const char *name;
    enum param_type type;
    const char *defval;
    long min;               /* PT_INT only */
    long max;               /* PT_INT only */
    unsigned flags;
    const char *desc;
    /*
     * PT_STR and PT_LIST only: NULL, or the allowed words separated by
     * spaces (case-insensitive); for a list, every item must be one. An
     * empty value is allowed only when the default is empty.
     */
    const char *choices;
};

/* Sorted by name; param_find() is a binary search. */
extern const struct param_def param_table[];
extern const size_t param_count;

const struct param_def *param_find(const char *name);
const char *param_type_name(enum param_type type);

#endif
