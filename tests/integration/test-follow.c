/* Followers against a real mydailyd with the harness holding the socket:
 * 5 followers and 5 writers adding 200 notes each at once, then a kill and
 * restart of the daemon and 50 more notes.  Every follower must print every
 * note exactly once, in id order.  (How fast the notes arrive after the
 * restart is reported, not asserted: speed belongs to the benchmarks.) */
#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define FOLLOWERS 5
#define WRITERS 5
#define NOTES_PER_WRITER 200
#define NOTES_AFTER_RESTART 50
#define WRITE_TIMEOUT_MS 120000
/* Below the 60 s re-registration: only the poll can meet it after a restart. */
#define CATCH_UP_TIMEOUT_MS 30000
#define POLL_INTERVAL_MS 20

typedef struct
{
  MdTestDaemon *daemon;
  GSubprocess *followers[FOLLOWERS];
  char *outputs[FOLLOWERS]; /* files the followers write to */
  char *dir;
  guint64 expected; /* notes each follower must have printed */
} Fixture;

static GSubprocess *
spawn_follower (Fixture *fx, const char *out_path)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autoptr (GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MYDAILYCTL"), "-s",
                                         md_test_daemon_get_address (fx->daemon), "follow", "-n",
                                         "all", "-o", "tsv", NULL);
  g_assert_no_error (error);
  return process;
}

/* The ids in a follower's tsv output, asserting each line is complete. */
static GArray *
read_ids (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint64));

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return ids;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      guint64 id = g_ascii_strtoull (lines[i], NULL, 10);

      g_array_append_val (ids, id);
    }
  return ids;
}

static gboolean
all_caught_up (gpointer data)
{
  Fixture *fx = data;

  for (guint i = 0; i < FOLLOWERS; i++)
    {
      g_autoptr (GArray) ids = read_ids (fx->outputs[i]);

      if (ids->len < fx->expected)
        return FALSE;
    }
  return TRUE;
}

/* Exactly 1..@expected, in order: nothing missed, nothing twice. */
static void
assert_followers_printed_all (Fixture *fx)
{
  for (guint i = 0; i < FOLLOWERS; i++)
    {
      g_autoptr (GArray) ids = read_ids (fx->outputs[i]);

      g_assert_cmpuint (ids->len, ==, fx->expected);
      for (guint j = 0; j < ids->len; j++)
        g_assert_cmpuint (g_array_index (ids, guint64, j), ==, j + 1);
    }
}

static GBytes *
numbered_lines (const char *prefix, guint n)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s note %u\n", prefix, i);
  return g_string_free_to_bytes (text);
}

static void
write_concurrently (Fixture *fx, guint writers, guint notes_each)
{
  g_autoptr (GPtrArray) stdins = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  const char *const argv[] = { "add", "-", NULL };
  const char *const *argvs[WRITERS];
  g_autoptr (GPtrArray) results = NULL;

  for (guint i = 0; i < writers; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("writer %u", i);

      g_ptr_array_add (stdins, numbered_lines (prefix, notes_each));
      argvs[i] = argv;
    }
  results = md_test_ctl_run_many (md_test_daemon_get_address (fx->daemon), writers, argvs,
                                  (GBytes *const *)stdins->pdata, WRITE_TIMEOUT_MS);
  for (guint i = 0; i < results->len; i++)
    {
      MdTestCtlResult *r = g_ptr_array_index (results, i);

      if (r->exit_status != 0)
        g_test_message ("writer %u: %s", i, r->err);
      g_assert_cmpint (r->exit_status, ==, 0);
    }
}

static void
wait_caught_up (Fixture *fx, const char *what)
{
  gint64 start = g_get_monotonic_time ();

  g_assert_true (md_test_poll_until (all_caught_up, fx, POLL_INTERVAL_MS, CATCH_UP_TIMEOUT_MS));
  g_test_message ("%s: all %u followers had note %" G_GUINT64_FORMAT " after %.2f s", what,
                  FOLLOWERS, fx->expected,
                  (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

static void
stop_followers (Fixture *fx)
{
  for (guint i = 0; i < FOLLOWERS; i++)
    {
      g_autoptr (GError) error = NULL;

      g_subprocess_send_signal (fx->followers[i], SIGTERM);
      g_assert_true (g_subprocess_wait (fx->followers[i], NULL, &error));
      g_assert_no_error (error);
      /* A termination signal is a follower's normal end. */
      g_assert_true (g_subprocess_get_if_exited (fx->followers[i]));
      g_assert_cmpint (g_subprocess_get_exit_status (fx->followers[i]), ==, 0);
    }
}

static void
test_many_followers (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  Fixture fixture = { 0 }, *fx = &fixture;

  if (!md_test_daemon_mode_available (MD_TEST_DAEMON_HELD, &reason))
    {
      g_test_skip (reason);
      return;
    }
  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_HELD);
  g_assert_true (md_test_daemon_start (fx->daemon, &error));
  g_assert_no_error (error);
  fx->dir = g_dir_make_tmp ("md-test-follow-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < FOLLOWERS; i++)
    {
      fx->outputs[i] = g_strdup_printf ("%s/follower-%u", fx->dir, i);
      fx->followers[i] = spawn_follower (fx, fx->outputs[i]);
    }

  write_concurrently (fx, WRITERS, NOTES_PER_WRITER);
  fx->expected = WRITERS * NOTES_PER_WRITER;
  wait_caught_up (fx, "concurrent writers");
  assert_followers_printed_all (fx);

  g_assert_true (md_test_daemon_kill (fx->daemon, SIGKILL, &error));
  g_assert_no_error (error);
  g_assert_true (md_test_daemon_restart (fx->daemon, &error));
  g_assert_no_error (error);
  write_concurrently (fx, 1, NOTES_AFTER_RESTART);
  fx->expected += NOTES_AFTER_RESTART;
  wait_caught_up (fx, "after the restart");
  assert_followers_printed_all (fx);

  stop_followers (fx);
  g_assert_true (md_test_daemon_stop (fx->daemon, &error));
  for (guint i = 0; i < FOLLOWERS; i++)
    {
      g_unlink (fx->outputs[i]);
      g_free (fx->outputs[i]);
      g_object_unref (fx->followers[i]);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  md_test_daemon_free (fx->daemon);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/follow/held/many-followers-and-restart", test_many_followers);
  return g_test_run ();
}
