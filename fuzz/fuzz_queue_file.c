/*
 * fuzz_queue_file - libFuzzer target for the queue file reader: check
 * arbitrary bytes as a queue file image; when they validate, walk the
 * attributes, every recipient and the whole content, and check that
 * what the walk sees agrees with the envelope (recipient and done
 * counts, content size).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue_file.h"

/* Validate, and for a good image walk everything it holds. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct queue_file *qf;
    const struct qf_envelope *env;
    struct buf why = BUF_INIT;
    struct qf_rcpt r;
    const char *name, *value;
    char chunk[4096];
    size_t nrcpt = 0, ndone = 0, i;
    uint64_t content = 0;
    ssize_t n;
    int got;

    if (queue_file_open_mem(data, size, &qf, &why) != 0) {
        if (why.len == 0)
            abort();                /* every rejection says why */
        buf_free(&why);
        return 0;
    }
    env = queue_file_envelope(qf);
    if (env->sender == NULL || !queue_id_valid(env->queue_id))
        abort();
    for (i = 0; queue_file_attr_at(qf, i, &name, &value); i++)
        if (queue_file_attr(qf, name) == NULL)
            abort();
    while ((got = queue_file_rcpt_next(qf, &r, &why)) == 1) {
        if (r.index != nrcpt || r.address[0] == 0 || strlen(r.address) > QF_MAX_ADDR)
            abort();
        nrcpt++;
        ndone += (size_t)r.done;
    }
    if (got != 0 || nrcpt != env->nrcpt || ndone != env->ndone || nrcpt == 0)
        abort();
    while ((n = queue_file_content_read(qf, chunk, sizeof(chunk), &why)) > 0)
        content += (uint64_t)n;
    if (n != 0 || content != env->size || content > size)
        abort();
    queue_file_close(qf);
    buf_free(&why);
    return 0;
}
