/*
 * fuzz_local_forward - libFuzzer target for local(8)'s parser of .forward
 * files and alias values (local/local_alias.c) and its forward_path /
 * luser_relay expander (local/local_expand.c): both read text that users
 * control. Checks that every destination is non-empty, has no NUL, that
 * files and includes are absolute paths, that an error always says why,
 * and that an expansion stays within its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../local/local_alias.c"
#include "../local/local_expand.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct local_dest_list l = { 0 };
    struct buf why = BUF_INIT, out = BUF_INIT;
    static const struct local_expand_vars v = {
        .user = "bob", .home = "/home/bob", .recipient = "bob+x@example.test",
        .local = "bob+x", .extension = "x", .domain = "example.test",
        .recipient_delimiter = "+",
    };
    char *text;
    int rc;

    rc = local_alias_parse_file((const char *)data, size, &l, &why);
    if (rc < 0 && why.len == 0)
        __builtin_trap();
    if (l.n > LOCAL_ALIAS_MAX_ITEMS)
        __builtin_trap();
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].value[0] == 0)
            __builtin_trap();
        if ((l.v[i].type == LOCAL_DEST_FILE || l.v[i].type == LOCAL_DEST_INCLUDE)
            && l.v[i].value[0] != '/')
            __builtin_trap();
    }
    local_dest_list_free(&l);

    /* The same bytes as a forward_path element. */
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    buf_reset(&why);
    rc = local_expand(text, &v, &out, &why);
    if (rc < 0 && why.len == 0)
        __builtin_trap();
    if (rc >= 0 && out.len > LOCAL_EXPAND_MAX)
        __builtin_trap();
    free(text);
    buf_free(&why);
    buf_free(&out);
    return 0;
}
