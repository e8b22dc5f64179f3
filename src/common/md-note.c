#include "config.h"

#include "md-note.h"

#include "md-error.h"
#include "md-note-simd.h"
#include "md-psk.h"

#include <string.h>

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
 * DEL) or 0xC2 followed by 0x80-0x9F (C1).  Only the error path uses this:
 * it names the first rule a bad note breaks, as GLib's validator sees it. */
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

static const char *
describe_bad_text (const char *text, gsize len)
{
  const char *end;

  if (!g_utf8_validate_len (text, len, &end))
    {
      /* GLib stops at a NUL too, which is a control character, not bad UTF-8. */
      if (*end == '\0')
        return "note contains a control character";
      return "note is not valid UTF-8";
    }
  if (contains_control (text, len))
    return "note contains a control character";
  /* Unreachable while is_printable_utf8 agrees with GLib (a unit test checks
   * that); refusing is the safe answer if it ever does not. */
  return "note is not valid UTF-8";
}

/* The note rule as a DFA over bytes: valid UTF-8 without control
 * characters.  A state says what the next byte may be.  The AFTER_* states
 * hold the UTF-8 rules beyond "continuation bytes are 0x80-0xBF": after 0xE0
 * and 0xF0 they exclude overlongs, after 0xED surrogates, after 0xF4 code
 * points above U+10FFFF, and after 0xC2 the C1 controls (U+0080-U+009F). */
enum
{
  DFA_ACCEPT, /* at a character boundary */
  DFA_NEED1,  /* 1, 2 or 3 more continuation bytes 0x80-0xBF */
  DFA_NEED2,
  DFA_NEED3,
  DFA_AFTER_C2,
  DFA_AFTER_E0,
  DFA_AFTER_ED,
  DFA_AFTER_F0,
  DFA_AFTER_F4,
  DFA_ERROR, /* absorbing */
  DFA_N_STATES
};

/* Each state's allowed byte range and the state that follows it. */
typedef struct
{
  guint8 lo;
  guint8 hi;
  guint8 next;
} MdDfaRange;

static const MdDfaRange dfa_continuations[DFA_N_STATES] = {
  [DFA_NEED1] = { 0x80, 0xbf, DFA_ACCEPT },   [DFA_NEED2] = { 0x80, 0xbf, DFA_NEED1 },
  [DFA_NEED3] = { 0x80, 0xbf, DFA_NEED2 },    [DFA_AFTER_C2] = { 0xa0, 0xbf, DFA_ACCEPT },
  [DFA_AFTER_E0] = { 0xa0, 0xbf, DFA_NEED1 }, [DFA_AFTER_ED] = { 0x80, 0x9f, DFA_NEED1 },
  [DFA_AFTER_F0] = { 0x90, 0xbf, DFA_NEED2 }, [DFA_AFTER_F4] = { 0x80, 0x8f, DFA_NEED2 },
};

/* The state after byte @b at a character boundary. */
static guint
dfa_after_first_byte (guint b)
{
  if (b >= 0x20 && b <= 0x7e)
    return DFA_ACCEPT;
  if (b == 0xc2)
    return DFA_AFTER_C2;
  if (b >= 0xc3 && b <= 0xdf)
    return DFA_NEED1;
  if (b == 0xe0)
    return DFA_AFTER_E0;
  if (b == 0xed)
    return DFA_AFTER_ED;
  if (b >= 0xe1 && b <= 0xef)
    return DFA_NEED2;
  if (b == 0xf0)
    return DFA_AFTER_F0;
  if (b == 0xf4)
    return DFA_AFTER_F4;
  if (b >= 0xf1 && b <= 0xf3)
    return DFA_NEED3;
  return DFA_ERROR; /* C0, DEL, lone continuation, 0xC0/0xC1, 0xF5-0xFF */
}

static guint
dfa_next (guint state, guint b)
{
  const MdDfaRange *range = &dfa_continuations[state];

  if (state == DFA_ACCEPT)
    return dfa_after_first_byte (b);
  if (state == DFA_ERROR || b < range->lo || b > range->hi)
    return DFA_ERROR;
  return range->next;
}

/* A "shift DFA": row b holds, at bit 6 * S, six times the state after byte b
 * in state S.  A state is kept as its bit offset, so one step is a load and a
 * shift (x86 shifts mask the count to 6 bits themselves), with no branch on
 * the data: mixed-script notes make any branch on the byte class mispredict
 * often.  The bits above the low six are left-overs, ignored. */
#define DFA_BITS 6
static guint64 dfa_rows[256];

static void
dfa_init_rows (void)
{
  for (guint b = 0; b < 256; b++)
    for (guint state = 0; state < DFA_N_STATES; state++)
      dfa_rows[b] |= (guint64)(dfa_next (state, b) * DFA_BITS) << (state * DFA_BITS);
}

static inline guint64
dfa_step (guint64 offset, guchar b)
{
  return dfa_rows[b] >> (offset & 63);
}

static inline guint64
dfa_run (guint64 offset, const guchar *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    offset = dfa_step (offset, s[i]);
  return offset;
}

/* One DFA step waits for the one before, so two halves run interleaved to
 * keep the CPU busy.  The split goes to the next byte that is not a
 * continuation byte: in valid text a character starts there, and two valid
 * halves always make a valid whole. */
static gboolean
dfa_accepts_halves (const guchar *s, gsize len)
{
  gsize split = len / 2, common;
  guint64 first = DFA_ACCEPT * DFA_BITS, second = DFA_ACCEPT * DFA_BITS;

  while (split < len && (s[split] & 0xc0) == 0x80)
    split++;
  common = MIN (split, len - split);
  for (gsize i = 0; i < common; i++)
    {
      first = dfa_step (first, s[i]);
      second = dfa_step (second, s[split + i]);
    }
  first = dfa_run (first, s + common, split - common);
  second = dfa_run (second, s + split + common, len - split - common);
  return (first & 63) == DFA_ACCEPT * DFA_BITS && (second & 63) == DFA_ACCEPT * DFA_BITS;
}

static gsize dfa_rows_ready = 0;

static void
dfa_ensure_rows (void)
{
  if (g_once_init_enter (&dfa_rows_ready))
    {
      dfa_init_rows ();
      g_once_init_leave (&dfa_rows_ready, 1);
    }
}

gboolean
md_note_dfa_is_printable_utf8 (const char *text, gsize len)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);

  dfa_ensure_rows ();
  return dfa_accepts_halves ((const guchar *)text, len);
}

/* The store checks every note at start-up, so this runs over the whole
 * file: with SSSE3 16 bytes at a time, else through the DFA. */
static gboolean
is_printable_utf8 (const char *text, gsize len)
{
  static gsize ready = 0;
  static gboolean use_simd;

  if (g_once_init_enter (&ready))
    {
      dfa_ensure_rows ();
      use_simd = md_note_simd_available ();
      g_once_init_leave (&ready, 1);
    }
  if (use_simd)
    return md_note_simd_is_printable_utf8 (text, len);
  return dfa_accepts_halves ((const guchar *)text, len);
}

gboolean
md_note_validate (const char *text, gsize len, GError **error)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    return invalid_note (error, "note is empty");
  if (len > MD_NOTE_MAX_BYTES)
    return invalid_note (error, "note is longer than 1000 bytes");
  if (G_UNLIKELY (!is_printable_utf8 (text, len)))
    return invalid_note (error, describe_bad_text (text, len));
  return TRUE;
}

/* The characters an author may hold, as bits: a PSK name's (md-psk.h:
 * letters, digits, '.', '_', '-') and an address's (inet_ntop's text of an
 * IPv4 or IPv6 address, without a scope, which the transport never gives).
 * Start-up checks the author of every record, so the check is one pass over
 * a table rather than md_psk_name_is_valid() on a copy; a unit test holds
 * the two to the same answers. */
enum
{
  AUTHOR_NAME_CHAR = 1 << 0,
  AUTHOR_ADDRESS_CHAR = 1 << 1,
};

/* A name is an author as it is. */
G_STATIC_ASSERT (MD_PSK_NAME_MAX <= MD_NOTE_AUTHOR_MAX_LEN);

static guint8 author_chars[256];
static gsize author_chars_ready = 0;

static void
author_chars_ensure (void)
{
  if (!g_once_init_enter (&author_chars_ready))
    return;
  for (guint c = 0; c < 256; c++)
    {
      if (g_ascii_isalnum ((gchar)c) || c == '.' || c == '_' || c == '-')
        author_chars[c] |= AUTHOR_NAME_CHAR;
      if (g_ascii_isxdigit ((gchar)c) || c == '.' || c == ':')
        author_chars[c] |= AUTHOR_ADDRESS_CHAR;
    }
  g_once_init_leave (&author_chars_ready, 1);
}

/* The classes every byte of @s belongs to. */
static guint
author_classes (const char *s, gsize len)
{
  guint classes = AUTHOR_NAME_CHAR | AUTHOR_ADDRESS_CHAR;

  for (gsize i = 0; i < len; i++)
    classes &= author_chars[(guchar)s[i]];
  return classes;
}

gboolean
md_note_author_is_valid (const char *author, gsize len)
{
  g_return_val_if_fail (author != NULL || len == 0, FALSE);

  author_chars_ensure ();
  if (len == 0 || len > MD_NOTE_AUTHOR_MAX_LEN)
    return FALSE;
  if (author[0] == '@')
    /* "@?" is md-author.c's word for an address without a text form. */
    return len > 1
           && ((author_classes (author + 1, len - 1) & AUTHOR_ADDRESS_CHAR)
               || (len == 2 && author[1] == '?'));
  /* Never an option or a hidden file's name, as md-psk.h says. */
  return author[0] != '.' && author[0] != '-' && len <= MD_PSK_NAME_MAX
         && (author_classes (author, len) & AUTHOR_NAME_CHAR);
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

gboolean
md_note_time_is_valid (gint64 unix_time)
{
  return unix_time >= MIN_TIME && unix_time <= MAX_TIME;
}

void
md_note_append_time (GString *out, gint64 unix_time)
{
  gint64 days, seconds, year;
  guint month, day;

  g_return_if_fail (out != NULL);
  g_return_if_fail (md_note_time_is_valid (unix_time));

  days = floor_div (unix_time, SECONDS_PER_DAY);
  seconds = unix_time - days * SECONDS_PER_DAY;
  civil_from_days (days, &year, &month, &day);
  g_string_append_printf (out, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)year, month, day,
                          (int)(seconds / 3600), (int)(seconds / 60 % 60), (int)(seconds % 60));
}

/* Where the 14 digits of "YYYY-MM-DDTHH:MM:SSZ" sit. */
static const guint8 time_digit_positions[14] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };

/* Reads the digits of a time whose separators are checked.  All fourteen are
 * checked before any branch: the store parses one time per note at start-up,
 * and a branch per digit would cost more than the arithmetic. */
static gboolean
parse_time_digits (const char *s, guint d[14])
{
  gboolean all_digits = TRUE;

#pragma GCC unroll 14
  for (guint i = 0; i < 14; i++)
    {
      d[i] = (guint)(guchar)s[time_digit_positions[i]] - '0'; /* wraps if below '0' */
      all_digits &= d[i] <= 9;
    }
  return all_digits;
}

gboolean
md_note_parse_time (const char *s, gsize len, gint64 *unix_time)
{
  guint d[14], year, month, day, hour, minute, second;

  g_return_val_if_fail (s != NULL || len == 0, FALSE);

  if (len != MD_NOTE_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
      || s[16] != ':' || s[19] != 'Z' || !parse_time_digits (s, d))
    return FALSE;
  year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
  month = d[4] * 10 + d[5];
  day = d[6] * 10 + d[7];
  hour = d[8] * 10 + d[9];
  minute = d[10] * 10 + d[11];
  second = d[12] * 10 + d[13];
  if (month < 1 || month > 12 || day < 1 || day > days_in_month (year, month) || hour > 23
      || minute > 59 || second > 59)
    return FALSE;
  if (unix_time != NULL)
    *unix_time
        = days_from_civil (year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
  return TRUE;
}

void
md_note_append_wire_line (GString *out, guint64 id, gint64 unix_time, const char *author,
                          const char *text, gsize text_len)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (author != NULL);
  g_return_if_fail (text != NULL || text_len == 0);

  g_string_append_printf (out, "%" G_GUINT64_FORMAT "\t", id);
  md_note_append_time (out, unix_time);
  g_string_append_c (out, '\t');
  g_string_append (out, author);
  g_string_append_c (out, '\t');
  g_string_append_len (out, text, (gssize)text_len);
  g_string_append_c (out, '\n');
}

gboolean
md_note_parse_id (const char *s, gsize len, guint64 *id)
{
  guint64 v = 0;

  g_return_val_if_fail (s != NULL || len == 0, FALSE);

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
  const char *id_end, *time, *time_end, *author, *author_end, *text;
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
  author = time_end + 1;
  author_end = memchr (author, '\t', (gsize)(line + len - author));
  if (author_end == NULL)
    return malformed_line (error, "no tab after the author");
  text = author_end + 1;
  if (!md_note_parse_id (line, (gsize)(id_end - line), &note->id))
    return malformed_line (error, "bad id");
  if (!md_note_parse_time (time, (gsize)(time_end - time), &note->time))
    return malformed_line (error, "bad time");
  note->author = author;
  note->author_len = (gsize)(author_end - author);
  if (!md_note_author_is_valid (note->author, note->author_len)
      && !(note->author_len == 1 && author[0] == MD_NOTE_AUTHOR_UNKNOWN[0]))
    return malformed_line (error, "bad author");
  note->text = text;
  note->text_len = (gsize)(line + len - text);
  if (!md_note_validate (note->text, note->text_len, &text_error))
    return malformed_line (error, text_error->message);
  return TRUE;
}
