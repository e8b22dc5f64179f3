/* The times that `history --since/--until` take, read into unix times.
 *
 * Accepted, with surrounding spaces ignored:
 *   2026-11-24               local midnight at the start of that day
 *   2026-11-24 18:00[:05]    local time ('T' instead of the space works too)
 *   2026-11-24T18:00:00Z     with a zone: Z or +HH:MM / -HH:MM
 *   now, today, yesterday, tomorrow   (the last three: local midnight)
 *   -30s, -30m, -2h, -3d, -1w   that long before now (a day is 24 hours)
 * "Local" is the time zone passed in, so tests fix both it and "now".
 *
 * A range holds notes with since <= TIME <= until, both ends included, as
 * journalctl reads its --since and --until. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* No lower or upper bound. */
#define MD_TIME_RANGE_MIN G_MININT64
#define MD_TIME_RANGE_MAX G_MAXINT64

typedef struct
{
  gint64 since; /* unix time, MD_TIME_RANGE_MIN when not given */
  gint64 until; /* unix time, MD_TIME_RANGE_MAX when not given */
} MdTimeRange;

/* The range that holds every time. */
void md_time_range_init (MdTimeRange *range);

/* TRUE if @unix_time lies in @range. */
gboolean md_time_range_contains (const MdTimeRange *range, gint64 unix_time);

/* Reads @text as a time relative to @now (unix seconds) in @tz.  On bad input
 * sets G_OPTION_ERROR_BAD_VALUE with a message that quotes @text and says
 * what is accepted. */
gboolean md_time_range_parse_time (const char *text, gint64 now, GTimeZone *tz, gint64 *unix_time,
                                   GError **error);

/* Sets @range from the --since and --until values (each may be NULL).
 * Fails, changing nothing, on a bad value or on since later than until. */
gboolean md_time_range_parse (MdTimeRange *range, const char *since, const char *until, gint64 now,
                              GTimeZone *tz, GError **error);

G_END_DECLS
