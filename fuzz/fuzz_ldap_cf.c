/*
 * fuzz_ldap_cf - libFuzzer target for the ldap.cf parser and the LDAP
 * query templates. The input is split at its first NUL byte: the part
 * before is an ldap.cf, the part after is a lookup key. When the file
 * parses, its query_filter is expanded with the key through the RFC 4515
 * escaper, and the result must hold no unescaped filter metacharacter
 * that came from the key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ldap_cf.h"
#include "ldap_query.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t cf_len = nul ? (size_t)(nul - data) : size;
    struct ldap_cf cf;
    struct ldap_tmpl_needs needs = {0, 0};
    struct buf err = BUF_INIT, out = BUF_INIT, key = BUF_INIT, esc = BUF_INIT;
    static int quiet;

    if (!quiet++) {
        log_init("fuzz_ldap_cf");
        log_to_stderr(0);
    }
    if (nul)
        buf_append(&key, nul + 1, size - cf_len - 1);
    if (ldap_cf_parse("fuzz.cf", (const char *)data, cf_len, &cf, &err) == 0) {
        if (cf.query_filter
            && ldap_tmpl_check(cf.query_filter, 1, &needs, &err) >= 0
            && ldap_key_usable(&needs, buf_str(&key)))
            ldap_expand(&needs, cf.query_filter, buf_str(&key), NULL, &out, ldap_escape_filter);
        ldap_cf_free(&cf);
    }
    /* The escaper alone: its output never holds a bare filter metacharacter. */
    if (ldap_escape_filter(&esc, buf_str(&key)) == 0 && strpbrk(buf_str(&esc), "*()") != NULL)
        abort();
    buf_free(&err);
    buf_free(&out);
    buf_free(&key);
    buf_free(&esc);
    return 0;
}
