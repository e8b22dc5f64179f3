/* fuzz-terminal: md_terminal_append_safe() on arbitrary bytes.
 *
 * The first byte chooses the flags (its low two bits), the rest is the text.
 * Whatever the text, the result is valid UTF-8 without a character a
 * terminal acts on (C0 but the kept LF/TAB, DEL, C1, bidi embeddings,
 * overrides and isolates, U+2028/2029); text that holds none of them comes
 * out unchanged; escaping twice is escaping once; and every input byte costs
 * at most six output bytes.  The check is written here again, independently
 * of the code under test. */
#include "config.h"

#include "fuzz-common.h"
#include "md-terminal.h"

#define MAX_GROWTH 6 /* "\uXXXX" for a one-byte character */

static gboolean
acts_on_terminal (gunichar c, MdTerminalFlags flags)
{
  if (c == '\n')
    return !(flags & MD_TERMINAL_KEEP_NEWLINE);
  if (c == '\t')
    return !(flags & MD_TERMINAL_KEEP_TAB);
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
         || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

/* TRUE if @text is valid UTF-8 with nothing a terminal acts on. */
static gboolean
is_safe (const char *text, gsize len, MdTerminalFlags flags)
{
  if (!g_utf8_validate_len (text, len, NULL))
    return FALSE;
  for (const char *p = text; p < text + len; p = g_utf8_next_char (p))
    if (acts_on_terminal (g_utf8_get_char (p), flags))
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MdTerminalFlags flags = size > 0 ? (MdTerminalFlags)(data[0] & 3) : MD_TERMINAL_NONE;
  /* A private copy, so reading one byte too far is an ASan report. */
  g_autofree char *copy = size > 1 ? g_memdup2 (data + 1, size - 1) : NULL;
  const char *text = copy != NULL ? copy : "";
  gsize len = size > 1 ? size - 1 : 0;
  g_autoptr (GString) once = g_string_new (NULL);
  g_autoptr (GString) twice = g_string_new (NULL);
  g_autofree char *dup = NULL;

  md_fuzz_init_logging ();
  md_terminal_append_safe (once, text, len, flags);
  g_assert_true (is_safe (once->str, once->len, flags));
  g_assert_cmpuint (once->len, <=, MAX_GROWTH * len);
  if (is_safe (text, len, flags))
    g_assert_cmpmem (once->str, once->len, text, len);
  md_terminal_append_safe (twice, once->str, once->len, flags);
  g_assert_cmpmem (twice->str, twice->len, once->str, once->len);
  dup = md_terminal_dup_safe (text, (gssize)len, flags);
  g_assert_cmpstr (dup, ==, once->str);
  return 0;
}
