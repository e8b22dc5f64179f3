#include "config.h"

#include "md-terminal.h"

#include <string.h>

static gboolean
acts_on_terminal (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
         || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

static gboolean
passes (gunichar c, MdTerminalFlags flags)
{
  if (c == '\n')
    return (flags & MD_TERMINAL_KEEP_NEWLINE) != 0;
  if (c == '\t')
    return (flags & MD_TERMINAL_KEEP_TAB) != 0;
  return !acts_on_terminal (c);
}

/* The character at @p, if valid UTF-8 starts there, and its length in *@n
 * (else 1: the byte is escaped alone). */
static gboolean
decode (const char *p, const char *end, gunichar *c, gsize *n)
{
  guchar byte = (guchar)*p;

  *n = 1;
  if (byte < 0x80)
    {
      *c = byte;
      return TRUE;
    }
  if ((gsize)g_utf8_skip[byte] > (gsize)(end - p)
      || !g_utf8_validate_len (p, g_utf8_skip[byte], NULL))
    return FALSE;
  *n = g_utf8_skip[byte];
  *c = g_utf8_get_char (p);
  return TRUE;
}

void
md_terminal_append_safe (GString *out, const char *bytes, gsize len, MdTerminalFlags flags)
{
  const char *end = bytes + len;
  const char *run = bytes; /* the start of the bytes that pass */
  const char *p = bytes;

  g_return_if_fail (out != NULL);
  g_return_if_fail (bytes != NULL || len == 0);

  while (p < end)
    {
      gunichar c = 0;
      gsize n;
      gboolean valid = decode (p, end, &c, &n);

      if (valid && passes (c, flags))
        {
          p += n;
          continue;
        }
      g_string_append_len (out, run, p - run);
      if (valid)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_printf (out, "\\x%02x", (guchar)*p);
      p += n;
      run = p;
    }
  g_string_append_len (out, run, p - run);
}

char *
md_terminal_dup_safe (const char *bytes, gssize len, MdTerminalFlags flags)
{
  GString *out;

  g_return_val_if_fail (bytes != NULL || len == 0, NULL);

  if (len < 0)
    len = (gssize)strlen (bytes);
  out = g_string_sized_new ((gsize)len);
  md_terminal_append_safe (out, bytes, (gsize)len, flags);
  return g_string_free (out, FALSE);
}
