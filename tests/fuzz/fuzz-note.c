/* fuzz-note: the note rules and the wire line parser on arbitrary bytes.
 *
 * What md_note_validate accepts must really be a note (1..1000 bytes of
 * UTF-8, no control character); a valid author is printable ASCII; a wire
 * line that parses must print back to the same bytes; a time that parses
 * must format back to itself. */
#include "config.h"

#include "fuzz-common.h"
#include "md-error.h"
#include "md-note.h"

#include <string.h>

static void
check_validate (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (!md_note_validate (text, len, &error))
    {
      g_assert_error (error, MD_ERROR, MD_ERROR_INVALID_NOTE);
      g_assert_cmpuint (strlen (error->message), >, 0);
      return;
    }
  g_assert_cmpuint (len, >=, 1);
  g_assert_cmpuint (len, <=, MD_NOTE_MAX_BYTES);
  g_assert_true (g_utf8_validate_len (text, len, NULL));
  for (const char *p = text; p < text + len; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_false (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f));
    }
}

static void
check_wire_line (const char *line, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) again = g_string_new (NULL);
  g_autofree char *author = NULL;
  MdNoteLine note;

  if (!md_note_parse_wire_line (line, len, &note, &error))
    {
      g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
      return;
    }
  g_assert_true (note.text >= line && note.text + note.text_len <= line + len);
  g_assert_true (note.author >= line && note.author + note.author_len < note.text);
  g_assert_cmpuint (note.id, >=, 1);
  author = g_strndup (note.author, note.author_len);
  /* What a terminal could act on never passes as an author. */
  for (gsize i = 0; i < note.author_len; i++)
    g_assert_true (g_ascii_isgraph (author[i]));
  md_note_append_wire_line (again, note.id, note.time, author, note.text, note.text_len);
  /* The input may lack the final newline; everything else is canonical. */
  g_assert_cmpuint (again->len, ==, line[len - 1] == '\n' ? len : len + 1);
  g_assert_cmpmem (again->str, again->len - 1, line, again->len - 1);
}

/* A valid author is short and printable ASCII without a space or a tab. */
static void
check_author (const char *s, gsize len)
{
  if (!md_note_author_is_valid (s, len))
    return;
  g_assert_cmpuint (len, >=, 1);
  g_assert_cmpuint (len, <=, MD_NOTE_AUTHOR_MAX_LEN);
  for (gsize i = 0; i < len; i++)
    g_assert_true (g_ascii_isgraph (s[i]));
}

static void
check_time (const char *s, gsize len)
{
  g_autoptr (GString) again = g_string_new (NULL);
  gint64 unix_time;

  if (!md_note_parse_time (s, len, &unix_time))
    return;
  md_note_append_time (again, unix_time);
  g_assert_cmpmem (again->str, again->len, s, len);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A private copy, so reading one byte too far is an ASan report. */
  g_autofree char *copy = g_memdup2 (data, size);
  const char *text = size > 0 ? copy : "";

  md_fuzz_init_logging ();
  check_validate (text, size);
  check_wire_line (text, size);
  check_time (text, size);
  md_note_key_is_valid (text, size);
  check_author (text, size);
  /* The time field alone, as the store and the client see it. */
  if (size >= 20)
    check_time (text + size - 20, 20);
  return 0;
}
