#ifndef POSTERN_VERSION_H
#define POSTERN_VERSION_H
/* version - the release this tree builds. */
#define POSTERN_VERSION "0.1.0"
#endif
