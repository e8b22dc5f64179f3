/* /reliability/torn-tail: a notes file written by the daemon, cut at every
 * byte offset within its last 3 records and at 200 random offsets anywhere
 * (a cut mid-file loses the later records too, and leaves the file ending
 * torn there).  For each cut the daemon must start, keep exactly the complete
 * records before the cut, log the torn tail it dropped, and give the next
 * note the id after the last kept one, so ids never repeat. */
#include "config.h"

#include "md-reliability.h"

#include <string.h>

#define N_RECORDS 300
#define N_TAIL_RECORDS 3
#define N_RANDOM_CUTS 200
#define CLIENT_TIMEOUT_MS 60000

typedef struct
{
  MdTestDaemon *daemon;
  char *original; /* the notes file as the daemon wrote it */
  gsize original_len;
  GArray *ends; /* gsize: offset just past each record's '\n' */
  guint cuts;
  guint torn_cuts;
} TornTail;

/* Notes of varied length with multi-byte UTF-8, so that cuts also fall
 * inside characters. */
static GBytes *
varied_notes (void)
{
  GString *input = g_string_new (NULL);

  for (guint i = 1; i <= N_RECORDS; i++)
    {
      g_string_append_printf (input, "note %u", i);
      for (guint j = 0; j < i % 13; j++)
        g_string_append (input, j % 2 ? " ünïcødé ☃" : " plain");
      g_string_append_c (input, '\n');
    }
  return g_string_free_to_bytes (input);
}

static void
write_original (TornTail *t)
{
  const char *const argv[] = { "add", "-", NULL };
  g_autoptr (GBytes) input = varied_notes ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) result = NULL;
  g_autoptr (GPtrArray) records = NULL;

  md_test_daemon_start (t->daemon, &error);
  g_assert_no_error (error);
  ctl = md_test_ctl_spawn (md_test_daemon_get_address (t->daemon), input, argv, &error);
  g_assert_no_error (error);
  result = md_test_ctl_wait (ctl, CLIENT_TIMEOUT_MS * 5);
  if (result->exit_status != 0)
    g_error ("adding the notes exited %d: %s", result->exit_status, result->err);
  md_test_daemon_stop (t->daemon, &error);
  g_assert_no_error (error);
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (t->daemon));
  g_assert_cmpuint (records->len, ==, N_RECORDS);
}

static void
index_original (TornTail *t)
{
  g_autoptr (GError) error = NULL;

  g_file_get_contents (md_test_daemon_get_notes_path (t->daemon), &t->original, &t->original_len,
                       &error);
  g_assert_no_error (error);
  t->ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  for (gsize i = 0; i < t->original_len; i++)
    if (t->original[i] == '\n')
      {
        gsize end = i + 1;

        g_array_append_val (t->ends, end);
      }
  g_assert_cmpuint (t->ends->len, ==, N_RECORDS);
}

/* Complete records within the first @cut bytes. */
static guint
records_before (TornTail *t, gsize cut)
{
  guint kept = 0;

  while (kept < t->ends->len && g_array_index (t->ends, gsize, kept) <= cut)
    kept++;
  return kept;
}

static gsize
size_of_records (TornTail *t, guint n)
{
  return n == 0 ? 0 : g_array_index (t->ends, gsize, n - 1);
}

static char *
read_notes (TornTail *t, gsize *len)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (md_test_daemon_get_notes_path (t->daemon), &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

static void
check_kept (TornTail *t, gsize cut, guint kept)
{
  gsize expected_len = size_of_records (t, kept);
  gsize len = 0;
  g_autofree char *contents = read_notes (t, &len);

  if (len != expected_len || memcmp (contents, t->original, len) != 0)
    g_error ("cut at %" G_GSIZE_FORMAT ": expected the first %u records (%" G_GSIZE_FORMAT
             " bytes) after start, found %" G_GSIZE_FORMAT " bytes%s",
             cut, kept, expected_len, len,
             len == expected_len ? " that differ from the original" : "");
}

static void
check_log (TornTail *t, gsize cut, gsize dropped, const char *log)
{
  g_autofree char *bytes = g_strdup_printf (" %" G_GSIZE_FORMAT " bytes", dropped);
  gboolean logged = strstr (log, "torn tail") != NULL;

  if (dropped > 0 && (!logged || strstr (log, bytes) == NULL))
    g_error ("cut at %" G_GSIZE_FORMAT ": the daemon dropped %" G_GSIZE_FORMAT
             " bytes but did not log a torn tail of that size; its log:\n%s",
             cut, dropped, log);
  if (dropped == 0 && logged)
    g_error ("cut at %" G_GSIZE_FORMAT " is a record boundary, yet the daemon logged:\n%s", cut,
             log);
}

static void
check_next_id (TornTail *t, gsize cut, guint kept)
{
  g_autofree char *text = g_strdup_printf ("after cut %" G_GSIZE_FORMAT, cut);
  g_autofree char *expected = g_strdup_printf ("added note %u\n", kept + 1);
  const char *const argv[] = { "add", text, NULL };
  g_autoptr (MdTestCtlResult) result
      = md_test_ctl_run (md_test_daemon_get_address (t->daemon), NULL, argv, CLIENT_TIMEOUT_MS);
  g_autoptr (GPtrArray) records = NULL;
  MdTestRecord *last;

  if (result->exit_status != 0 || !g_str_equal (result->out, expected))
    g_error ("cut at %" G_GSIZE_FORMAT ", %u records kept: adding a note gave exit %d, \"%s\""
             " (expected \"%s\"); stderr: %s",
             cut, kept, result->exit_status, result->out, expected, result->err);
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (t->daemon));
  g_assert_cmpuint (records->len, ==, kept + 1);
  last = records->pdata[kept];
  g_assert_cmpuint (last->id, ==, kept + 1);
  g_assert_cmpstr (last->text, ==, text);
}

static void
try_cut (TornTail *t, gsize cut)
{
  guint kept = records_before (t, cut);
  gsize dropped = cut - size_of_records (t, kept);
  g_autofree char *log_before = md_test_daemon_get_log (t->daemon);
  g_autofree char *log = NULL;
  g_autoptr (GError) error = NULL;

  g_file_set_contents (md_test_daemon_get_notes_path (t->daemon), t->original, (gssize)cut, &error);
  g_assert_no_error (error);
  if (!md_test_daemon_restart (t->daemon, &error))
    g_error ("cut at %" G_GSIZE_FORMAT ": %s", cut, error->message);
  check_kept (t, cut, kept);
  log = md_test_daemon_get_log (t->daemon);
  check_log (t, cut, dropped, log + MIN (strlen (log_before), strlen (log)));
  check_next_id (t, cut, kept);
  if (!md_test_daemon_stop (t->daemon, &error))
    g_error ("cut at %" G_GSIZE_FORMAT ": %s", cut, error->message);
  t->cuts++;
  t->torn_cuts += dropped > 0;
}

static void
test_torn_tail (void)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_autoptr (GRand) rand = g_rand_new_with_seed (md_rel_seed ("/reliability/torn-tail"));
  TornTail t = { daemon };
  gint64 start;
  gsize tail_start;

  write_original (&t);
  index_original (&t);
  tail_start = size_of_records (&t, N_RECORDS - N_TAIL_RECORDS);
  start = g_get_monotonic_time ();
  for (gsize cut = tail_start; cut <= t.original_len; cut++)
    try_cut (&t, cut);
  for (guint i = 0; i < N_RANDOM_CUTS; i++)
    try_cut (&t, (gsize)g_rand_int_range (rand, 0, (gint32)t.original_len));
  g_test_message ("%u cuts of a %" G_GSIZE_FORMAT "-byte file (%u torn) in %.1f s", t.cuts,
                  t.original_len, t.torn_cuts, md_rel_seconds_since (start));
  g_array_unref (t.ends);
  g_free (t.original);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  md_rel_add ("/reliability/torn-tail", test_torn_tail);
  return md_rel_run ();
}
