/* MaxNotesFileSize= end to end (issue 9, item 2), with mydailyctl against a
 * real daemon whose cap is 64 KiB: adds past the cap get the reason and exit
 * 1, the notes file never exceeds the cap, the journal says so once and not
 * once per note, /status shows the size and the cap, and adds work again
 * after the cap is raised and the daemon restarted. */
#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <string.h>

#define CAP 65536
#define NOTES 100
#define NOTE_BYTES 900

static void
write_config (MdTestDaemon *daemon, guint64 cap)
{
  g_autofree char *root = g_path_get_dirname (md_test_daemon_get_state_dir (daemon));
  g_autofree char *path = g_build_filename (root, "mydailyd.conf", NULL);
  g_autofree char *data
      = g_strdup_printf ("[Server]\nVerbose=true\nMaxNotesFileSize=%" G_GUINT64_FORMAT "\n", cap);

  g_assert_true (g_file_set_contents (path, data, -1, NULL));
}

static guint64
notes_file_size (MdTestDaemon *daemon)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (md_test_daemon_get_notes_path (daemon), &st), ==, 0);
  return (guint64)st.st_size;
}

static guint
count_in (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* NOTES lines of NOTE_BYTES, about 1.4 times the cap. */
static char *
make_import (void)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < NOTES; i++)
    {
      g_string_append_printf (text, "note %03u ", i);
      for (guint j = 9; j < NOTE_BYTES; j++)
        g_string_append_c (text, (char)('a' + (i + j) % 26));
      g_string_append_c (text, '\n');
    }
  return g_string_free (text, FALSE);
}

static void
test_notes_cap (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_autofree char *import = make_import ();
  g_autofree char *long_note = g_strnfill (NOTE_BYTES, 'x');
  g_autofree char *log = NULL;
  g_autoptr (GPtrArray) records = NULL;
  MdTestCtlResult *r;

  write_config (daemon, CAP);
  g_assert_true (md_test_daemon_start (daemon, &error));
  g_assert_no_error (error);

  r = md_test_ctl_runv (daemon, import, "add", "-", NULL);
  g_assert_cmpint (r->exit_status, ==, 1);
  g_assert_nonnull (strstr (r->err, "notebook full"));
  md_test_ctl_result_free (r);
  g_assert_cmpuint (notes_file_size (daemon), <=, CAP);
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (daemon));
  /* Filled up to the cap: a record is the text and at most 128 bytes of id,
   * time, key, author and tabs. */
  g_assert_cmpuint (records->len, >=, CAP / (NOTE_BYTES + 128));
  g_assert_cmpuint (records->len, <, NOTES);

  /* Longer than the room left, which is less than one note of the import. */
  r = md_test_ctl_runv (daemon, NULL, "add", long_note, NULL);
  g_assert_cmpint (r->exit_status, ==, 1);
  g_assert_nonnull (strstr (r->err, "notebook full"));
  md_test_ctl_result_free (r);
  g_assert_cmpuint (notes_file_size (daemon), <=, CAP);

  r = md_test_ctl_runv (daemon, NULL, "status", NULL);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (strstr (r->out, "notes-file-max: 65536\n"));
  {
    g_autofree char *size_line
        = g_strdup_printf ("notes-file-size: %" G_GUINT64_FORMAT "\n", notes_file_size (daemon));

    g_assert_nonnull (strstr (r->out, size_line));
  }
  md_test_ctl_result_free (r);

  /* Dozens of refusals, one journal message (the next may come a minute
   * later), and no per-request rejection for them. */
  log = md_test_daemon_get_log (daemon);
  g_assert_cmpuint (count_in (log, "notebook full: refused"), ==, 1);
  g_assert_cmpuint (count_in (log, "rejected a request"), ==, 0);

  /* Raised, the notebook takes adds again. */
  g_assert_true (md_test_daemon_stop (daemon, &error));
  write_config (daemon, 2 * CAP);
  g_assert_true (md_test_daemon_restart (daemon, &error));
  g_assert_no_error (error);
  r = md_test_ctl_runv (daemon, NULL, "add", "after the cap was raised", NULL);
  g_assert_cmpint (r->exit_status, ==, 0);
  md_test_ctl_result_free (r);
  g_assert_cmpuint (notes_file_size (daemon), >, CAP - NOTE_BYTES);
  g_assert_true (md_test_daemon_stop (daemon, &error));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/integration/notes-cap", test_notes_cap);
  return g_test_run ();
}
