/* The note rules and the note's text forms (md-note.h). */
#include "config.h"

#include "md-error.h"
#include "md-note.h"
#include "md-psk.h"
#include "md-note-simd.h"

#include <string.h>

static void
assert_valid (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_note_validate (text, len, &error));
  g_assert_no_error (error);
}

static void
assert_invalid (const char *text, gsize len, const char *reason)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (md_note_validate (text, len, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_INVALID_NOTE);
  g_assert_cmpstr (error->message, ==, reason);
}

#define VALID(s) assert_valid (s, sizeof (s) - 1)
#define INVALID(s, reason) assert_invalid (s, sizeof (s) - 1, reason)

static void
test_validate_length (void)
{
  g_autofree char *text = g_malloc (MD_NOTE_MAX_BYTES + 2);

  INVALID ("", "note is empty");
  assert_invalid (NULL, 0, "note is empty");
  VALID ("x");
  memset (text, 'a', MD_NOTE_MAX_BYTES + 1);
  assert_valid (text, MD_NOTE_MAX_BYTES);
  assert_invalid (text, MD_NOTE_MAX_BYTES + 1, "note is longer than 1000 bytes");
  /* The limit counts bytes, not characters: 333 three-byte characters fit,
   * 334 do not. */
  for (guint i = 0; i < 334; i++)
    memcpy (text + 3 * i, "中", 3);
  assert_valid (text, 999);
  assert_invalid (text, 1002, "note is longer than 1000 bytes");
}

static void
test_validate_utf8 (void)
{
  VALID ("今天天气很好，我们去公园散步。");
  VALID ("café 😀 ∑");
  VALID ("\xc2\xa0non-breaking space is not a control character");
  INVALID ("\xc0\xaf", "note is not valid UTF-8");         /* overlong '/' */
  INVALID ("\xe0\x80\xaf", "note is not valid UTF-8");     /* overlong, 3 bytes */
  INVALID ("\xed\xa0\x80", "note is not valid UTF-8");     /* surrogate */
  INVALID ("\xf4\x90\x80\x80", "note is not valid UTF-8"); /* past U+10FFFF */
  INVALID ("abc\xff", "note is not valid UTF-8");
  INVALID ("abc\xe4\xb8", "note is not valid UTF-8"); /* truncated 中 */
  /* Cutting a valid note in the middle of a character is invalid too. */
  assert_invalid ("中", 2, "note is not valid UTF-8");
}

static void
test_validate_control (void)
{
  const char *reason = "note contains a control character";

  INVALID ("a\tb", reason);
  INVALID ("line\n", reason);
  INVALID ("a\rb", reason);
  INVALID ("\x1b[31mred", reason);
  INVALID ("a\x7f", reason);    /* DEL */
  INVALID ("\xc2\x85", reason); /* U+0085 NEXT LINE */
  INVALID ("a\xc2\x85z", reason);
  INVALID ("\xc2\x80", reason); /* U+0080 */
  INVALID ("\xc2\x9f", reason); /* U+009F */
  assert_invalid ("a\0b", 3, reason);
  VALID ("\xc2\xa0"); /* U+00A0 is the first one past C1 */
  VALID (" ~");       /* 0x20 and 0x7e are printable */
}

/* ---- md_note_validate against a character-by-character reference -------- */

/* The note rule as GLib sees it, one decoded character at a time: the
 * reference that md_note_validate's byte-level fast path must match. */
static gboolean
reference_is_valid_note (const char *text, gsize len)
{
  const char *end = text + len;

  if (len == 0 || len > MD_NOTE_MAX_BYTES || !g_utf8_validate_len (text, len, NULL))
    return FALSE;
  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return FALSE;
    }
  return TRUE;
}

/* Returns FALSE (and fails the test, showing the bytes) on a disagreement. */
static gboolean
check_against_reference (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  gboolean expected = reference_is_valid_note (text, len);
  gboolean valid = md_note_validate (text, len, &error);
  /* The DFA, which md_note_validate skips where the CPU has SSSE3. */
  gboolean dfa = md_note_dfa_is_printable_utf8 (text, len);
  gboolean length_ok = len >= 1 && len <= MD_NOTE_MAX_BYTES;
  g_autoptr (GString) hex = NULL;

  if (valid == expected && (valid || g_error_matches (error, MD_ERROR, MD_ERROR_INVALID_NOTE))
      && (!length_ok || dfa == expected))
    return TRUE;
  hex = g_string_new (NULL);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x ", (guint8)text[i]);
  g_test_fail_printf ("md_note_validate says %s, the DFA %s, the reference %s, for %zu bytes: %s",
                      valid ? "valid" : "invalid", dfa ? "valid" : "invalid",
                      expected ? "valid" : "invalid", len, hex->str);
  return FALSE;
}

/* Bytes where UTF-8 and the control rule change their mind. */
static const guint8 edge_bytes[] = {
  0x00, 0x09, 0x0a, 0x1f, 0x20, 0x41, 0x7e, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
  0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xe4, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
};

static gboolean
check_bytes (guint8 a, guint8 b, guint8 c, guint8 d, gsize len)
{
  const guint8 s[4] = { a, b, c, d };

  return check_against_reference ((const char *)s, len);
}

/* Every 1-, 2- and 3-byte string whose third byte is an edge byte, and every
 * 4-byte string of edge bytes. */
static void
test_validate_exhaustive_short (void)
{
  for (guint a = 0; a < 256; a++)
    for (guint b = 0; b < 256; b++)
      {
        if (!check_bytes (a, b, 0, 0, 1) || !check_bytes (a, b, 0, 0, 2))
          return;
        for (guint c = 0; c < G_N_ELEMENTS (edge_bytes); c++)
          if (!check_bytes (a, b, edge_bytes[c], 0, 3))
            return;
      }
  for (guint a = 0; a < G_N_ELEMENTS (edge_bytes); a++)
    for (guint b = 0; b < G_N_ELEMENTS (edge_bytes); b++)
      for (guint c = 0; c < G_N_ELEMENTS (edge_bytes); c++)
        for (guint d = 0; d < G_N_ELEMENTS (edge_bytes); d++)
          if (!check_bytes (edge_bytes[a], edge_bytes[b], edge_bytes[c], edge_bytes[d], 4))
            return;
}

/* The fast validator works on blocks of 16 bytes: every 3-byte string of
 * edge bytes, and every 4-byte one, after ASCII prefixes that put it across
 * the end of a block, at the end of the text or before more ASCII. */
static gboolean
check_after_prefix (gsize prefix, const guint8 *bytes, gsize n, gsize suffix)
{
  char s[64];

  memset (s, 'a', prefix);
  memcpy (s + prefix, bytes, n);
  memset (s + prefix + n, 'b', suffix);
  return check_against_reference (s, prefix + n + suffix);
}

static void
test_validate_block_boundaries (void)
{
  static const gsize prefixes[] = { 1, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31, 32 };
  const guint n = G_N_ELEMENTS (edge_bytes);

  for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
    for (guint i = 0; i < n * n * n; i++)
      {
        const guint8 b[3] = { edge_bytes[i / (n * n)], edge_bytes[i / n % n], edge_bytes[i % n] };

        if (!check_after_prefix (prefixes[p], b, 3, 0)
            || !check_after_prefix (prefixes[p], b, 3, 7))
          return;
      }
  for (guint i = 0; i < n * n * n * n; i++)
    {
      const guint8 b[4] = { edge_bytes[i / (n * n * n)], edge_bytes[i / (n * n) % n],
                            edge_bytes[i / n % n], edge_bytes[i % n] };

      if (!check_after_prefix (14, b, 4, 0) || !check_after_prefix (13, b, 4, 20))
        return;
    }
}

/* Code points next to the boundaries of the UTF-8 forms and of the rule. */
static const guint32 edge_code_points[] = {
  0x00,    0x1f,     0x20,     0x7e,     0x7f,     0x80,     0x85,     0x9f,    0xa0,
  0xff,    0x7ff,    0x800,    0xfff,    0x1000,   0xd7ff,   0xd800,   0xdbff,  0xdc00,
  0xdfff,  0xe000,   0xfdd0,   0xfffd,   0xfffe,   0xffff,   0x10000,  0x3ffff, 0x40000,
  0xfffff, 0x100000, 0x10ffff, 0x110000, 0x13ffff, 0x140000, 0x1fffff,
};

/* Encodes @cp in @n_bytes (1-4) UTF-8 bytes, even where that is an overlong,
 * a surrogate or past U+10FFFF: the generator wants invalid forms too. */
static void
append_encoded (GString *out, guint32 cp, guint n_bytes)
{
  static const guint8 lead_marks[] = { 0x00, 0x00, 0xc0, 0xe0, 0xf0 };

  if (n_bytes == 1)
    {
      g_string_append_c (out, (char)(cp & 0x7f));
      return;
    }
  g_string_append_c (out, (char)(lead_marks[n_bytes] | (cp >> (6 * (n_bytes - 1)))));
  for (guint i = n_bytes - 1; i > 0; i--)
    g_string_append_c (out, (char)(0x80 | ((cp >> (6 * (i - 1))) & 0x3f)));
}

static guint
shortest_length (guint32 cp)
{
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* One piece of a random note: mostly well-formed text, sometimes an edge
 * byte, an overlong, a truncated or an out-of-range character. */
static void
append_random_piece (GRand *rand, GString *out)
{
  guint32 cp = edge_code_points[g_rand_int_range (rand, 0, G_N_ELEMENTS (edge_code_points))];
  gsize start = out->len;

  cp += (guint32)g_rand_int_range (rand, -2, 3);
  switch (g_rand_int_range (rand, 0, 8))
    {
      case 0:
        g_string_append_c (out, (char)edge_bytes[g_rand_int_range (rand, 0, sizeof edge_bytes)]);
        break;
      case 1:
        append_encoded (out, cp, MIN (shortest_length (cp) + 1, 4)); /* overlong */
        break;
      case 2:
        append_encoded (out, cp, shortest_length (cp));
        g_string_truncate (out, out->len - 1 + (out->len - start == 1)); /* cut short */
        break;
      case 3:
      case 4:
        for (gint n = g_rand_int_range (rand, 1, 20); n > 0; n--)
          g_string_append_c (out, (char)g_rand_int_range (rand, 0x20, 0x7f));
        break;
      case 5:
        g_string_append (out, "中文");
        break;
      default:
        append_encoded (out, cp & 0x1fffff, shortest_length (cp & 0x1fffff));
        break;
    }
}

/* 100,000 random notes biased towards the edges of the rules, at every
 * length up to past the limit, so that the first half and the second half of
 * the fast path both see every kind of error. */
static void
test_validate_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261124);
  g_autoptr (GString) text = g_string_new (NULL);
  guint n_valid = 0;

  for (guint i = 0; i < 100000; i++)
    {
      gint pieces = g_rand_int_range (rand, 1, 12);

      g_string_truncate (text, 0);
      /* Sometimes a long well-formed run first, up to past the limit. */
      if (g_rand_int_range (rand, 0, 10) == 0)
        for (gint n = g_rand_int_range (rand, 1, 340); n > 0; n--)
          g_string_append (text, g_rand_boolean (rand) ? "ab " : "字");
      for (; pieces > 0; pieces--)
        append_random_piece (rand, text);
      if (!check_against_reference (text->str, text->len))
        return;
      n_valid += reference_is_valid_note (text->str, text->len);
    }
  /* Both answers must be common, or the test proves little. */
  g_assert_cmpuint (n_valid, >, 10000);
  g_assert_cmpuint (n_valid, <, 90000);
}

static void
test_key (void)
{
  static const char *const good[] = {
    "123e4567-e89b-12d3-a456-426614174000",
    "123E4567-E89B-12D3-A456-426614174000",
    "00000000-0000-0000-0000-000000000000",
  };
  static const char *const bad[] = {
    "",
    "-",
    "123e4567-e89b-12d3-a456-42661417400",   /* short */
    "123e4567-e89b-12d3-a456-4266141740000", /* long */
    "123e4567e89b-12d3-a456-426614174000-",  /* hyphen moved */
    "123e4567-e89b-12d3-a456-42661417400g",  /* not hex */
    "{23e4567-e89b-12d3-a456-426614174000",
    "123e4567-e89b-12d3-a456+426614174000",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (md_note_key_is_valid (good[i], strlen (good[i])));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (md_note_key_is_valid (bad[i], strlen (bad[i])));
  /* Only @len bytes count. */
  g_assert_false (md_note_key_is_valid (good[0], 35));
}

/* GDateTime as the reference; its %Y does not pad years before 1000. */
static gchar *
reference_time (gint64 unix_time)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  g_assert_nonnull (dt);
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year (dt),
                          g_date_time_get_month (dt), g_date_time_get_day_of_month (dt),
                          g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
}

static void
check_time (gint64 unix_time, const char *text)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree gchar *expected = reference_time (unix_time);
  gint64 parsed = -1;

  md_note_append_time (out, unix_time);
  g_assert_cmpstr (out->str, ==, text);
  g_assert_cmpstr (out->str, ==, expected);
  g_assert_true (md_note_parse_time (text, strlen (text), &parsed));
  g_assert_cmpint (parsed, ==, unix_time);
}

static void
test_time_known (void)
{
  check_time (0, "1970-01-01T00:00:00Z");
  check_time (951782400, "2000-02-29T00:00:00Z");
  check_time (1795549377, "2026-11-24T19:42:57Z");
  check_time (-1, "1969-12-31T23:59:59Z");
  check_time (-62135596800, "0001-01-01T00:00:00Z");
  check_time (253402300799, "9999-12-31T23:59:59Z");
  check_time (4107542400, "2100-03-01T00:00:00Z");
}

/* Against GDateTime over a spread of times, leap years included. */
static void
test_time_round_trip (void)
{
  for (guint i = 0; i < 5000; i++)
    {
      gint64 t = (gint64)(g_test_rand_double_range (-62135596800.0, 253402300799.0));
      g_autofree gchar *text = reference_time (t);

      check_time (t, text);
    }
}

static void
test_time_reject (void)
{
  static const char *const bad[] = {
    "",
    "2026-11-24T19:42:57",
    "2026-11-24T19:42:57z",
    "2026-11-24 19:42:57Z",
    "2026-11-24T19:42:57.5Z",
    "2026-11-24T19:42:57+00:00",
    "2026-11-24t19:42:57Z",
    "2026-13-01T00:00:00Z",
    "2026-00-01T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-32T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:60:00Z",
    "2026-01-01T00:00:60Z",
    "+026-01-01T00:00:00Z",
    "2026-1-01T00:00:00ZZ",
    "2026-01-01T0a:00:00Z",
    " 2026-01-01T00:00:00Z",
  };
  gint64 t;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (md_note_parse_time (bad[i], strlen (bad[i]), &t));
  g_assert_true (md_note_parse_time ("2024-02-29T12:00:00Z", 20, &t));
  /* Year 0000 (a leap year) is the earliest four-digit year; GDateTime stops at 0001. */
  g_assert_true (md_note_parse_time ("0000-02-29T00:00:00Z", 20, &t));
  g_assert_cmpint (t, ==, -62167219200 + 59 * 86400);
  {
    g_autoptr (GString) out = g_string_new (NULL);

    md_note_append_time (out, -62167219200);
    g_assert_cmpstr (out->str, ==, "0000-01-01T00:00:00Z");
  }
  /* @len is the whole string: a longer buffer is not trimmed. */
  g_assert_false (md_note_parse_time ("2024-02-29T12:00:00Zx", 21, &t));
}

static void
test_wire_line_format (void)
{
  g_autoptr (GString) out = g_string_new ("previous\n");

  md_note_append_wire_line (out, 42, 1795549377, "alice", "买牛奶 milk", strlen ("买牛奶 milk"));
  g_assert_cmpstr (out->str, ==, "previous\n42\t2026-11-24T19:42:57Z\talice\t买牛奶 milk\n");
}

static void
test_wire_line_parse (void)
{
  static const char line[] = "42\t2026-11-24T19:42:57Z\t@192.0.2.1\t买牛奶 milk\n";
  g_autoptr (GError) error = NULL;
  MdNoteLine note;

  g_assert_true (md_note_parse_wire_line (line, sizeof line - 1, &note, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (note.id, ==, 42);
  g_assert_cmpint (note.time, ==, 1795549377);
  g_assert_true (note.author == line + 24);
  g_assert_cmpmem (note.author, note.author_len, "@192.0.2.1", 10);
  g_assert_true (note.text == line + 35);
  g_assert_cmpmem (note.text, note.text_len, "买牛奶 milk", strlen ("买牛奶 milk"));
  /* Without the newline too. */
  g_assert_true (md_note_parse_wire_line (line, sizeof line - 2, &note, &error));
  g_assert_cmpmem (note.text, note.text_len, "买牛奶 milk", strlen ("买牛奶 milk"));
  g_assert_true (md_note_parse_wire_line ("18446744073709551615\t1970-01-01T00:00:00Z\tbob\tx", 47,
                                          &note, &error));
  g_assert_cmpuint (note.id, ==, G_MAXUINT64);
  g_assert_cmpmem (note.author, note.author_len, "bob", 3);
  /* A note stored before authors existed is served with the author "-". */
  g_assert_true (md_note_parse_wire_line ("7\t2026-11-24T19:42:57Z\t-\told", 28, &note, &error));
  g_assert_cmpmem (note.author, note.author_len, "-", 1);
  g_assert_cmpmem (note.text, note.text_len, "old", 3);
}

static void
test_wire_line_round_trip (void)
{
  g_autofree char *text = g_malloc (MD_NOTE_MAX_BYTES);
  g_autofree char *author = g_strnfill (MD_NOTE_AUTHOR_MAX_LEN, 'a');
  g_autoptr (GString) out = g_string_new (NULL);
  MdNoteLine note;

  memset (text, 'z', MD_NOTE_MAX_BYTES);
  md_note_append_wire_line (out, G_MAXUINT64, 253402300799, author, text, MD_NOTE_MAX_BYTES);
  g_assert_cmpuint (out->len, ==, MD_NOTE_MAX_WIRE_LINE);
  g_assert_true (md_note_parse_wire_line (out->str, out->len, &note, NULL));
  g_assert_cmpuint (note.id, ==, G_MAXUINT64);
  g_assert_cmpint (note.time, ==, 253402300799);
  g_assert_cmpmem (note.author, note.author_len, author, MD_NOTE_AUTHOR_MAX_LEN);
  g_assert_cmpmem (note.text, note.text_len, text, MD_NOTE_MAX_BYTES);
}

#define AUTHOR_65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void
test_wire_line_reject (void)
{
  static const char *const bad[] = {
    "",
    "\n",
    "42",
    "42\t2026-11-24T19:42:57Z",
    "42\t2026-11-24T19:42:57Z\tal",
    "42\t2026-11-24T19:42:57Z\tal\t",   /* empty note */
    "42\t2026-11-24T19:42:57Z\tal\t\n", /* empty note */
    "\t2026-11-24T19:42:57Z\tal\tx",    /* no id */
    "0\t2026-11-24T19:42:57Z\tal\tx",   /* ids start at 1 */
    "042\t2026-11-24T19:42:57Z\tal\tx", /* leading zero */
    "+42\t2026-11-24T19:42:57Z\tal\tx",
    "-42\t2026-11-24T19:42:57Z\tal\tx",
    " 42\t2026-11-24T19:42:57Z\tal\tx",
    "4x2\t2026-11-24T19:42:57Z\tal\tx",
    "18446744073709551616\t2026-11-24T19:42:57Z\tal\tx", /* 2^64 */
    "99999999999999999999\t2026-11-24T19:42:57Z\tal\tx",
    "42\t2026-11-24 19:42:57Z\tal\tx",
    "42\t2026-11-24T19:42:57Z\tal\ta\tb",  /* a tab in the text */
    "42\t2026-11-24T19:42:57Z\tal\tx\n\n", /* two newlines */
    "42\t2026-11-24T19:42:57Z\tal\tx\r\n", /* CR */
    "42\t2026-11-24T19:42:57Z\tal\t\xc0\xaf",
    "42\t2026-11-24T19:42:57Z\tal\t\xc2\x85",
    "42\t-\t2026-11-24T19:42:57Z\tal\tx", /* a file line is not a wire line */
    "42\t2026-11-24T19:42:57Z\tx",        /* the line of the previous version */
    "42\t2026-11-24T19:42:57Z\t\tx",      /* empty author */
    "42\t2026-11-24T19:42:57Z\tal ice\tx",
    "42\t2026-11-24T19:42:57Z\t.alice\tx",
    "42\t2026-11-24T19:42:57Z\t-alice\tx",
    "42\t2026-11-24T19:42:57Z\t--\tx",
    "42\t2026-11-24T19:42:57Z\t@\tx",
    "42\t2026-11-24T19:42:57Z\t@fe80::1%eth0\tx",
    "42\t2026-11-24T19:42:57Z\t@192.0.2.1:5683x\tx",
    "42\t2026-11-24T19:42:57Z\t\x1b[31mred\tx",
    "42\t2026-11-24T19:42:57Z\t李\tx",
    "42\t2026-11-24T19:42:57Z\t" AUTHOR_65 "\tx",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      MdNoteLine note;

      if (!md_note_parse_wire_line (bad[i], strlen (bad[i]), &note, &error))
        {
          g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
          continue;
        }
      g_error ("accepted bad wire line %u: \"%s\"", i, bad[i]);
    }
}

/* md_note_author_is_valid() spells md-psk.h's name rules with a table:
 * both must agree, on every string of one and two bytes and on the
 * lengths around the limit. */
static void
test_author_agrees_with_psk (void)
{
  char s[3] = { 0 };

  for (guint a = 1; a < 256; a++)
    {
      s[0] = (char)a;
      s[1] = '\0';
      if (a != '@')
        g_assert_cmpint (md_note_author_is_valid (s, 1), ==, md_psk_name_is_valid (s));
      for (guint b = 1; b < 256; b++)
        {
          s[1] = (char)b;
          if (a != '@')
            g_assert_cmpint (md_note_author_is_valid (s, 2), ==, md_psk_name_is_valid (s));
        }
    }
  for (gsize len = MD_PSK_NAME_MAX - 1; len <= MD_PSK_NAME_MAX + 1; len++)
    {
      g_autofree char *name = g_strnfill (len, 'x');

      g_assert_cmpint (md_note_author_is_valid (name, len), ==, md_psk_name_is_valid (name));
    }
}

static void
test_author_valid (void)
{
  static const char *const good[] = {
    "alice",     "a",
    "Bob_2.x-y", "@127.0.0.1",
    "@::1",      "@2001:db8::1",
    "@?",        "@ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
  };
  static const char *const bad[] = {
    "", "-", ".a", "-a", "a b", "a\tb", "@", "@1.2.3.4 ", "@x", "@??", "ä", AUTHOR_65,
  };
  g_autofree char *longest = g_strnfill (MD_NOTE_AUTHOR_MAX_LEN, 'n');

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (md_note_author_is_valid (good[i], strlen (good[i])));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (md_note_author_is_valid (bad[i], strlen (bad[i])));
  g_assert_true (md_note_author_is_valid (longest, strlen (longest)));
  /* A NUL does not end an author early. */
  g_assert_false (md_note_author_is_valid ("a\0b", 3));
  /* The length is the caller's: a longer buffer is not read past it. */
  g_assert_true (md_note_author_is_valid ("alice\tx", 5));
}

static void
test_wire_line_reason (void)
{
  g_autoptr (GError) error = NULL;
  MdNoteLine note;

  g_assert_false (
      md_note_parse_wire_line ("1\t2026-11-24T19:42:57Z\tal\ta\x7f", 28, &note, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "note contains a control character"));
}

static void
test_time_valid (void)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 t;

  g_assert_true (md_note_time_is_valid (G_GINT64_CONSTANT (-62167219200)));
  g_assert_false (md_note_time_is_valid (G_GINT64_CONSTANT (-62167219201)));
  g_assert_true (md_note_time_is_valid (G_GINT64_CONSTANT (253402300799)));
  g_assert_false (md_note_time_is_valid (G_GINT64_CONSTANT (253402300800)));
  g_assert_false (md_note_time_is_valid (G_GINT64_CONSTANT (-100000000000)));
  md_note_append_time (out, G_GINT64_CONSTANT (253402300799));
  g_assert_cmpuint (out->len, ==, MD_NOTE_TIME_LEN);
  g_assert_true (md_note_parse_time (out->str, out->len, &t));
  g_assert_cmpint (t, ==, G_GINT64_CONSTANT (253402300799));
}

static void
test_parse_id (void)
{
  guint64 id = 0;

  g_assert_true (md_note_parse_id ("1", 1, &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (md_note_parse_id ("18446744073709551615", 20, &id));
  g_assert_cmpuint (id, ==, G_MAXUINT64);
  g_assert_false (md_note_parse_id ("18446744073709551616", 20, &id));
  g_assert_false (md_note_parse_id ("0", 1, &id));
  g_assert_false (md_note_parse_id ("01", 2, &id));
  g_assert_false (md_note_parse_id ("", 0, &id));
  g_assert_false (md_note_parse_id ("+1", 2, &id));
  g_assert_false (md_note_parse_id ("1a", 2, &id));
  g_assert_false (md_note_parse_id ("123456789012345678901", 21, &id));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/note/validate/length", test_validate_length);
  g_test_add_func ("/note/validate/utf8", test_validate_utf8);
  g_test_add_func ("/note/validate/control", test_validate_control);
  g_test_add_func ("/note/validate/exhaustive-short", test_validate_exhaustive_short);
  g_test_add_func ("/note/validate/random", test_validate_random);
  g_test_add_func ("/note/validate/block-boundaries", test_validate_block_boundaries);
  g_test_add_func ("/note/key", test_key);
  g_test_add_func ("/note/time/known", test_time_known);
  g_test_add_func ("/note/time/round-trip", test_time_round_trip);
  g_test_add_func ("/note/time/reject", test_time_reject);
  g_test_add_func ("/note/time/valid", test_time_valid);
  g_test_add_func ("/note/id/parse", test_parse_id);
  g_test_add_func ("/note/wire-line/format", test_wire_line_format);
  g_test_add_func ("/note/wire-line/parse", test_wire_line_parse);
  g_test_add_func ("/note/wire-line/round-trip", test_wire_line_round_trip);
  g_test_add_func ("/note/wire-line/reject", test_wire_line_reject);
  g_test_add_func ("/note/wire-line/reason", test_wire_line_reason);
  g_test_add_func ("/note/author/valid", test_author_valid);
  g_test_add_func ("/note/author/agrees-with-psk", test_author_agrees_with_psk);

  return g_test_run ();
}
