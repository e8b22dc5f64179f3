#include "config.h"

#include "md-time-range.h"

#include "md-note.h"

#include <glib/gi18n.h>
#include <string.h>

/* Longest relative count: nine digits keep count * seconds-per-week far
 * inside 64 bits. */
#define MAX_COUNT_DIGITS 9

typedef struct
{
  guint year, month, day, hour, minute, second;
} MdCivilTime;

/* @text as it may be shown: a terminal never gets its control bytes. */
static char *
printable (const char *text)
{
  if (md_note_validate (text, strlen (text), NULL))
    return g_strdup (text);
  return g_strescape (text, NULL);
}

static gboolean
fail_format (GError **error, const char *raw)
{
  g_autofree char *text = printable (raw);

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               /* TRANSLATORS: %s is what the user typed after --since or --until */
               _ ("“%s” is not a time: use YYYY-MM-DD, “YYYY-MM-DD HH:MM”, today, yesterday, or "
                  "-30m, -2h, -3d"),
               text);
  return FALSE;
}

static gboolean
fail_invalid (GError **error, const char *raw)
{
  g_autofree char *text = printable (raw);

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               /* TRANSLATORS: %s is a date such as 2026-02-30 */
               _ ("“%s” is not a real date and time"), text);
  return FALSE;
}

void
md_time_range_init (MdTimeRange *range)
{
  g_return_if_fail (range != NULL);

  range->since = MD_TIME_RANGE_MIN;
  range->until = MD_TIME_RANGE_MAX;
}

gboolean
md_time_range_contains (const MdTimeRange *range, gint64 unix_time)
{
  g_return_val_if_fail (range != NULL, FALSE);

  return unix_time >= range->since && unix_time <= range->until;
}

/* Reads exactly @count digits at *@p and moves past them. */
static gboolean
read_digits (const char **p, guint count, guint *value)
{
  guint v = 0;

  for (guint i = 0; i < count; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      v = v * 10 + (guint)((*p)[i] - '0');
    }
  *p += count;
  *value = v;
  return TRUE;
}

static gboolean
read_char (const char **p, char c)
{
  if (**p != c)
    return FALSE;
  (*p)++;
  return TRUE;
}

/* "YYYY-MM-DD", then optionally " HH:MM" or " HH:MM:SS" (or 'T'). */
static gboolean
read_civil (const char **p, MdCivilTime *civil)
{
  memset (civil, 0, sizeof *civil);
  if (!read_digits (p, 4, &civil->year) || !read_char (p, '-') || !read_digits (p, 2, &civil->month)
      || !read_char (p, '-') || !read_digits (p, 2, &civil->day))
    return FALSE;
  if (**p != ' ' && **p != 'T')
    return TRUE;
  (*p)++;
  if (!read_digits (p, 2, &civil->hour) || !read_char (p, ':')
      || !read_digits (p, 2, &civil->minute))
    return FALSE;
  if (read_char (p, ':') && !read_digits (p, 2, &civil->second))
    return FALSE;
  return TRUE;
}

/* What follows the time: nothing (the local zone), "Z", or "+HH:MM". */
static GTimeZone *
read_zone (const char *p, GTimeZone *local)
{
  if (*p == '\0')
    return g_time_zone_ref (local);
  if (strcmp (p, "Z") == 0)
    return g_time_zone_new_utc ();
  if ((p[0] == '+' || p[0] == '-') && strlen (p) == 6 && g_ascii_isdigit (p[1])
      && g_ascii_isdigit (p[2]) && p[3] == ':' && g_ascii_isdigit (p[4]) && g_ascii_isdigit (p[5]))
    return g_time_zone_new_identifier (p);
  return NULL;
}

/* The unix time of @civil in @zone; FALSE if there is no such day or time.
 * A local time that a DST change skips moves forward, as GDateTime does. */
static gboolean
civil_to_unix (const MdCivilTime *civil, GTimeZone *zone, gint64 *unix_time)
{
  g_autoptr (GDateTime) dt = NULL;

  if (civil->year < 1 || civil->second > 59)
    return FALSE;
  dt = g_date_time_new (zone, (gint)civil->year, (gint)civil->month, (gint)civil->day,
                        (gint)civil->hour, (gint)civil->minute, civil->second);
  if (dt == NULL)
    return FALSE;
  *unix_time = g_date_time_to_unix (dt);
  return TRUE;
}

static gboolean
parse_absolute (const char *text, GTimeZone *tz, gint64 *unix_time, GError **error)
{
  const char *p = text;
  MdCivilTime civil;
  g_autoptr (GTimeZone) zone = NULL;

  if (!read_civil (&p, &civil) || (zone = read_zone (p, tz)) == NULL)
    return fail_format (error, text);
  if (!civil_to_unix (&civil, zone, unix_time))
    return fail_invalid (error, text);
  return TRUE;
}

/* Local midnight starting the day @day_offset days from @now's day. */
static gint64
local_midnight (gint64 now, GTimeZone *tz, gint day_offset)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (now);
  g_autoptr (GDateTime) local = g_date_time_to_timezone (utc, tz);
  g_autoptr (GDateTime) midnight = NULL;
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay)g_date_time_get_day_of_month (local),
                  (GDateMonth)g_date_time_get_month (local),
                  (GDateYear)g_date_time_get_year (local));
  if (day_offset < 0)
    g_date_subtract_days (&date, (guint)-day_offset);
  else
    g_date_add_days (&date, (guint)day_offset);
  midnight = g_date_time_new (tz, g_date_get_year (&date), g_date_get_month (&date),
                              g_date_get_day (&date), 0, 0, 0);
  return g_date_time_to_unix (midnight);
}

static gint64
unit_seconds (char unit)
{
  switch (unit)
    {
      case 's':
        return 1;
      case 'm':
        return 60;
      case 'h':
        return 3600;
      case 'd':
        return 86400;
      case 'w':
        return 7 * 86400;
      default:
        return 0;
    }
}

/* "-Nu": N (1 to 9 digits) units before @now. */
static gboolean
parse_relative (const char *text, gint64 now, gint64 *unix_time)
{
  gsize digits;
  guint64 count;
  gint64 unit;

  if (text[0] != '-')
    return FALSE;
  digits = strspn (text + 1, "0123456789");
  if (digits == 0 || digits > MAX_COUNT_DIGITS)
    return FALSE;
  unit = unit_seconds (text[1 + digits]); /* 0 for the NUL too */
  if (unit == 0 || text[1 + digits + 1] != '\0')
    return FALSE;
  count = g_ascii_strtoull (text + 1, NULL, 10);
  *unix_time = now - (gint64)count * unit;
  return TRUE;
}

/* "now", "today", "yesterday" and "tomorrow"; FALSE for anything else. */
static gboolean
parse_word (const char *text, gint64 now, GTimeZone *tz, gint64 *unix_time)
{
  if (g_ascii_strcasecmp (text, "now") == 0)
    *unix_time = now;
  else if (g_ascii_strcasecmp (text, "today") == 0)
    *unix_time = local_midnight (now, tz, 0);
  else if (g_ascii_strcasecmp (text, "yesterday") == 0)
    *unix_time = local_midnight (now, tz, -1);
  else if (g_ascii_strcasecmp (text, "tomorrow") == 0)
    *unix_time = local_midnight (now, tz, 1);
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_stripped (const char *text, gint64 now, GTimeZone *tz, gint64 *unix_time, GError **error)
{
  if (parse_word (text, now, tz, unix_time) || parse_relative (text, now, unix_time))
    return TRUE;
  if (!g_ascii_isdigit (text[0]))
    return fail_format (error, text);
  return parse_absolute (text, tz, unix_time, error);
}

gboolean
md_time_range_parse_time (const char *text, gint64 now, GTimeZone *tz, gint64 *unix_time,
                          GError **error)
{
  g_autofree char *stripped = NULL;
  gint64 t = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (tz != NULL, FALSE);
  g_return_val_if_fail (unix_time != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stripped = g_strstrip (g_strdup (text));
  if (!parse_stripped (stripped, now, tz, &t, error))
    return FALSE;
  /* Notes carry four-digit years; a time outside them matches no note and
   * is surely a typo. */
  if (!md_note_time_is_valid (t))
    return fail_invalid (error, stripped);
  *unix_time = t;
  return TRUE;
}

gboolean
md_time_range_parse (MdTimeRange *range, const char *since, const char *until, gint64 now,
                     GTimeZone *tz, GError **error)
{
  MdTimeRange parsed;

  g_return_val_if_fail (range != NULL, FALSE);
  g_return_val_if_fail (tz != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  md_time_range_init (&parsed);
  if (since != NULL && !md_time_range_parse_time (since, now, tz, &parsed.since, error))
    return FALSE;
  if (until != NULL && !md_time_range_parse_time (until, now, tz, &parsed.until, error))
    return FALSE;
  if (parsed.since > parsed.until)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   /* TRANSLATORS: %s and %s are the --since and --until values */
                   _ ("--since “%s” is later than --until “%s”"), since, until);
      return FALSE;
    }
  *range = parsed;
  return TRUE;
}
