/*
 * table_types - the lookup table types this build supports.
 *
 * `postconf -m` prints these names, one per line. The lookup-table module
 * registers its types here (lmdb, texthash, inline, static, regexp, pcre,
 * cidr, ldap, proxy) as it implements them.
 */
#ifndef POSTERN_TABLE_TYPES_H
#define POSTERN_TABLE_TYPES_H

/* Supported table type names, NULL-terminated, in display order. */
const char *const *table_type_names(void);

#endif
