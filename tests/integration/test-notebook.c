/* The interactive notebook in a real terminal (tmux): a note from another
 * client appears above the prompt without garbling the line being typed,
 * and with standard output a pipe, typed lines are still stored.  Exits 77
 * without tmux. */
#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define SCREEN_TIMEOUT_MS 20000
#define POLL_INTERVAL_MS 20

typedef struct
{
  MdTestDaemon *daemon;
  char *dir;
  char *tmux_socket;
  const char *want; /* what the screen or a file must show */
  char *path;       /* the file, for file_contains() */
} Fixture;

static char *tmux (Fixture *fx, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* Runs "tmux -S SOCKET ARGS..." and returns its stdout. */
static char *
tmux (Fixture *fx, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, "tmux");
  g_ptr_array_add (argv, "-S");
  g_ptr_array_add (argv, fx->tmux_socket);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  return out;
}

static char *
screen (Fixture *fx)
{
  return tmux (fx, "capture-pane", "-p", "-t", "md", NULL);
}

static gboolean
screen_shows (gpointer data)
{
  Fixture *fx = data;
  g_autofree char *text = screen (fx);

  return strstr (text, fx->want) != NULL;
}

static void
wait_screen (Fixture *fx, const char *want)
{
  fx->want = want;
  if (!md_test_poll_until (screen_shows, fx, POLL_INTERVAL_MS, SCREEN_TIMEOUT_MS))
    {
      g_autofree char *text = screen (fx);

      g_test_message ("screen:\n%s", text);
      g_assert_not_reached ();
    }
}

static gboolean
file_contains (gpointer data)
{
  Fixture *fx = data;
  g_autofree char *text = NULL;

  return g_file_get_contents (fx->path, &text, NULL, NULL) && strstr (text, fx->want) != NULL;
}

static void
wait_file (Fixture *fx, const char *path, const char *want)
{
  g_free (fx->path);
  fx->path = g_strdup (path);
  fx->want = want;
  g_assert_true (md_test_poll_until (file_contains, fx, POLL_INTERVAL_MS, SCREEN_TIMEOUT_MS));
}

/* The pane stays (remain-on-exit) so that its end can be checked. */
static gboolean
pane_dead (gpointer data)
{
  Fixture *fx = data;
  g_autofree char *out = tmux (fx, "display-message", "-p", "-t", "md", "#{pane_dead}", NULL);

  return g_str_has_prefix (out, "1");
}

/* The session's command ends with "; echo exit status $?". */
static void
assert_exits_cleanly (Fixture *fx)
{
  g_autofree char *text = NULL;

  wait_screen (fx, "exit status 0");
  text = screen (fx);
  g_assert_null (strstr (text, "^D"));
}

static void
start_session (Fixture *fx, const char *command)
{
  g_free (tmux (fx, "new-session", "-d", "-s", "md", "-x", "100", "-y", "24", command, NULL));
  g_free (tmux (fx, "set-option", "-t", "md", "remain-on-exit", "on", NULL));
}

static gboolean
set_up (Fixture *fx)
{
  g_autofree char *reason = NULL;
  g_autofree char *tmux_path = g_find_program_in_path ("tmux");
  g_autoptr (GError) error = NULL;

  if (tmux_path == NULL)
    {
      g_test_skip ("tmux is not installed");
      return FALSE;
    }
  if (!md_test_daemon_mode_available (MD_TEST_DAEMON_LISTEN, &reason))
    {
      g_test_skip (reason);
      return FALSE;
    }
  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_assert_true (md_test_daemon_start (fx->daemon, &error));
  g_assert_no_error (error);
  fx->dir = g_dir_make_tmp ("md-test-notebook-XXXXXX", &error);
  g_assert_no_error (error);
  fx->tmux_socket = g_build_filename (fx->dir, "tmux", NULL);
  return TRUE;
}

static void
tear_down (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  g_free (tmux (fx, "kill-server", NULL));
  g_assert_true (md_test_daemon_stop (fx->daemon, &error));
  md_test_daemon_free (fx->daemon);
  g_unlink (fx->tmux_socket);
  if (fx->path != NULL)
    g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->tmux_socket);
  g_free (fx->path);
}

static void
add_from_other_client (Fixture *fx, const char *text)
{
  g_autoptr (MdTestCtlResult) r = md_test_ctl_runv (fx->daemon, NULL, "add", text, NULL);

  g_assert_cmpint (r->exit_status, ==, 0);
}

static gboolean
notes_file_has (Fixture *fx, const char *text)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));

  for (guint i = 0; i < records->len; i++)
    if (g_str_equal (((MdTestRecord *)g_ptr_array_index (records, i))->text, text))
      return TRUE;
  return FALSE;
}

/* The last non-empty line of the screen. */
static char *
last_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = g_strv_length (lines); i > 0; i--)
    if (*g_strchomp (lines[i - 1]) != '\0')
      return g_strdup (lines[i - 1]);
  return g_strdup ("");
}

static void
test_other_note_above_prompt (void)
{
  Fixture fixture = { 0 }, *fx = &fixture;
  g_autofree char *command = NULL;
  g_autofree char *text = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *out = NULL;

  if (!set_up (fx))
    return;
  add_from_other_client (fx, "an old note");
  command = g_strdup_printf ("%s -s %s; echo exit status $?", g_getenv ("MYDAILYCTL"),
                             md_test_daemon_get_address (fx->daemon));
  start_session (fx, command);
  wait_screen (fx, "an old note");
  /* capture-pane drops the space after the prompt. */
  wait_screen (fx, "\n>");
  out = tmux (fx, "send-keys", "-t", "md", "-l", "half typed", NULL);
  wait_screen (fx, "> half typed");
  add_from_other_client (fx, "from another client");
  wait_screen (fx, "  from another client\n");
  text = screen (fx);
  prompt = last_line (text);
  /* The typed line is drawn again, whole, below the new note. */
  g_assert_cmpstr (prompt, ==, "> half typed");
  g_assert_null (strstr (text, "half typed2"));
  g_assert_true (strstr (text, "from another client") < strstr (text, "> half typed"));
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", " and done", "Enter", NULL);
  wait_screen (fx, "stored");
  g_assert_true (notes_file_has (fx, "half typed and done"));
  /* Ctrl-D leaves without a "^D". */
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "C-d", NULL);
  assert_exits_cleanly (fx);
  tear_down (fx);
}

/* A daemon that is stopped (SIGSTOP: its socket stays, nothing answers):
 * typing goes on while the line waits, and Ctrl-C cancels the wait.  The
 * request timeout (60 s) is far beyond the screen bound (20 s), so a
 * notebook that waited for the server would fail here. */
static void
test_dead_server (void)
{
  Fixture fixture = { 0 }, *fx = &fixture;
  g_autofree char *command = NULL;
  g_autofree char *out = NULL;

  if (!set_up (fx))
    return;
  /* The prompt then starts a line of its own ("\n>"). */
  add_from_other_client (fx, "an old note");
  command = g_strdup_printf ("%s -s %s --timeout=60; echo exit status $?", g_getenv ("MYDAILYCTL"),
                             md_test_daemon_get_address (fx->daemon));
  start_session (fx, command);
  wait_screen (fx, "\n>");
  md_test_daemon_signal (fx->daemon, SIGSTOP);
  out = tmux (fx, "send-keys", "-t", "md", "to nobody", "Enter", NULL);
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "-l", "still typing", NULL);
  wait_screen (fx, "> still typing");
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "C-c", NULL);
  wait_screen (fx, "cancelled");
  wait_screen (fx, "> still typing");
  md_test_daemon_signal (fx->daemon, SIGCONT);
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "C-u", "C-d", NULL);
  assert_exits_cleanly (fx);
  tear_down (fx);
}

/* A line typed while the daemon does not answer (--timeout=1) is kept in
 * the outbox and marked; once the daemon answers again the notebook sends
 * it by itself, and it is stored once. */
static void
test_queued_line (void)
{
  Fixture fixture = { 0 }, *fx = &fixture;
  g_autofree char *command = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GPtrArray) records = NULL;
  guint matches = 0;

  if (!set_up (fx))
    return;
  add_from_other_client (fx, "an old note");
  command = g_strdup_printf ("%s -s %s --timeout=1; echo exit status $?", g_getenv ("MYDAILYCTL"),
                             md_test_daemon_get_address (fx->daemon));
  start_session (fx, command);
  wait_screen (fx, "\n>");
  md_test_daemon_signal (fx->daemon, SIGSTOP);
  out = tmux (fx, "send-keys", "-t", "md", "typed while away", "Enter", NULL);
  wait_screen (fx, "typed while away  [queued");
  g_assert_false (notes_file_has (fx, "typed while away"));
  md_test_daemon_signal (fx->daemon, SIGCONT);
  wait_screen (fx, "note 2 stored");
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
  for (guint i = 0; i < records->len; i++)
    matches += g_str_equal (((MdTestRecord *)records->pdata[i])->text, "typed while away");
  g_assert_cmpuint (matches, ==, 1);
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "C-d", NULL);
  assert_exits_cleanly (fx);
  tear_down (fx);
}

static void
test_piped_output (void)
{
  Fixture fixture = { 0 }, *fx = &fixture;
  g_autofree char *command = NULL;
  g_autofree char *out_path = NULL;
  g_autofree char *out = NULL;

  if (!set_up (fx))
    return;
  out_path = g_build_filename (fx->dir, "out", NULL);
  command = g_strdup_printf ("%s -s %s | cat > %s", g_getenv ("MYDAILYCTL"),
                             md_test_daemon_get_address (fx->daemon), out_path);
  start_session (fx, command);
  /* The terminal keeps what is typed until the notebook reads it. */
  out = tmux (fx, "send-keys", "-t", "md", "typed into a pipe", "Enter", NULL);
  wait_file (fx, out_path, "stored");
  g_assert_true (notes_file_has (fx, "typed into a pipe"));
  add_from_other_client (fx, "shown in the pipe");
  wait_file (fx, out_path, "  shown in the pipe\n");
  g_free (out);
  out = tmux (fx, "send-keys", "-t", "md", "C-d", NULL);
  g_assert_true (md_test_poll_until (pane_dead, fx, POLL_INTERVAL_MS, SCREEN_TIMEOUT_MS));
  g_unlink (out_path);
  tear_down (fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notebook/tmux/other-note-above-prompt", test_other_note_above_prompt);
  g_test_add_func ("/notebook/tmux/dead-server", test_dead_server);
  g_test_add_func ("/notebook/tmux/piped-output", test_piped_output);
  g_test_add_func ("/notebook/tmux/queued-line", test_queued_line);
  return g_test_run ();
}
