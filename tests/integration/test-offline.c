/* mydailyctl with the daemon away: the outbox (queued notes, exit 75, each
 * stored exactly once afterwards, also with two flushers and a daemon killed
 * mid-flush) and the cache (a second history moves only what is new,
 * counted at the relay; a re-created notebook is detected; history with the
 * daemon down comes from the cache; --grep and dates). */
#include "config.h"

#include "md-reliability.h"
#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define RUN_TIMEOUT_MS 60000
#define WAIT_TIMEOUT_MS 30000
#define POLL_INTERVAL_MS 20

typedef struct
{
  MdTestDaemon *daemon;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_assert_true (md_test_daemon_start (fx->daemon, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  md_test_daemon_free (fx->daemon);
}

static MdTestCtlResult *
run (Fixture *fx, const char *stdin_text, const char *const *argv)
{
  return md_test_ctl_run (md_test_daemon_get_address (fx->daemon), stdin_text, argv,
                          RUN_TIMEOUT_MS);
}

static void
assert_exit (const MdTestCtlResult *r, int status)
{
  if (r->exit_status != status)
    g_test_message ("stdout: %s\nstderr: %s", r->out, r->err);
  g_assert_cmpint (r->exit_status, ==, status);
}

static void
stop_daemon (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_test_daemon_stop (fx->daemon, &error));
  g_assert_no_error (error);
}

/* Again, on the same port: the address the notes were queued for. */
static void
start_daemon (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_test_daemon_restart (fx->daemon, &error));
  g_assert_no_error (error);
}

static guint
count_text (Fixture *fx, const char *text)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
  guint n = 0;

  for (guint i = 0; i < records->len; i++)
    n += g_str_equal (((MdTestRecord *)records->pdata[i])->text, text);
  return n;
}

static guint
count_notes (Fixture *fx)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));

  return records->len;
}

/* @n notes "queued N" added with the daemon stopped: each is queued. */
static void
queue_notes (Fixture *fx, guint n)
{
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (MdTestCtlResult) r = NULL;
  const char *argv[] = { "--timeout=1", "add", "-", NULL };

  for (guint i = 0; i < n; i++)
    g_string_append_printf (lines, "queued %u\n", i);
  r = run (fx, lines->str, argv);
  assert_exit (r, 75);
  g_assert_nonnull (strstr (r->err, "queued"));
}

static void
assert_each_once (Fixture *fx, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("queued %u", i);

      g_assert_cmpuint (count_text (fx, text), ==, 1);
    }
}

static void
assert_queued (Fixture *fx, guint n, int status)
{
  const char *argv[] = { "--timeout=1", "status", NULL };
  g_autoptr (MdTestCtlResult) r = run (fx, NULL, argv);
  g_autofree char *line = g_strdup_printf ("queued: %u\n", n);

  assert_exit (r, status);
  g_assert_nonnull (strstr (r->out, line));
}

/* ---- the outbox ---- */

static void
test_queue_then_store (Fixture *fx, gconstpointer data)
{
  const char *add[] = { "--timeout=1", "add", "queued 0", NULL };
  const char *no_queue[] = { "--timeout=1", "--no-queue", "add", "never kept", NULL };
  const char *later[] = { "add", "written later", NULL };
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;
  g_autoptr (MdTestCtlResult) r3 = NULL;

  stop_daemon (fx);
  r = run (fx, NULL, add);
  assert_exit (r, 75);
  g_assert_nonnull (strstr (r->err, "queued"));
  r2 = run (fx, NULL, no_queue);
  assert_exit (r2, 2);
  assert_queued (fx, 1, 2);
  start_daemon (fx);
  /* The next add sends the queued note first, then its own. */
  r3 = run (fx, NULL, later);
  assert_exit (r3, 0);
  g_assert_cmpuint (count_text (fx, "queued 0"), ==, 1);
  g_assert_cmpuint (count_text (fx, "written later"), ==, 1);
  g_assert_cmpuint (count_text (fx, "never kept"), ==, 0);
  g_assert_cmpuint (count_notes (fx), ==, 2);
  assert_queued (fx, 0, 0);
}

static void
test_two_flushers (Fixture *fx, gconstpointer data)
{
  const char *sync[] = { "sync", NULL };
  const char *const *argvs[] = { sync, sync };
  g_autoptr (GPtrArray) results = NULL;

  stop_daemon (fx);
  queue_notes (fx, 40);
  start_daemon (fx);
  results = md_test_ctl_run_many (md_test_daemon_get_address (fx->daemon), 2, argvs, NULL,
                                  RUN_TIMEOUT_MS);
  assert_exit (results->pdata[0], 0);
  assert_exit (results->pdata[1], 0);
  /* The one that found the lock taken left the notes to the other. */
  assert_each_once (fx, 40);
  g_assert_cmpuint (count_notes (fx), ==, 40);
  assert_queued (fx, 0, 0);
}

static gboolean
some_stored (gpointer data)
{
  return count_notes (data) >= 5;
}

static void
test_killed_during_flush (Fixture *fx, gconstpointer data)
{
  const char *sync[] = { "--timeout=2", "sync", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;

  stop_daemon (fx);
  queue_notes (fx, 300);
  start_daemon (fx);
  ctl = md_test_ctl_spawn (md_test_daemon_get_address (fx->daemon), NULL, sync, &error);
  g_assert_no_error (error);
  g_assert_true (md_test_poll_until (some_stored, fx, POLL_INTERVAL_MS, WAIT_TIMEOUT_MS));
  g_assert_true (md_test_daemon_kill (fx->daemon, SIGKILL, &error));
  g_assert_no_error (error);
  r = md_test_ctl_wait (ctl, RUN_TIMEOUT_MS);
  /* Killed before the last note: no answer.  (Done already: fine too.) */
  g_assert_true (r->exit_status == 2 || r->exit_status == 0);
  start_daemon (fx);
  r2 = run (fx, NULL, sync);
  assert_exit (r2, 0);
  assert_each_once (fx, 300);
  g_assert_cmpuint (count_notes (fx), ==, 300);
}

/* ---- the cache ---- */

static void
add_lines (Fixture *fx, const char *prefix, guint n)
{
  g_autoptr (GString) lines = g_string_new (NULL);
  const char *argv[] = { "add", "-", NULL };
  g_autoptr (MdTestCtlResult) r = NULL;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (lines, "%s %u\n", prefix, i);
  r = run (fx, lines->str, argv);
  assert_exit (r, 0);
}

static MdTestCtlResult *
history_through (const char *server, guint64 *forwarded)
{
  const char *argv[] = { "history", "-o", "tsv", NULL };
  g_autoptr (GError) error = NULL;
  const char *no_impairment[] = { NULL };
  g_autoptr (MdRelRelay) relay = md_rel_relay_start (server, no_impairment, &error);
  g_autofree char *summary = NULL;
  const char *count;
  MdTestCtlResult *r;

  g_assert_no_error (error);
  r = md_test_ctl_run (md_rel_relay_get_address (relay), NULL, argv, RUN_TIMEOUT_MS);
  summary = md_rel_relay_stop (relay);
  count = strstr (summary, "forwarded ");
  g_assert_nonnull (count);
  *forwarded = g_ascii_strtoull (count + strlen ("forwarded "), NULL, 10);
  g_test_message ("history moved %" G_GUINT64_FORMAT " datagrams", *forwarded);
  return r;
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static void
test_second_history_moves_new_only (Fixture *fx, gconstpointer data)
{
  g_autofree char *reason = NULL;
  g_autoptr (MdTestCtlResult) first = NULL;
  g_autoptr (MdTestCtlResult) second = NULL;
  guint64 first_count = 0, second_count = 0;

  if (!md_rel_relay_available (&reason))
    {
      g_test_skip (reason);
      return;
    }
  add_lines (fx, "a note to cache, long enough to fill the blocks of a read", 300);
  first = history_through (md_test_daemon_get_address (fx->daemon), &first_count);
  assert_exit (first, 0);
  g_assert_cmpuint (count_lines (first->out), ==, 300);
  add_lines (fx, "new", 1);
  second = history_through (md_test_daemon_get_address (fx->daemon), &second_count);
  assert_exit (second, 0);
  g_assert_cmpuint (count_lines (second->out), ==, 301);
  g_assert_true (g_str_has_prefix (second->out, first->out));
  /* GET /status and one read of note 300 and after: a few exchanges,
   * whatever the notebook's size; the first read moved every note. */
  g_assert_cmpuint (second_count, <=, 8);
  g_assert_cmpuint (first_count, >, 3 * second_count);
}

static void
recreate_notebook (Fixture *fx)
{
  g_autofree char *notes
      = g_build_filename (md_test_daemon_get_state_dir (fx->daemon), "notes", NULL);
  g_autofree char *id
      = g_build_filename (md_test_daemon_get_state_dir (fx->daemon), "notebook-id", NULL);

  stop_daemon (fx);
  g_assert_cmpint (g_unlink (notes), ==, 0);
  g_assert_cmpint (g_unlink (id), ==, 0);
  start_daemon (fx);
}

static void
test_recreated_notebook (Fixture *fx, gconstpointer data)
{
  const char *history[] = { "history", "-o", "tsv", NULL };
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;

  add_lines (fx, "old notebook", 3);
  r = run (fx, NULL, history);
  assert_exit (r, 0);
  g_assert_cmpuint (count_lines (r->out), ==, 3);
  recreate_notebook (fx);
  add_lines (fx, "new notebook", 2);
  r2 = run (fx, NULL, history);
  assert_exit (r2, 0);
  g_assert_cmpuint (count_lines (r2->out), ==, 2);
  g_assert_null (strstr (r2->out, "old notebook"));
  g_assert_nonnull (strstr (r2->out, "1\t"));
}

static void
test_history_offline (Fixture *fx, gconstpointer data)
{
  const char *history[] = { "--timeout=1", "history", "-o", "tsv", NULL };
  const char *no_cache[] = { "--timeout=1", "history", "--no-cache", NULL };
  g_autoptr (MdTestCtlResult) online = NULL;
  g_autoptr (MdTestCtlResult) offline = NULL;
  g_autoptr (MdTestCtlResult) bypass = NULL;

  add_lines (fx, "cached", 4);
  online = run (fx, NULL, history);
  assert_exit (online, 0);
  stop_daemon (fx);
  offline = run (fx, NULL, history);
  assert_exit (offline, 0);
  g_assert_cmpstr (offline->out, ==, online->out);
  g_assert_nonnull (strstr (offline->err, "cached"));
  bypass = run (fx, NULL, no_cache);
  assert_exit (bypass, 2);
  g_assert_cmpstr (bypass->out, ==, "");
}

static void
assert_history (Fixture *fx, const char *const *argv, guint n_lines)
{
  g_autoptr (MdTestCtlResult) r = run (fx, NULL, argv);

  assert_exit (r, 0);
  g_assert_cmpuint (count_lines (r->out), ==, n_lines);
}

static void
test_search (Fixture *fx, gconstpointer data)
{
  const char *grep[] = { "history", "-o", "tsv", "--grep=Apple", NULL };
  const char *caseless[] = { "history", "-o", "tsv", "--grep=Apple", "-i", NULL };
  const char *last[] = { "history", "-o", "tsv", "--grep=apple", "-i", "-n", "1", NULL };
  const char *today[] = { "history", "-o", "tsv", "--since=today", NULL };
  const char *recent[] = { "history", "-o", "tsv", "--since=-2h", "--until=now", NULL };
  const char *tomorrow[] = { "history", "-o", "tsv", "--since=tomorrow", NULL };
  const char *old[] = { "history", "-o", "tsv", "--until=2000-01-01 18:00", NULL };
  const char *bad[] = { "history", "--since=someday", NULL };
  const char *bad_grep[] = { "history", "--grep=(", NULL };
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;

  add_lines (fx, "apple", 2);
  add_lines (fx, "Apple", 1);
  add_lines (fx, "pear", 3);
  assert_history (fx, grep, 1);
  assert_history (fx, caseless, 3);
  assert_history (fx, last, 1);
  assert_history (fx, today, 6);
  assert_history (fx, recent, 6);
  assert_history (fx, tomorrow, 0);
  assert_history (fx, old, 0);
  r = run (fx, NULL, bad);
  assert_exit (r, 64);
  g_assert_nonnull (strstr (r->err, "someday"));
  r2 = run (fx, NULL, bad_grep);
  assert_exit (r2, 64);
}

int
main (int argc, char **argv)
{
  g_autofree char *reason = NULL;

  g_test_init (&argc, &argv, NULL);
  if (!md_test_daemon_mode_available (MD_TEST_DAEMON_LISTEN, &reason))
    {
      g_test_message ("%s", reason);
      return 77;
    }
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/offline/outbox/queue-then-store", test_queue_then_store);
  ADD ("/offline/outbox/two-flushers", test_two_flushers);
  ADD ("/offline/outbox/killed-during-flush", test_killed_during_flush);
  ADD ("/offline/cache/second-history-moves-new-only", test_second_history_moves_new_only);
  ADD ("/offline/cache/recreated-notebook", test_recreated_notebook);
  ADD ("/offline/cache/history-offline", test_history_offline);
  ADD ("/offline/cache/search", test_search);
#undef ADD
  return g_test_run ();
}
