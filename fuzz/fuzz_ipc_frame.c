/*
 * fuzz_ipc_frame - libFuzzer target for the IPC frame decoder: decode
 * arbitrary bytes; when a frame decodes, re-encode it and check that the
 * encoding is byte-identical and decodes to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_frame.h"

/* Abort unless two records hold the same attributes in the same order. */
static void check_equal(const struct ipc_record *a, const struct ipc_record *b)
{
    size_t i;

    if (a->count != b->count)
        abort();
    for (i = 0; i < a->count; i++) {
        if (strcmp(a->attrs[i].name, b->attrs[i].name) != 0
            || a->attrs[i].len != b->attrs[i].len
            || memcmp(a->attrs[i].value, b->attrs[i].value, a->attrs[i].len) != 0)
            abort();
    }
}

/* Decode, and for a good frame re-encode and decode again. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipc_record rec, again;
    struct buf out;
    size_t used = 0, used2 = 0;
    const char *why = NULL;
    enum ipc_decode_result r;

    ipc_record_init(&rec);
    ipc_record_init(&again);
    buf_init(&out, IPC_MAX_FRAME);
    r = ipc_decode(data, size, &rec, &used, &why);
    if (r == IPC_ERROR && why == NULL)
        abort();
    if (r == IPC_OK) {
        if (used > size || used < IPC_HEADER_SIZE)
            abort();
        if (ipc_encode(&rec, &out) != 0 || out.len != used
            || memcmp(out.data, data, used) != 0)
            abort();
        if (ipc_decode(out.data, out.len, &again, &used2, &why) != IPC_OK
            || used2 != used)
            abort();
        check_equal(&rec, &again);
    }
    buf_free(&out);
    ipc_record_free(&rec);
    ipc_record_free(&again);
    return 0;
}
