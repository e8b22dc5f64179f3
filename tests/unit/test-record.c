#include "config.h"

#include "md-error.h"
#include "md-record.h"

#include <string.h>

/* 2026-11-24T19:42:57Z */
#define T0 G_GINT64_CONSTANT (1795549377)

static void
parse_ok (const char *line, guint64 expected, MdRecordInfo *info)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_record_parse (line, strlen (line), expected, info, &error));
  g_assert_no_error (error);
}

static void
test_parse_good (void)
{
  MdRecordInfo info;

  parse_ok ("1\t2026-11-24T19:43:57Z\t-\t@127.0.0.1\tfirst note", 1, &info);
  g_assert_false (info.has_key);
  g_assert_true (info.has_author);
  g_assert_cmpuint (md_record_key_field_len (info.has_key), ==, 1);

  /* A record from before authors: four fields, read as it is. */
  parse_ok ("1\t2026-11-24T19:43:57Z\t-\told note", 1, &info);
  g_assert_false (info.has_key);
  g_assert_false (info.has_author);
  parse_ok ("3\t2026-11-24T19:43:57Z\t0F1E2D3C-4B5A-6978-8796-a5b4c3d2e1f0\told keyed", 3, &info);
  g_assert_true (info.has_key);
  g_assert_false (info.has_author);

  parse_ok ("42\t2026-11-24T19:43:57Z\t0F1E2D3C-4B5A-6978-8796-a5b4c3d2e1f0\talice\t今天 🙂",
            42, &info);
  g_assert_true (info.has_key);
  g_assert_true (info.has_author);
  g_assert_cmpuint (md_record_key_field_len (info.has_key), ==, MD_NOTE_KEY_LEN);
  g_assert_cmphex (info.key.hi, ==, G_GUINT64_CONSTANT (0x0f1e2d3c4b5a6978));
  g_assert_cmphex (info.key.lo, ==, G_GUINT64_CONSTANT (0x8796a5b4c3d2e1f0));

  /* A text that looks like an empty key field is still text. */
  parse_ok ("7\t2026-11-24T19:43:57Z\t-\t-", 7, &info);
  g_assert_false (info.has_author);
  /* The longest author, whose tab is the last the fast path looks at; and
   * an old text longer than that search. */
  parse_ok ("8\t2026-11-24T19:43:57Z\t-\t"
            "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\tx",
            8, &info);
  g_assert_true (info.has_author);
  parse_ok ("9\t2026-11-24T19:43:57Z\t-\t"
            "an old note that is rather longer than any author could ever be, seventy bytes",
            9, &info);
  g_assert_false (info.has_author);
}

/* Past 19 digits the fast path leaves the id to the precise parser: both
 * must agree on what is a good record. */
static void
test_parse_long_ids (void)
{
  MdRecordInfo info;
  g_autoptr (GError) error = NULL;
  const char *max = "18446744073709551615\t2026-11-24T19:43:57Z\t-\tlast id";
  const char *over = "18446744073709551616\t2026-11-24T19:43:57Z\t-\tpast it";

  parse_ok ("1234567890123456789\t2026-11-24T19:43:57Z\t-\t19 digits",
            G_GUINT64_CONSTANT (1234567890123456789), &info);
  parse_ok (max, G_MAXUINT64, &info);
  g_assert_false (md_record_parse (over, strlen (over), G_MAXUINT64, &info, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
}

static const struct
{
  const char *line;
  const char *reason;
} bad_records[] = {
  { "2\t2026-11-24T19:43:57Z\t-", "fields" },
  { "3\t2026-11-24T19:43:57Z\t-\tskips an id", "id 3 where 2" },
  { "02\t2026-11-24T19:43:57Z\t-\tleading zero", "id 02" },
  { "2\t2026-11-24 19:43:57Z\t-\tbad time", "time" },
  { "2\t2026-02-30T19:43:57Z\t-\tno such day", "time" },
  { "2\t2026-11-24T19:43:57Z\tnot-a-key\tbad key", "key" },
  { "2\t2026-11-24T19:43:57Z\t-\t", "empty" },
  { "2\t2026-11-24T19:43:57Z\t-\tal\ttab\tin the text", "more than 5 fields" },
  { "2\t2026-11-24T19:43:57Z\t-\tal ice\ttext", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t\ttext", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t@\ttext", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t-\ttext", "author" }, /* served, never stored */
  { "2\t2026-11-24T19:43:57Z\t-\t\x1b]0;x\ttext", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ttext",
    "author" },
  { "2\t2026-11-24T19:43:57Z\t-\talice\t", "empty" },
  { "2\t2026-11-24T19:43:57Z\t-\talice\tbad \x01", "control" },
  { "2\t2026-11-24T19:43:57Z\t-\tbad \xff utf-8", "UTF-8" },
  { "", "fields" },
  { "2\t2026-11-24T19:43:57Z\t-no tab before the text", "fields" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-426614174000text", "fields" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-42661417400\ttext", "key" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-42661417400g\ttext", "key" },
  { "2\t2026-11-24T19:43:57Z \t-\ttime too long", "time" },
  { "2\t\t-\tno time", "time" },
};

static void
test_parse_bad (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_records); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *line = bad_records[i].line;
      MdRecordInfo info;

      g_test_message ("bad record %" G_GSIZE_FORMAT ": %s", i, line);
      g_assert_false (md_record_parse (line, strlen (line), 2, &info, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == MD_ERROR);
      g_assert_nonnull (strstr (error->message, bad_records[i].reason));
    }
}

static void
test_format (void)
{
  g_autoptr (GString) out = g_string_new ("replaced");
  MdRecordInfo info;

  md_record_format (out, 12, "ABCDEF01-2345-4678-89AB-CDEF01234567", "alice", "hi", 2, T0);
  g_assert_cmpstr (out->str, ==,
                   "12\t2026-11-24T19:42:57Z\tabcdef01-2345-4678-89ab-cdef01234567\talice\thi\n");
  g_assert_true (md_record_parse (out->str, out->len - 1, 12, &info, NULL));
  g_assert_cmpuint (md_record_wire_len (out->len, info.has_key, info.has_author), ==,
                    strlen ("12\t2026-11-24T19:42:57Z\talice\thi\n"));

  md_record_format (out, 1, NULL, "@::1", "二三", strlen ("二三"), T0);
  g_assert_cmpstr (out->str, ==, "1\t2026-11-24T19:42:57Z\t-\t@::1\t二三\n");

  /* An old record's wire line gains "-\t" where its key was. */
  g_assert_cmpuint (md_record_wire_len (strlen ("1\t2026-11-24T19:42:57Z\t-\thi\n"), FALSE, FALSE),
                    ==, strlen ("1\t2026-11-24T19:42:57Z\t-\thi\n"));
}

/* Splits @rec as the store does and checks that its parts make @wire. */
static void
split_ok (const char *rec, const char *wire)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) joined = g_string_new (NULL);
  MdRecordWire parts;

  g_assert_true (
      md_record_split_wire ((const guint8 *)rec, strlen (rec), strlen (wire), &parts, &error));
  g_assert_no_error (error);
  g_string_append_len (joined, rec, (gssize)parts.head_len);
  if (parts.unknown_author)
    g_string_append (joined, MD_RECORD_UNKNOWN_AUTHOR_FIELD);
  g_string_append (joined, (const char *)parts.tail);
  g_assert_cmpstr (joined->str, ==, wire);
}

static void
split_fails (const char *rec, gsize wire_len)
{
  g_autoptr (GError) error = NULL;
  MdRecordWire parts;

  g_assert_false (
      md_record_split_wire ((const guint8 *)rec, strlen (rec), wire_len, &parts, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
}

static void
test_split_wire (void)
{
  const char *keyed = "3\t2026-11-24T19:42:57Z\taaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\tbob\ttext\n";
  gsize keyed_wire = strlen ("3\t2026-11-24T19:42:57Z\tbob\ttext\n");

  split_ok ("1\t2026-11-24T19:42:57Z\t-\t@::1\tone\n", "1\t2026-11-24T19:42:57Z\t@::1\tone\n");
  split_ok (keyed, "3\t2026-11-24T19:42:57Z\tbob\ttext\n");
  /* Old records, with the author "-". */
  split_ok ("1\t2026-11-24T19:42:57Z\t-\tone\n", "1\t2026-11-24T19:42:57Z\t-\tone\n");
  split_ok ("2\t2026-11-24T19:42:57Z\taaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\ttwo\n",
            "2\t2026-11-24T19:42:57Z\t-\ttwo\n");
  /* What the index says no longer matches the file. */
  split_fails (keyed, keyed_wire + 1);
  split_fails (keyed, keyed_wire - 1);
  split_fails ("3\t2026-11-24T19:42:57Z\t-\tbob\ttext",
               strlen ("3\t2026-11-24T19:42:57Z\tbob\ttext"));
  split_fails ("3\t2026-11-24T19:42:57Z\n", 0 + strlen ("3\t2026-11-24T19:42:57Z\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/record/parse/good", test_parse_good);
  g_test_add_func ("/record/parse/long-ids", test_parse_long_ids);
  g_test_add_func ("/record/parse/bad", test_parse_bad);
  g_test_add_func ("/record/format", test_format);
  g_test_add_func ("/record/split-wire", test_split_wire);
  return g_test_run ();
}
