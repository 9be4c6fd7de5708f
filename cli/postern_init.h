/*
 * postern_init - `postern init DIR ...`: write a self-contained instance
 * (main.cf, master.cf, queue tree, mailbox base, users) that runs from the
 * build tree, as DESIGN.md describes.
 */
#ifndef POSTERN_INIT_H
#define POSTERN_INIT_H

/* argv[0] is "init". Returns the exit status. */
int postern_init(int argc, char **argv);

#endif
