/*
 * ipc_frame_bench - how fast the IPC frame module encodes and decodes.
 *
 * usage: ipc_frame_bench [records]
 *
 * Builds a record shaped like a delivery request (queue id, sender, a
 * handful of recipients with DSN attributes), then encodes and decodes it
 * `records` times (default 1,000,000) and prints frames per second and
 * megabytes per second for each direction. Every internal conversation
 * (qmgr to delivery agents, lookups, auth) pays this cost per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ipc_frame.h"
#include "log.h"
#include "numparse.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build_request(struct ipc_record *rec)
{
    char name[32], value[128];

    ipc_add_str(rec, "request", "deliver");
    ipc_add_str(rec, "queue_id", "4XyZ0a1B2c3D");
    ipc_add_str(rec, "sender", "someone.with.a.long.name@example.org");
    ipc_add_long(rec, "size", 123456);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "rcpt_%d", i);
        snprintf(value, sizeof(value), "user%d@example.test", i);
        ipc_add_str(rec, name, value);
        snprintf(name, sizeof(name), "notify_%d", i);
        ipc_add_str(rec, name, "SUCCESS,FAILURE");
    }
}

int main(int argc, char **argv)
{
    struct ipc_record rec, out;
    struct buf wire = BUF_INIT;
    long n = 1000000;
    size_t consumed, frame_len;
    const char *why;
    double t0, t_enc, t_dec;

    log_init("ipc_frame_bench");
    if (argc > 1 && parse_long(argv[1], 1, 1000000000L, &n) < 0)
        msg_fatal("usage: ipc_frame_bench [records]");
    ipc_record_init(&rec);
    ipc_record_init(&out);
    build_request(&rec);

    t0 = now();
    for (long i = 0; i < n; i++) {
        buf_reset(&wire);
        if (ipc_encode(&rec, &wire) < 0)
            msg_fatal("encode failed");
    }
    t_enc = now() - t0;
    frame_len = wire.len;

    t0 = now();
    for (long i = 0; i < n; i++) {
        if (ipc_decode(wire.data, wire.len, &out, &consumed, &why) != IPC_OK)
            msg_fatal("decode failed: %s", why);
    }
    t_dec = now() - t0;
    if (ipc_get_str(&out, "queue_id") == NULL)
        msg_fatal("decoded record lost its queue_id");

    printf("frame: %zu bytes, %zu attributes, %ld rounds\n", frame_len, rec.count, n);
    printf("encode: %.0f frames/s, %.1f MB/s\n", (double)n / t_enc,
           (double)n * (double)frame_len / t_enc / 1e6);
    printf("decode: %.0f frames/s, %.1f MB/s\n", (double)n / t_dec,
           (double)n * (double)frame_len / t_dec / 1e6);
    ipc_record_free(&rec);
    ipc_record_free(&out);
    buf_free(&wire);
    return 0;
}
