/*
 * sendmail_bs - `sendmail -bs`: an SMTP conversation on standard input
 * and output, as MUAs that speak SMTP to a local program expect. Each
 * message is handed to submit (postdrop), so it goes the same way as any
 * other local submission: maildrop/, pickup, clean-up.
 */
#ifndef POSTERN_SENDMAIL_BS_H
#define POSTERN_SENDMAIL_BS_H

#include <stdio.h>

#include "maincf.h"

/* Queue one message (read from msg, LF lines); 0 when it is queued. */
typedef int (*sendmail_bs_submit_fn)(void *arg, const char *sender, char **rcpt,
                                     size_t nrcpt, FILE *msg);

/* Run the conversation until QUIT or end of input; returns the exit status. */
int sendmail_bs(const struct config *cfg, sendmail_bs_submit_fn submit, void *arg);

#endif
