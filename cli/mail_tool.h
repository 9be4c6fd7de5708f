/*
 * mail_tool - small pieces shared by the command-line tools (sendmail,
 * postdrop, postqueue, postsuper, postmap, postalias).
 */
#ifndef POSTERN_MAIL_TOOL_H
#define POSTERN_MAIL_TOOL_H

#include "buf.h"
#include "maincf.h"

/* main.cf from dir, or the compiled-in defaults when there is none. */
struct config *tool_load_config(const char *dir);
/* Print each line of err with msg_error. */
void tool_error_lines(const struct buf *err);
/*
 * The path of a sibling tool: command_directory/NAME if it exists there,
 * else the directory this program runs from.
 */
void tool_path(const struct config *cfg, const char *name, struct buf *out);

#endif
