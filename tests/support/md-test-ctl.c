#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define CTL_DEFAULT_TIMEOUT_MS 60000
#define CTL_REAP_TIMEOUT_MS 10000
#define CTL_MAX_ARGS 64

struct _MdTestCtl
{
  GSubprocess *process;
  GCancellable *cancellable;
  char *command_line; /* for messages */
  GBytes *out;
  GBytes *err;
  gboolean done;
};

/* Each test (g_test_get_path) gets its own $XDG_CACHE_HOME, $XDG_STATE_HOME
 * and $XDG_CONFIG_HOME, so no cache, outbox or credential leaks from one
 * test to the next (or from the person running them);
 * the clients of one test share them, as clients of one user do. */
static char *xdg_home;
static char *xdg_test_path;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
remove_xdg_home (void)
{
  if (xdg_home != NULL)
    remove_tree (xdg_home);
  g_clear_pointer (&xdg_home, g_free);
}

const char *
md_test_ctl_get_home (void)
{
  const char *path = g_test_get_path () != NULL ? g_test_get_path () : "";
  static gboolean registered;
  g_autoptr (GError) error = NULL;

  if (xdg_home != NULL && g_strcmp0 (xdg_test_path, path) == 0)
    return xdg_home;
  remove_xdg_home ();
  xdg_home = g_dir_make_tmp ("mydaily-ctl-XXXXXX", &error);
  g_assert_no_error (error);
  g_free (xdg_test_path);
  xdg_test_path = g_strdup (path);
  if (!registered)
    atexit (remove_xdg_home);
  registered = TRUE;
  return xdg_home;
}

static void
set_xdg_env (GSubprocessLauncher *launcher)
{
  const char *home = md_test_ctl_get_home ();
  g_autofree char *cache = g_build_filename (home, "cache", NULL);
  g_autofree char *state = g_build_filename (home, "state", NULL);
  g_autofree char *config = g_build_filename (home, "config", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
}

static const char *
ctl_binary (void)
{
  const char *path = g_getenv ("MYDAILYCTL");

  if (path == NULL || *path == '\0')
    g_error ("MYDAILYCTL is not set; run the tests with meson test");
  return path;
}

void
md_test_ctl_result_free (MdTestCtlResult *result)
{
  if (result == NULL)
    return;
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

void
md_test_ctl_free (MdTestCtl *ctl)
{
  if (ctl == NULL)
    return;
  if (!ctl->done)
    g_subprocess_force_exit (ctl->process);
  /* Pending callbacks see the cancellation and leave @ctl alone. */
  g_cancellable_cancel (ctl->cancellable);
  g_clear_object (&ctl->process);
  g_clear_object (&ctl->cancellable);
  g_clear_pointer (&ctl->out, g_bytes_unref);
  g_clear_pointer (&ctl->err, g_bytes_unref);
  g_free (ctl->command_line);
  g_free (ctl);
}

static void
on_waited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error))
    return; /* cancelled: @data is gone */
  ((MdTestCtl *)data)->done = TRUE;
}

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  MdTestCtl *ctl = data;

  if (!g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &out, &err, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_test_message ("%s: %s", ctl->command_line, error->message);
    }
  ctl->out = g_steal_pointer (&out);
  ctl->err = g_steal_pointer (&err);
  g_subprocess_wait_async (ctl->process, ctl->cancellable, on_waited, ctl);
}

static GStrv
ctl_argv (const char *server, const char *const *argv)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add (builder, ctl_binary ());
  g_strv_builder_add (builder, "-s");
  g_strv_builder_add (builder, server);
  g_strv_builder_addv (builder, (const char **)argv);
  return g_strv_builder_end (builder);
}

MdTestCtl *
md_test_command_spawn (const char *const *argv, GBytes *stdin_data, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (MdTestCtl) ctl = g_new0 (MdTestCtl, 1);
  g_autoptr (GBytes) input = NULL;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  /* A client that exits before reading all its stdin must fail its test,
   * not kill the test program. */
  signal (SIGPIPE, SIG_IGN);
  launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                   | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "MYDAILY_SERVER");
  set_xdg_env (launcher);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  ctl->command_line = g_strjoinv (" ", (GStrv)argv);
  ctl->cancellable = g_cancellable_new ();
  ctl->process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (ctl->process == NULL)
    return NULL;
  /* An empty stdin is at EOF at once (mydailyctl reads no terminal). */
  input = stdin_data != NULL ? g_bytes_ref (stdin_data) : g_bytes_new_static ("", 0);
  g_subprocess_communicate_async (ctl->process, input, ctl->cancellable, on_communicated, ctl);
  return g_steal_pointer (&ctl);
}

MdTestCtl *
md_test_ctl_spawn (const char *server, GBytes *stdin_data, const char *const *argv, GError **error)
{
  g_auto (GStrv) full_argv = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (argv != NULL, NULL);

  full_argv = ctl_argv (server, argv);
  return md_test_command_spawn ((const char *const *)full_argv, stdin_data, error);
}

static gboolean
ctl_is_done (gpointer data)
{
  return ((MdTestCtl *)data)->done;
}

static char *
bytes_to_string (GBytes *bytes, gsize *len)
{
  gsize size = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;
  char *s = g_malloc (size + 1);

  if (size > 0)
    memcpy (s, data, size);
  s[size] = '\0';
  if (len != NULL)
    *len = size;
  return s;
}

static int
exit_status_of (GSubprocess *process)
{
  if (g_subprocess_get_if_exited (process))
    return g_subprocess_get_exit_status (process);
  if (g_subprocess_get_if_signaled (process))
    return 128 + g_subprocess_get_term_sig (process);
  return -1;
}

MdTestCtlResult *
md_test_ctl_wait (MdTestCtl *ctl, guint timeout_ms)
{
  MdTestCtlResult *result = g_new0 (MdTestCtlResult, 1);

  g_return_val_if_fail (ctl != NULL, NULL);
  if (!md_test_pump_until (ctl_is_done, ctl, timeout_ms))
    {
      g_test_message ("%s did not end within %u ms; killing it", ctl->command_line, timeout_ms);
      g_subprocess_send_signal (ctl->process, SIGKILL);
      md_test_pump_until (ctl_is_done, ctl, CTL_REAP_TIMEOUT_MS);
    }
  result->out = bytes_to_string (ctl->out, &result->out_len);
  result->err = bytes_to_string (ctl->err, NULL);
  result->exit_status = ctl->done ? exit_status_of (ctl->process) : -1;
  g_test_message ("%s: exit %d", ctl->command_line, result->exit_status);
  return result;
}

MdTestCtlResult *
md_test_ctl_run (const char *server, const char *stdin_text, const char *const *argv,
                 guint timeout_ms)
{
  g_autoptr (GBytes) input
      = stdin_text != NULL ? g_bytes_new (stdin_text, strlen (stdin_text)) : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) ctl = md_test_ctl_spawn (server, input, argv, &error);

  if (ctl == NULL)
    g_error ("cannot start mydailyctl: %s", error->message);
  return md_test_ctl_wait (ctl, timeout_ms);
}

MdTestCtlResult *
md_test_ctl_runv (MdTestDaemon *daemon, const char *stdin_text, const char *first_arg, ...)
{
  const char *args[CTL_MAX_ARGS + 1];
  guint n = 0;
  va_list ap;

  g_return_val_if_fail (daemon != NULL, NULL);
  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL && n < CTL_MAX_ARGS;
       arg = va_arg (ap, const char *))
    args[n++] = arg;
  va_end (ap);
  args[n] = NULL;
  return md_test_ctl_run (md_test_daemon_get_address (daemon), stdin_text, args,
                          CTL_DEFAULT_TIMEOUT_MS);
}

GPtrArray *
md_test_ctl_run_many (const char *server, guint n, const char *const *const *argvs,
                      GBytes *const *stdins, guint timeout_ms)
{
  g_autoptr (GPtrArray) ctls = g_ptr_array_new_with_free_func ((GDestroyNotify)md_test_ctl_free);
  GPtrArray *results = g_ptr_array_new_with_free_func ((GDestroyNotify)md_test_ctl_result_free);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      MdTestCtl *ctl
          = md_test_ctl_spawn (server, stdins != NULL ? stdins[i] : NULL, argvs[i], &error);

      if (ctl == NULL)
        g_error ("cannot start mydailyctl: %s", error->message);
      g_ptr_array_add (ctls, ctl);
    }
  /* They all run at once; waiting in turn only decides who is reaped first. */
  for (guint i = 0; i < n; i++)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;

      g_ptr_array_add (results, md_test_ctl_wait (ctls->pdata[i], (guint)MAX (left_ms, 1)));
    }
  return results;
}
