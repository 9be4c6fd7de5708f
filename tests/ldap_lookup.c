/*
 * ldap_lookup - a test helper: look keys up in any table through the dict
 * API, the way a long-running daemon would (one open table, many lookups).
 *
 *   ldap_lookup [-c config_dir] [-f] TABLE KEY
 *       prints the value; exit 0 found, 1 not found, 2 temporary failure
 *       (the reason on stderr), 3 usage or open error.
 *   ldap_lookup [-c config_dir] [-f] TABLE
 *       reads keys from stdin, one a line, and answers each with one
 *       flushed line: "FOUND key value", "NOTFOUND key" or
 *       "TEMPFAIL key reason"; exit 0 at end of input.
 *
 * -f: do not fold keys to lower case (like postmap -f).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "log.h"
#include "maincf.h"

static int one(struct dict *d, const char *key, int line_mode)
{
    struct buf value = BUF_INIT, why = BUF_INIT;
    int rc = dict_lookup(d, key, &value, &why);

    if (line_mode) {
        if (rc == DICT_FOUND)
            printf("FOUND %s %s\n", key, buf_str(&value));
        else if (rc == DICT_NOTFOUND)
            printf("NOTFOUND %s\n", key);
        else
            printf("TEMPFAIL %s %s\n", key, buf_str(&why));
        fflush(stdout);
    } else if (rc == DICT_FOUND) {
        printf("%s\n", buf_str(&value));
    } else if (rc == DICT_TEMPFAIL) {
        fprintf(stderr, "ldap_lookup: %s: temporary failure: %s\n", key, buf_str(&why));
    }
    buf_free(&value);
    buf_free(&why);
    return rc == DICT_FOUND ? 0 : rc == DICT_NOTFOUND ? 1 : 2;
}

int main(int argc, char **argv)
{
    struct config *cfg = NULL;
    struct buf err = BUF_INIT;
    struct dict *d;
    int ch, flags = DICT_FLAG_FOLD, rc = 0;

    log_init("ldap_lookup");
    while ((ch = getopt(argc, argv, "c:f")) != -1) {
        switch (ch) {
        case 'c':
            if ((cfg = config_load(optarg, &err)) == NULL) {
                fprintf(stderr, "ldap_lookup: %s\n", buf_str(&err));
                return 3;
            }
            break;
        case 'f':
            flags &= ~DICT_FLAG_FOLD;
            break;
        default:
            goto usage;
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        goto usage;
    if ((d = dict_open(argv[optind], flags, cfg, &err)) == NULL) {
        fprintf(stderr, "ldap_lookup: %s\n", buf_str(&err));
        buf_free(&err);
        config_free(cfg);
        return 3;
    }
    if (argc - optind == 2) {
        rc = one(d, argv[optind + 1], 0);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        while ((n = getline(&line, &cap, stdin)) >= 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            one(d, line, 1);
        }
        free(line);
    }
    dict_close(d);
    if (cfg)
        config_free(cfg);
    buf_free(&err);
    return rc;

usage:
    fprintf(stderr, "usage: ldap_lookup [-c config_dir] [-f] TABLE [KEY]\n");
    return 3;
}
