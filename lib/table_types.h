/*
 * table_types - the lookup table types this build supports.
 *
 * `postconf -m` prints these names, one per line: every backend in the
 * dict registry (see dict.h), with hash and btree after lmdb, whose
 * names they are.
 */
#ifndef POSTERN_TABLE_TYPES_H
#define POSTERN_TABLE_TYPES_H

/* Supported table type names, NULL-terminated, in display order. */
const char *const *table_type_names(void);

#endif
