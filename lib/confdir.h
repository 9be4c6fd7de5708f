/*
 * confdir - which configuration directory a program uses: the -c option,
 * else $MAIL_CONFIG, else the compiled-in default (/etc/postern). A
 * relative directory is made absolute, since master changes directory.
 */
#ifndef POSTERN_CONFDIR_H
#define POSTERN_CONFDIR_H

#define DEF_CONFIG_DIR "/etc/postern"

/* opt is the -c argument or NULL. Also exports MAIL_CONFIG for children. */
const char *confdir_resolve(const char *opt);

#endif
