#include "config.h"

#include "md-note.h"

#include "md-error.h"

#include <string.h>

#define TIME_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define SECONDS_PER_DAY 86400
/* Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define EPOCH_SHIFT_DAYS 719468
#define DAYS_PER_ERA 146097 /* 400 years */
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the four-digit years. */
#define MIN_TIME G_GINT64_CONSTANT (-62167219200)
#define MAX_TIME G_GINT64_CONSTANT (253402300799)

static gboolean
invalid_note (GError **error, const char *reason)
{
  g_set_error_literal (error, MD_ERROR, MD_ERROR_INVALID_NOTE, reason);
  return FALSE;
}

/* C0 (TAB, LF and CR included), DEL and C1 would break the one-line format or
 * a terminal that prints the note.  On valid UTF-8 they are plain bytes (C0,
 * DEL) or 0xC2 followed by 0x80-0x9F (C1), so one byte loop finds them: the
 * store checks every note at start-up, and decoding each character would
 * dominate that. */
static gboolean
contains_control (const char *text, gsize len)
{
  const guchar *bytes = (const guchar *)text;

  for (gsize i = 0; i < len; i++)
    {
      if (bytes[i] < 0x20 || bytes[i] == 0x7f)
        return TRUE;
      if (bytes[i] == 0xc2 && i + 1 < len && bytes[i + 1] <= 0x9f)
        return TRUE;
    }
  return FALSE;
}

gboolean
md_note_validate (const char *text, gsize len, GError **error)
{
  const char *end;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    return invalid_note (error, "note is empty");
  if (len > MD_NOTE_MAX_BYTES)
    return invalid_note (error, "note is longer than 1000 bytes");
  if (!g_utf8_validate_len (text, len, &end))
    {
      /* GLib stops at a NUL too, which is a control character, not bad UTF-8. */
      if (*end == '\0')
        return invalid_note (error, "note contains a control character");
      return invalid_note (error, "note is not valid UTF-8");
    }
  if (contains_control (text, len))
    return invalid_note (error, "note contains a control character");
  return TRUE;
}

gboolean
md_note_key_is_valid (const char *key, gsize len)
{
  g_return_val_if_fail (key != NULL || len == 0, FALSE);

  if (len != MD_NOTE_KEY_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gboolean hyphen_place = i == 8 || i == 13 || i == 18 || i == 23;

      if (hyphen_place ? key[i] != '-' : !g_ascii_isxdigit (key[i]))
        return FALSE;
    }
  return TRUE;
}

/* Rounds towards minus infinity, so times before 1970 work too. */
static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;

  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day number (days since 1970-01-01) of a proleptic Gregorian date.  Counting
 * years from March puts the leap day at the end of the year. */
static gint64
days_from_civil (gint64 year, guint month, guint day)
{
  gint64 y = month <= 2 ? year - 1 : year;
  gint64 era = floor_div (y, 400);
  gint64 year_of_era = y - era * 400;
  guint month_from_march = month > 2 ? month - 3 : month + 9;
  gint64 day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  gint64 day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

  return era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT_DAYS;
}

/* The inverse of days_from_civil. */
static void
civil_from_days (gint64 days, gint64 *year, guint *month, guint *day)
{
  gint64 z = days + EPOCH_SHIFT_DAYS;
  gint64 era = floor_div (z, DAYS_PER_ERA);
  gint64 day_of_era = z - era * DAYS_PER_ERA;
  gint64 year_of_era
      = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  gint64 day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  gint64 month_from_march = (5 * day_of_year + 2) / 153;

  *day = (guint)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  *month = (guint)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

static gboolean
is_leap_year (gint64 year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static guint
days_in_month (gint64 year, guint month)
{
  static const guint8 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  if (month == 2 && is_leap_year (year))
    return 29;
  return days[month - 1];
}

void
md_note_append_time (GString *out, gint64 unix_time)
{
  gint64 days, seconds, year;
  guint month, day;

  g_return_if_fail (out != NULL);
  g_return_if_fail (unix_time >= MIN_TIME && unix_time <= MAX_TIME);

  days = floor_div (unix_time, SECONDS_PER_DAY);
  seconds = unix_time - days * SECONDS_PER_DAY;
  civil_from_days (days, &year, &month, &day);
  g_string_append_printf (out, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)year, month, day,
                          (int)(seconds / 3600), (int)(seconds / 60 % 60), (int)(seconds % 60));
}

/* Reads exactly @n ASCII digits. */
static gboolean
parse_digits (const char *s, guint n, guint *value)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (guint)(s[i] - '0');
    }
  *value = v;
  return TRUE;
}

gboolean
md_note_parse_time (const char *s, gsize len, gint64 *unix_time)
{
  guint year, month, day, hour, minute, second;

  g_return_val_if_fail (s != NULL || len == 0, FALSE);

  if (len != TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':'
      || s[19] != 'Z')
    return FALSE;
  if (!parse_digits (s, 4, &year) || !parse_digits (s + 5, 2, &month)
      || !parse_digits (s + 8, 2, &day) || !parse_digits (s + 11, 2, &hour)
      || !parse_digits (s + 14, 2, &minute) || !parse_digits (s + 17, 2, &second))
    return FALSE;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month (year, month) || hour > 23
      || minute > 59 || second > 59)
    return FALSE;
  if (unix_time != NULL)
    *unix_time
        = days_from_civil (year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
  return TRUE;
}

void
md_note_append_wire_line (GString *out, guint64 id, gint64 unix_time, const char *text,
                          gsize text_len)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (text != NULL || text_len == 0);

  g_string_append_printf (out, "%" G_GUINT64_FORMAT "\t", id);
  md_note_append_time (out, unix_time);
  g_string_append_c (out, '\t');
  g_string_append_len (out, text, (gssize)text_len);
  g_string_append_c (out, '\n');
}

/* A decimal id >= 1: digits only, no sign, no leading zero, fits 64 bits. */
static gboolean
parse_id (const char *s, gsize len, guint64 *id)
{
  guint64 v = 0;

  if (len == 0 || s[0] == '0')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guint digit;

      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      digit = (guint)(s[i] - '0');
      if (v > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      v = v * 10 + digit;
    }
  *id = v;
  return TRUE;
}

static gboolean
malformed_line (GError **error, const char *reason)
{
  g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, "bad note line: %s", reason);
  return FALSE;
}

gboolean
md_note_parse_wire_line (const char *line, gsize len, MdNoteLine *note, GError **error)
{
  const char *id_end, *time, *time_end, *text;
  g_autoptr (GError) text_error = NULL;

  g_return_val_if_fail (line != NULL || len == 0, FALSE);
  g_return_val_if_fail (note != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len > 0 && line[len - 1] == '\n')
    len--;
  id_end = len > 0 ? memchr (line, '\t', len) : NULL;
  if (id_end == NULL)
    return malformed_line (error, "no tab after the id");
  time = id_end + 1;
  time_end = memchr (time, '\t', (gsize)(line + len - time));
  if (time_end == NULL)
    return malformed_line (error, "no tab after the time");
  text = time_end + 1;
  if (!parse_id (line, (gsize)(id_end - line), &note->id))
    return malformed_line (error, "bad id");
  if (!md_note_parse_time (time, (gsize)(time_end - time), &note->time))
    return malformed_line (error, "bad time");
  note->text = text;
  note->text_len = (gsize)(line + len - text);
  if (!md_note_validate (note->text, note->text_len, &text_error))
    return malformed_line (error, text_error->message);
  return TRUE;
}
