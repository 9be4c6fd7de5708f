/*
 * queue_file_rec - internals shared by the queue file writer and reader:
 * the limits of every record type, byte order helpers, and the payload
 * checks both sides apply (so the writer never writes what the reader
 * would reject). Not for use outside lib/queue_file_*.c.
 */
#ifndef POSTERN_QUEUE_FILE_REC_H
#define POSTERN_QUEUE_FILE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "queue_file.h"

struct rec_limit {
    int type;
    uint32_t min, max;
    const char *name;
};

#define CLIENT_FIELDS 4

const struct rec_limit *qf_rec_limit(int type);
void qf_put_u16(unsigned char *p, uint32_t v);
void qf_put_u32(unsigned char *p, uint32_t v);
void qf_put_u64(unsigned char *p, uint64_t v);
int qf_text_ok(const void *data, size_t len);
int qf_envid_ok(const void *data, size_t len);
int qf_attr_name_ok(const void *data, size_t len);
int qf_notify_ok(unsigned notify);

uint32_t qf_get_u16(const unsigned char *p);
uint32_t qf_get_u32(const unsigned char *p);
uint64_t qf_get_u64(const unsigned char *p);
int qf_pwrite_all(int fd, const void *data, size_t len, uint64_t off);
int qf_rename_noreplace(const char *from, const char *to);

#endif
