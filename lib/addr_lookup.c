/*
 * addr_lookup - Postfix's address lookup order (see addr_lookup.h).
 */
#include <string.h>

#include "addr_lookup.h"

/* Look one key form up in every table; the first answer wins. */
static int try_key(struct dict *const *tables, int count, const char *key,
                   struct buf *value, struct buf *matched_key, struct buf *why)
{
    for (int i = 0; i < count; i++) {
        int rc = dict_lookup(tables[i], key, value, why);

        if (rc == DICT_FOUND && matched_key)
            buf_set(matched_key, key);
        if (rc != DICT_NOTFOUND)
            return rc;
    }
    return DICT_NOTFOUND;
}

/*
 * The forms to try, in order, as NUL-separated strings in forms. Duplicate
 * forms (no extension) are left out.
 */
static void key_forms(const char *address, const char *delimiters, int flags,
                      struct buf *forms)
{
    const char *at = strrchr(address, '@');
    size_t local_len = at ? (size_t)(at - address) : strlen(address);
    size_t base_len = local_len;
    const char *domain = at ? at + 1 : "";

    /* The extension starts at the first delimiter after the first character. */
    if (*delimiters && local_len > 1) {
        size_t cut = 1 + strcspn(address + 1, delimiters);

        if (cut < local_len)
            base_len = cut;
    }
    /* user+ext@domain, then user@domain */
    if (at) {
        buf_append(forms, address, strlen(address) + 1);
        if (base_len < local_len) {
            buf_append(forms, address, base_len);
            buf_printf(forms, "@%s", domain);
            buf_putc(forms, 0);
        }
    }
    /* user+ext, then user */
    if ((flags & ADDR_LOOKUP_LOCALPART) || !at) {
        buf_append(forms, address, local_len);
        buf_putc(forms, 0);
        if (base_len < local_len) {
            buf_append(forms, address, base_len);
            buf_putc(forms, 0);
        }
    }
    /* @domain */
    if ((flags & ADDR_LOOKUP_DOMAIN) && at && *domain) {
        buf_printf(forms, "@%s", domain);
        buf_putc(forms, 0);
    }
}

int addr_lookup(struct dict *const *tables, int count, const char *address,
                const char *delimiters, int flags, struct buf *value,
                struct buf *matched_key, struct buf *why)
{
    struct buf forms = BUF_INIT;
    int rc = DICT_NOTFOUND;

    key_forms(address, delimiters ? delimiters : "", flags, &forms);
    for (size_t off = 0; off < forms.len && rc == DICT_NOTFOUND; ) {
        const char *key = forms.data + off;

        rc = try_key(tables, count, key, value, matched_key, why);
        off += strlen(key) + 1;
    }
    buf_free(&forms);
    return rc;
}
