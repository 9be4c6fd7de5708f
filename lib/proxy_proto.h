/*
 * proxy_proto - the conversation between proxy: tables and lookupd.
 *
 * Over a UNIX stream socket (queue_directory/private/lookupd), in IPC
 * frames (ipc_frame.h), any number of requests per connection:
 *
 *   request:  request=lookup  table=TYPE:NAME  flags=N  key=KEY
 *   reply:    status=found     value=VALUE
 *             status=notfound
 *             status=tempfail  reason=TEXT
 *
 * flags carries only DICT_FLAG_FOLD. lookupd answers for tables named in
 * proxy_read_maps (with or without their "proxy:" prefix) and refuses
 * every other table with status=tempfail and a reason that says so, so a
 * misconfiguration defers mail and shows in the log instead of bouncing.
 */
#ifndef POSTERN_PROXY_PROTO_H
#define POSTERN_PROXY_PROTO_H

#define PROXY_SERVICE       "lookupd"
#define PROXY_SOCKET        "private/" PROXY_SERVICE

#define PROXY_REQ_LOOKUP    "lookup"

#define PROXY_STAT_FOUND    "found"
#define PROXY_STAT_NOTFOUND "notfound"
#define PROXY_STAT_TEMPFAIL "tempfail"

#endif
