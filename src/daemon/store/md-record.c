#include "config.h"

#include "md-record.h"

#include "md-error.h"

#include <string.h>

/* md_key_parse accepts exactly what md_note_key_is_valid does, so one pass
 * both checks and decodes the key. */
static gboolean
parse_key_field (const char *s, gsize len, MdRecordInfo *info, GError **error)
{
  info->has_key = !(len == 1 && s[0] == '-');
  if (info->has_key && !md_key_parse (s, len, &info->key))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "key is not a UUID or \"-\"");
      return FALSE;
    }
  return TRUE;
}

static const char *
next_field (const char *s, const char *end, gsize *len)
{
  const char *tab = memchr (s, '\t', (gsize)(end - s));

  if (tab == NULL)
    return NULL;
  *len = (gsize)(tab - s);
  return tab + 1;
}

/* After the key: "AUTHOR\tTEXT", or an old record's "TEXT". */
static gboolean
parse_author_and_text (const char *rest, const char *end, MdRecordInfo *info, GError **error)
{
  gsize author_len;
  const char *text = next_field (rest, end, &author_len);

  info->has_author = text != NULL;
  if (!info->has_author)
    return md_note_validate (rest, (gsize)(end - rest), error);
  if (memchr (text, '\t', (gsize)(end - text)) != NULL)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "record has more than 5 fields");
      return FALSE;
    }
  if (!md_note_author_is_valid (rest, author_len))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED,
                           "author is not a key's name or \"@\" and an address");
      return FALSE;
    }
  return md_note_validate (text, (gsize)(end - text), error);
}

/* The precise parser: splits at tabs, then checks each field and words the
 * error for the first bad one. */
static gboolean
parse_record_precise (const char *line, gsize len, guint64 expected, MdRecordInfo *info,
                      GError **error)
{
  const char *end = line + len;
  const char *time_field, *key_field, *rest;
  gsize id_len, time_len, key_len;
  guint64 id;

  time_field = next_field (line, end, &id_len);
  key_field = time_field ? next_field (time_field, end, &time_len) : NULL;
  rest = key_field ? next_field (key_field, end, &key_len) : NULL;
  if (rest == NULL)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "record has fewer than 4 fields");
      return FALSE;
    }
  if (!md_note_parse_id (line, id_len, &id) || id != expected)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   "id %.*s where %" G_GUINT64_FORMAT " was expected", (int)MIN (id_len, 24), line,
                   expected);
      return FALSE;
    }
  /* Only the form matters here; converting would cost time for nothing. */
  if (!md_note_parse_time (time_field, time_len, NULL))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "time is not YYYY-MM-DDTHH:MM:SSZ");
      return FALSE;
    }
  return parse_key_field (key_field, key_len, info, error)
         && parse_author_and_text (rest, end, info, error);
}

/* The id field of a good record: the digits of @expected, then a tab.
 * Returns where the next field starts, or NULL.  Up to 19 digits cannot
 * overflow 64 bits; longer ids are left to md_note_parse_id. */
static const char *
skip_expected_id (const char *s, const char *end, guint64 expected)
{
  guint64 value = 0;
  const char *p = s;

  if (p == end || *p == '0')
    return NULL;
  for (; p < end && p - s < 19; p++)
    {
      guint digit = (guint)(*p - '0');

      if (digit > 9)
        break;
      value = value * 10 + digit;
    }
  return p < end && *p == '\t' && p > s && value == expected ? p + 1 : NULL;
}

/* The key field of a good record at @p, and the tab after it.  Returns where
 * the text starts, or NULL. */
static const char *
skip_key_field (const char *p, const char *end, MdRecordInfo *info)
{
  if (end - p >= 2 && p[0] == '-' && p[1] == '\t')
    info->has_key = FALSE;
  else if (end - p > MD_NOTE_KEY_LEN && p[MD_NOTE_KEY_LEN] == '\t'
           && md_key_parse (p, MD_NOTE_KEY_LEN, &info->key))
    info->has_key = TRUE;
  else
    return NULL;
  return p + md_record_key_field_len (info->has_key) + 1;
}

/* The author field of a good record at @p, and the tab after it, if the
 * record has one: only the first MD_NOTE_AUTHOR_MAX_LEN + 1 bytes can hold
 * that tab, so the search stays short however long the text.  Returns where
 * the text starts, or NULL.  An old record has no tab there; a longer
 * "author" leaves its tab in the text, which the text check refuses. */
static const char *
skip_author_field (const char *p, const char *end, MdRecordInfo *info)
{
  const char *tab = memchr (p, '\t', (gsize)MIN (end - p, MD_NOTE_AUTHOR_MAX_LEN + 1));

  info->has_author = tab != NULL;
  if (!info->has_author)
    return p;
  return md_note_author_is_valid (p, (gsize)(tab - p)) ? tab + 1 : NULL;
}

/* The parser for good records, with a short search for one tab only: the
 * fields before the author are digits or have fixed widths, each field's own
 * check shows that it holds no tab, and the text check that the text holds
 * none, so the fields found here are the ones parse_record_precise would
 * split.  FALSE means "not sure": the precise parser then decides, and words
 * the error. */
static gboolean
parse_record_fast (const char *line, gsize len, guint64 expected, MdRecordInfo *info)
{
  const char *end = line + len;
  const char *p = skip_expected_id (line, end, expected);

  if (p == NULL || end - p < MD_NOTE_TIME_LEN + 3 || p[MD_NOTE_TIME_LEN] != '\t'
      || !md_note_parse_time (p, MD_NOTE_TIME_LEN, NULL))
    return FALSE;
  p = skip_key_field (p + MD_NOTE_TIME_LEN + 1, end, info);
  if (p != NULL)
    p = skip_author_field (p, end, info);
  return p != NULL && md_note_validate (p, (gsize)(end - p), NULL);
}

/* Start-up parses every record, nearly all of them good: the fast path takes
 * those, and only the rest pay for the precise one.  No argument checks: only
 * the store calls this, once per line of the file. */
gboolean
md_record_parse (const char *line, gsize len, guint64 expected, MdRecordInfo *info, GError **error)
{
  return parse_record_fast (line, len, expected, info)
         || parse_record_precise (line, len, expected, info, error);
}

static void
append_lowercase_key (GString *out, const char *key)
{
  for (gsize i = 0; i < MD_NOTE_KEY_LEN; i++)
    g_string_append_c (out, g_ascii_tolower (key[i]));
}

void
md_record_format (GString *out, guint64 id, const char *key, const char *author, const char *text,
                  gsize text_len, gint64 unix_time)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (author != NULL);
  g_return_if_fail (text != NULL || text_len == 0);
  g_return_if_fail (md_note_time_is_valid (unix_time));

  g_string_printf (out, "%" G_GUINT64_FORMAT "\t", id);
  md_note_append_time (out, unix_time);
  g_string_append_c (out, '\t');
  if (key != NULL)
    append_lowercase_key (out, key);
  else
    g_string_append_c (out, '-');
  g_string_append_c (out, '\t');
  g_string_append (out, author);
  g_string_append_c (out, '\t');
  g_string_append_len (out, text, (gssize)text_len);
  g_string_append_c (out, '\n');
}

gboolean
md_record_split_wire (const guint8 *rec, gsize len, gsize wire_len, MdRecordWire *parts,
                      GError **error)
{
  const guint8 *end = rec + len;
  const guint8 *tab1 = memchr (rec, '\t', len);
  const guint8 *tab2 = tab1 ? memchr (tab1 + 1, '\t', (gsize)(end - tab1 - 1)) : NULL;
  const guint8 *tab3 = tab2 ? memchr (tab2 + 1, '\t', (gsize)(end - tab2 - 1)) : NULL;
  gsize without_key = tab3 ? len - (gsize)(tab3 - tab2) : 0;

  if (tab3 == NULL || end[-1] != '\n'
      || (without_key != wire_len && without_key + MD_RECORD_UNKNOWN_AUTHOR_FIELD_LEN != wire_len))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                           "the notes file changed while the daemon was running");
      return FALSE;
    }
  parts->head_len = (gsize)(tab2 + 1 - rec);
  parts->unknown_author = without_key != wire_len;
  parts->tail = tab3 + 1;
  return TRUE;
}
