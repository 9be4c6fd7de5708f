/*
 * mail_date - RFC 5322 dates in local time (mail_date.h).
 */
#include <string.h>

#include "mail_date.h"

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Is the zone name safe to put in a header comment? */
static int plain_zone(const char *z)
{
    if (*z == 0)
        return 0;
    for (; *z; z++)
        if (!((*z >= 'A' && *z <= 'Z') || (*z >= 'a' && *z <= 'z')
              || (*z >= '0' && *z <= '9') || *z == '+' || *z == '-'))
            return 0;
    return 1;
}

/* Append "Mon, 23 Nov 2026 18:26:17 +0000 (UTC)" for when. */
void mail_date(struct buf *out, time_t when)
{
    struct tm lt, gt;
    long off;
    char zone[64];

    localtime_r(&when, &lt);
    gmtime_r(&when, &gt);
    /* The offset from UTC, in minutes, from the two broken-down times. */
    off = (lt.tm_hour - gt.tm_hour) * 60 + (lt.tm_min - gt.tm_min);
    if (lt.tm_year != gt.tm_year)
        off += lt.tm_year > gt.tm_year ? 24 * 60 : -24 * 60;
    else if (lt.tm_yday != gt.tm_yday)
        off += lt.tm_yday > gt.tm_yday ? 24 * 60 : -24 * 60;
    if (strftime(zone, sizeof(zone), "%Z", &lt) == 0)
        zone[0] = 0;
    buf_printf(out, "%s, %2d %s %d %02d:%02d:%02d %c%02ld%02ld",
               wday[lt.tm_wday % 7], lt.tm_mday, month[lt.tm_mon % 12], lt.tm_year + 1900,
               lt.tm_hour, lt.tm_min, lt.tm_sec, off < 0 ? '-' : '+',
               (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
    if (plain_zone(zone))
        buf_printf(out, " (%s)", zone);
}
