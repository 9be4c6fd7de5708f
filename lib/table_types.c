/*
 * table_types - the lookup table types this build supports (see table_types.h).
 */
#include <stddef.h>

#include "table_types.h"

/*
 * No table types exist yet. The lookup-table issue registers each type it
 * implements here, e.g. "lmdb", "texthash", "inline", "static", "cidr".
 */
static const char *const names[] = {
    NULL,
};

/* The supported table types, NULL-terminated. */
const char *const *table_type_names(void)
{
    return names;
}
