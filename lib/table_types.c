/*
 * table_types - the lookup table types this build supports (see table_types.h).
 */
#include <stddef.h>
#include <string.h>

#include "dict.h"
#include "table_types.h"

extern const struct dict_ops *const dict_registry[];

#define MAX_TYPES 64

/* The registered types, plus hash and btree (names for lmdb) when it is there. */
const char *const *table_type_names(void)
{
    static const char *names[MAX_TYPES + 3];
    size_t n = 0;

    if (names[0] != NULL || dict_registry[0] == NULL)
        return names;
    for (const struct dict_ops *const *p = dict_registry; *p && n < MAX_TYPES; p++) {
        names[n++] = (*p)->type;
        if (strcmp((*p)->type, "lmdb") == 0) {
            names[n++] = "hash";
            names[n++] = "btree";
        }
    }
    names[n] = NULL;
    return names;
}
