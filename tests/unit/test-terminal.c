/* md_terminal_append_safe(): what passes, what is escaped and how. */
#include "config.h"

#include "md-terminal.h"

#include <string.h>

typedef struct
{
  const char *name;
  const char *in;
  gsize in_len; /* 0: strlen (in) */
  MdTerminalFlags flags;
  const char *out;
} Case;

static const Case cases[] = {
  /* Ordinary text prints as it is. */
  { "ascii", "printer toner is in the cupboard", 0, 0, "printer toner is in the cupboard" },
  { "chinese", "今天学习了 UDP 和 CoAP", 0, 0, "今天学习了 UDP 和 CoAP" },
  { "backslash", "C:\\notes \\x1b \\u202e", 0, 0, "C:\\notes \\x1b \\u202e" },
  { "emoji-zwj", "👩\u200d💻 café", 0, 0, "👩\u200d💻 café" },
  { "bidi-marks", "\u200e\u200f\u061c\u05e9\u05dc\u05d5\u05dd", 0, 0,
    "\u200e\u200f\u061c\u05e9\u05dc\u05d5\u05dd" },
  { "empty", "", 0, 0, "" },
  /* C0 and DEL. */
  { "osc-title", "\033]0;pwned\007", 0, 0, "\\u001b]0;pwned\\u0007" },
  { "csi-clear", "\033[2Jgone", 0, 0, "\\u001b[2Jgone" },
  { "osc52", "\033]52;c;cm0gLXJmIH4=\033\\", 0, 0, "\\u001b]52;c;cm0gLXJmIH4=\\u001b\\" },
  { "cr", "safe\rfake", 0, 0, "safe\\u000dfake" },
  { "del", "a\177b", 0, 0, "a\\u007fb" },
  { "nul", "a\0b", 3, 0, "a\\u0000b" },
  /* LF and TAB only where the caller asks. */
  { "lf", "a\nb\tc", 0, 0, "a\\u000ab\\u0009c" },
  { "lf-kept", "a\nb\tc", 0, MD_TERMINAL_KEEP_NEWLINE, "a\nb\\u0009c" },
  { "tab-kept", "a\nb\tc", 0, MD_TERMINAL_KEEP_TAB, "a\\u000ab\tc" },
  { "both-kept", "a\nb\tc\r", 0, MD_TERMINAL_KEEP_NEWLINE | MD_TERMINAL_KEEP_TAB,
    "a\nb\tc\\u000d" },
  /* C1, as UTF-8 characters. */
  { "c1-csi", "\302\2332J", 0, 0, "\\u009b2J" },
  { "c1-range", "\302\200\302\205\302\237\302\240", 0, 0, "\\u0080\\u0085\\u009f\302\240" },
  /* Bytes that are not UTF-8, one escape each. */
  { "raw-csi", "\2332J", 0, 0, "\\x9b2J" },
  { "latin1", "caf\351", 0, 0, "caf\\xe9" },
  { "truncated", "ok\344\275", 0, 0, "ok\\xe4\\xbd" },
  { "truncated-then-ascii", "\344\275A", 0, 0, "\\xe4\\xbdA" },
  { "overlong", "\300\257", 0, 0, "\\xc0\\xaf" },
  { "surrogate", "\355\240\200", 0, 0, "\\xed\\xa0\\x80" },
  { "above-10ffff", "\364\220\200\200", 0, 0, "\\xf4\\x90\\x80\\x80" },
  { "five-byte", "\370\210\200\200\200", 0, 0, "\\xf8\\x88\\x80\\x80\\x80" },
  { "ff", "\377", 0, 0, "\\xff" },
  { "valid-after-invalid", "\200你", 0, 0, "\\x80你" },
  /* Bidi embeddings, overrides and isolates; line and paragraph separators. */
  { "rlo", "invoice \u202egpj.exe", 0, 0, "invoice \\u202egpj.exe" },
  { "bidi-all", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", 0, 0,
    "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069" },
  { "bidi-neighbours", "\u2029\u202f\u2065\u206a", 0, MD_TERMINAL_KEEP_NEWLINE,
    "\\u2029\u202f\u2065\u206a" },
  { "separators", "one\u2028two", 0, 0, "one\\u2028two" },
};

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  gsize len = c->in_len != 0 ? c->in_len : strlen (c->in);
  g_autoptr (GString) out = g_string_new ("prefix:");

  md_terminal_append_safe (out, c->in, len, c->flags);
  g_assert_true (g_str_has_prefix (out->str, "prefix:"));
  g_assert_cmpstr (out->str + strlen ("prefix:"), ==, c->out);
  g_assert_cmpuint (out->len, ==, strlen (out->str));
}

/* Safe text stays as it is, so escaping twice is escaping once. */
static void
test_idempotent (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      gsize len = c->in_len != 0 ? c->in_len : strlen (c->in);
      g_autofree char *once = md_terminal_dup_safe (c->in, (gssize)len, c->flags);
      g_autofree char *twice = md_terminal_dup_safe (once, -1, c->flags);

      g_assert_cmpstr (twice, ==, once);
      g_assert_true (g_utf8_validate (once, -1, NULL));
    }
}

static void
test_dup (void)
{
  g_autofree char *whole = md_terminal_dup_safe ("a\033b", -1, MD_TERMINAL_NONE);
  g_autofree char *part = md_terminal_dup_safe ("a\033b", 1, MD_TERMINAL_NONE);
  g_autofree char *none = md_terminal_dup_safe (NULL, 0, MD_TERMINAL_NONE);

  g_assert_cmpstr (whole, ==, "a\\u001bb");
  g_assert_cmpstr (part, ==, "a");
  g_assert_cmpstr (none, ==, "");
}

/* Every byte value alone: the output is printable UTF-8 without controls. */
static void
test_every_byte (void)
{
  for (guint b = 0; b < 256; b++)
    {
      char in = (char)b;
      g_autofree char *out = md_terminal_dup_safe (&in, 1, MD_TERMINAL_NONE);

      g_assert_true (g_utf8_validate (out, -1, NULL));
      for (const char *p = out; *p != '\0'; p++)
        g_assert_true ((guchar)*p >= 0x20 && (guchar)*p < 0x7f);
      if (b >= 0x20 && b < 0x7f)
        g_assert_cmpuint (strlen (out), ==, 1);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/terminal/safe/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/terminal/idempotent", test_idempotent);
  g_test_add_func ("/terminal/dup", test_dup);
  g_test_add_func ("/terminal/every-byte", test_every_byte);
  return g_test_run ();
}
