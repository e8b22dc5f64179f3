#include "config.h"

#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gio/gunixcredentialsmessage.h>
#include <gio/gunixsocketaddress.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Generous: the tests also run under valgrind and on loaded CI machines. */
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 20000
#define KILL_TIMEOUT_MS 10000
#define START_ATTEMPTS 5
/* Bounds every pump loop in count as well as in time. */
#define PUMP_MAX_ITERATIONS 50000000
#define NOTIFY_MAX_PER_DISPATCH 64

struct _MdTestDaemon
{
  MdTestDaemonMode mode;
  char *root; /* the temporary directory, holds everything below */
  char *state_dir;
  char *notes_path;
  char *notify_path;
  char *log_path;
  char *config_path;
  char *address;
  guint16 port;
  GPtrArray *extra_args; /* md_test_daemon_add_arg() */

  GSocket *notify_socket;
  GSource *notify_source;
  int held_fd; /* HELD mode: the socket that outlives every daemon process */
  GCancellable *cancellable;

  GSubprocess *process; /* the latest daemon process */
  pid_t pid;
  gboolean running;
  gboolean ready;
  gboolean stopping;
  gboolean expect_exit; /* the harness asked it to end: no auto-restart */
  gboolean auto_restart;
  int last_wait_status;
  char *status;
  guint start_count;
  goffset log_offset; /* where the latest process's stderr starts */
};

const char *
md_test_daemon_mode_name (MdTestDaemonMode mode)
{
  switch (mode)
    {
      case MD_TEST_DAEMON_LISTEN:
        return "listen";
      case MD_TEST_DAEMON_SOCKET_ACTIVATE:
        return "activated";
      case MD_TEST_DAEMON_HELD:
        return "held";
    }
  g_return_val_if_reached ("unknown");
}

gboolean
md_test_daemon_mode_available (MdTestDaemonMode mode, char **reason)
{
  g_autofree char *tool = NULL;

  if (mode != MD_TEST_DAEMON_SOCKET_ACTIVATE)
    return TRUE;
  tool = g_find_program_in_path ("systemd-socket-activate");
  if (tool != NULL)
    return TRUE;
  if (reason != NULL)
    *reason = g_strdup ("systemd-socket-activate is not installed");
  return FALSE;
}

static void
set_errno_error (GError **error, int errno_value, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno_value), "%s: %s", what,
               g_strerror (errno_value));
}

void
md_test_die_with_parent (gpointer unused)
{
  /* Runs between fork and exec: async-signal-safe calls only. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* ---- main-context pumping ---- */

static gboolean
on_pump_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
md_test_pump_until (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timer;

  g_return_val_if_fail (done != NULL, FALSE);
  timer = g_timeout_add (timeout_ms, on_pump_timeout, &timed_out);
  for (guint i = 0; i < PUMP_MAX_ITERATIONS && !timed_out && !done (data); i++)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timer);
  return done (data);
}

static gboolean
on_poll_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
md_test_poll_until (gboolean (*done) (gpointer data), gpointer data, guint interval_ms,
                    guint timeout_ms)
{
  guint ticker;
  gboolean ok;

  g_return_val_if_fail (done != NULL, FALSE);
  ticker = g_timeout_add (MAX (interval_ms, 1), on_poll_tick, NULL);
  ok = md_test_pump_until (done, data, timeout_ms);
  g_source_remove (ticker);
  return ok;
}

/* ---- files ---- */

/* The harness makes only plain files, sockets and directories, a few levels
 * deep; symlinks are removed, never followed. */
static void
remove_tree (const char *path, guint depth)
{
  g_autoptr (GDir) dir = depth < 8 ? g_dir_open (path, 0, NULL) : NULL;
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child, depth + 1);
      else if (g_unlink (child) != 0)
        g_test_message ("cannot remove %s: %s", child, g_strerror (errno));
    }
  if (g_rmdir (path) != 0)
    g_test_message ("cannot remove %s: %s", path, g_strerror (errno));
}

static goffset
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? st.st_size : 0;
}

static char *
read_log_from (MdTestDaemon *self, goffset offset)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (self->log_path, &contents, &len, NULL))
    return g_strdup ("");
  if ((gsize)offset > len)
    offset = 0;
  return g_strdup (contents + offset);
}

char *
md_test_daemon_get_log (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return read_log_from (self, 0);
}

/* ---- ports ---- */

static int
bind_loopback_udp (guint16 port, guint16 *bound_port, GError **error)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  socklen_t len = sizeof sin;
  int fd;

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *)&sin, sizeof sin) != 0
      || getsockname (fd, (struct sockaddr *)&sin, &len) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot bind UDP 127.0.0.1:%u: %s", port, g_strerror (saved));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *bound_port = ntohs (sin.sin_port);
  return fd;
}

guint16
md_test_free_udp_port (GError **error)
{
  guint16 port = 0;
  int fd = bind_loopback_udp (0, &port, error);

  if (fd < 0)
    return 0;
  close (fd);
  return port;
}

static void
set_port (MdTestDaemon *self, guint16 port)
{
  self->port = port;
  g_free (self->address);
  self->address = g_strdup_printf ("127.0.0.1:%u", port);
}

/* ---- sd_notify ---- */

static pid_t
sender_pid (GSocketControlMessage **messages, int n_messages)
{
  for (int i = 0; i < n_messages; i++)
    {
      if (G_IS_UNIX_CREDENTIALS_MESSAGE (messages[i]))
        {
          GUnixCredentialsMessage *msg = G_UNIX_CREDENTIALS_MESSAGE (messages[i]);
          GCredentials *creds = g_unix_credentials_message_get_credentials (msg);

          return g_credentials_get_unix_pid (creds, NULL);
        }
    }
  return -1;
}

static void
free_messages (GSocketControlMessage **messages, int n_messages)
{
  for (int i = 0; i < n_messages; i++)
    g_object_unref (messages[i]);
  g_free (messages);
}

static void
handle_notify_line (MdTestDaemon *self, const char *line)
{
  if (g_str_equal (line, "READY=1"))
    self->ready = TRUE;
  else if (g_str_equal (line, "STOPPING=1"))
    self->stopping = TRUE;
  else if (g_str_has_prefix (line, "STATUS="))
    {
      g_free (self->status);
      self->status = g_strdup (line + strlen ("STATUS="));
    }
}

static void
handle_notify_datagram (MdTestDaemon *self, const char *data)
{
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    handle_notify_line (self, lines[i]);
}

/* Reads one datagram; FALSE when there is none left. */
static gboolean
receive_notify (MdTestDaemon *self)
{
  char buf[4096];
  GInputVector vec = { buf, sizeof buf - 1 };
  GSocketControlMessage **messages = NULL;
  int n_messages = 0;
  int flags = 0;
  gssize n;
  pid_t pid;

  n = g_socket_receive_message (self->notify_socket, NULL, &vec, 1, &messages, &n_messages, &flags,
                                NULL, NULL);
  if (n < 0)
    return FALSE;
  buf[n] = '\0';
  pid = sender_pid (messages, n_messages);
  free_messages (messages, n_messages);
  /* A dead predecessor's datagrams may still be queued: only the latest
   * process speaks for the daemon, as with systemd's NotifyAccess=main. */
  if (pid == self->pid)
    handle_notify_datagram (self, buf);
  else
    g_test_message ("ignoring notify from pid %d: %s", (int)pid, buf);
  return TRUE;
}

static gboolean
on_notify_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  MdTestDaemon *self = data;

  for (guint i = 0; i < NOTIFY_MAX_PER_DISPATCH && receive_notify (self); i++)
    ;
  return G_SOURCE_CONTINUE;
}

static gboolean
open_notify_socket (MdTestDaemon *self, GError **error)
{
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (self->notify_path);

  self->notify_socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, error);
  if (self->notify_socket == NULL || !g_socket_bind (self->notify_socket, address, FALSE, error))
    return FALSE;
  if (!g_socket_set_option (self->notify_socket, SOL_SOCKET, SO_PASSCRED, 1, error))
    return FALSE;
  g_socket_set_blocking (self->notify_socket, FALSE);
  self->notify_source = g_socket_create_source (self->notify_socket, G_IO_IN, NULL);
  g_source_set_callback (self->notify_source, G_SOURCE_FUNC (on_notify_readable), self, NULL);
  g_source_attach (self->notify_source, NULL);
  return TRUE;
}

/* ---- the daemon process ---- */

static const char *
daemon_binary (void)
{
  const char *path = g_getenv ("MYDAILYD");

  if (path == NULL || *path == '\0')
    g_error ("MYDAILYD is not set; run the tests with meson test");
  return path;
}

static GSubprocessLauncher *
daemon_launcher (MdTestDaemon *self, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  int log_fd = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const char *const unset[]
      = { "LISTEN_FDS",   "LISTEN_PID",    "LISTEN_FDNAMES", "STATE_DIRECTORY", "WATCHDOG_USEC",
          "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM", "MYDAILY_SERVER",  NULL };

  if (log_fd < 0)
    {
      set_errno_error (error, errno, self->log_path);
      return NULL;
    }
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (log_fd));
  g_subprocess_launcher_take_stderr_fd (launcher, log_fd);
  for (guint i = 0; unset[i] != NULL; i++)
    g_subprocess_launcher_unsetenv (launcher, unset[i]);
  g_subprocess_launcher_setenv (launcher, "NOTIFY_SOCKET", self->notify_path, TRUE);
  if (self->mode == MD_TEST_DAEMON_HELD)
    {
      g_subprocess_launcher_setenv (launcher, "LISTEN_FDS", "1", TRUE);
      g_subprocess_launcher_take_fd (launcher, dup (self->held_fd), 3);
    }
  return g_steal_pointer (&launcher);
}

static void
add_daemon_args (MdTestDaemon *self, GPtrArray *argv)
{
  g_ptr_array_add (argv, g_strdup (daemon_binary ()));
  if (self->mode == MD_TEST_DAEMON_LISTEN)
    g_ptr_array_add (argv, g_strdup_printf ("--listen=%s", self->address));
  g_ptr_array_add (argv, g_strdup_printf ("--state-directory=%s", self->state_dir));
  g_ptr_array_add (argv, g_strdup_printf ("--config=%s", self->config_path));
  g_ptr_array_add (argv, g_strdup ("--verbose"));
  for (guint i = 0; self->extra_args != NULL && i < self->extra_args->len; i++)
    g_ptr_array_add (argv, g_strdup (self->extra_args->pdata[i]));
}

void
md_test_daemon_add_arg (MdTestDaemon *self, const char *arg)
{
  if (self->extra_args == NULL)
    self->extra_args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->extra_args, g_strdup (arg));
}

static void
add_activate_args (MdTestDaemon *self, GPtrArray *argv)
{
  /* systemd-socket-activate gives its child a clean environment; these are
   * the variables the daemon and the test setup rely on. */
  const char *const pass[] = { "NOTIFY_SOCKET",   "LC_ALL",           "G_DEBUG",
                               "MALLOC_PERTURB_", "G_MESSAGES_DEBUG", "ASAN_OPTIONS",
                               "UBSAN_OPTIONS",   "LSAN_OPTIONS",     NULL };

  g_ptr_array_add (argv, g_strdup ("systemd-socket-activate"));
  g_ptr_array_add (argv, g_strdup ("--datagram"));
  g_ptr_array_add (argv, g_strdup_printf ("--listen=%s", self->address));
  for (guint i = 0; pass[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--setenv=%s", pass[i]));
}

/* LISTEN_PID must be the daemon's own pid, known only after fork: a shell sets
 * it and execs, so the pid stays the same (what systemd-socket-activate does). */
static void
add_held_args (GPtrArray *argv)
{
  g_ptr_array_add (argv, g_strdup ("/bin/sh"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("LISTEN_PID=$$; export LISTEN_PID; exec \"$@\""));
  g_ptr_array_add (argv, g_strdup ("sh"));
}

static GPtrArray *
daemon_argv (MdTestDaemon *self)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  if (self->mode == MD_TEST_DAEMON_SOCKET_ACTIVATE)
    add_activate_args (self, argv);
  else if (self->mode == MD_TEST_DAEMON_HELD)
    add_held_args (argv);
  add_daemon_args (self, argv);
  g_ptr_array_add (argv, NULL);
  return argv;
}

static gboolean spawn_daemon (MdTestDaemon *self, GError **error);

typedef struct
{
  MdTestDaemon *self;
  GSubprocess *process;
} ExitWatch;

static void
on_process_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  ExitWatch *watch = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = watch->process;
  MdTestDaemon *self = watch->self;

  g_free (watch);
  if (!g_subprocess_wait_finish (process, result, &error))
    return; /* cancelled: the harness is being freed */
  if (process != self->process)
    return;
  /* Its last words (STOPPING=1, a final STATUS=) were queued before it died. */
  for (guint i = 0; i < NOTIFY_MAX_PER_DISPATCH && receive_notify (self); i++)
    ;
  self->running = FALSE;
  self->last_wait_status = g_subprocess_get_status (process);
  g_test_message ("mydailyd pid %d ended, wait status %d", (int)self->pid, self->last_wait_status);
  if (self->auto_restart && !self->expect_exit && !spawn_daemon (self, &error))
    g_test_fail_printf ("auto-restart of mydailyd failed: %s", error->message);
}

static void
watch_exit (MdTestDaemon *self)
{
  ExitWatch *watch = g_new0 (ExitWatch, 1);

  watch->self = self;
  watch->process = g_object_ref (self->process);
  g_subprocess_wait_async (self->process, self->cancellable, on_process_exited, watch);
}

static gboolean
spawn_daemon (MdTestDaemon *self, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = daemon_launcher (self, error);
  g_autoptr (GPtrArray) argv = daemon_argv (self);
  GSubprocess *process;

  if (launcher == NULL)
    return FALSE;
  self->log_offset = file_size (self->log_path);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  if (process == NULL)
    return FALSE;
  g_clear_object (&self->process);
  self->process = process;
  self->pid = (pid_t)g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  self->running = TRUE;
  self->ready = FALSE;
  self->stopping = FALSE;
  self->expect_exit = FALSE;
  self->start_count++;
  watch_exit (self);
  g_test_message ("started mydailyd (%s) pid %d on %s in %s", md_test_daemon_mode_name (self->mode),
                  (int)self->pid, self->address, self->root);
  return TRUE;
}

static gboolean
is_ready_or_gone (gpointer data)
{
  MdTestDaemon *self = data;

  return self->ready || !self->running;
}

static gboolean
is_gone (gpointer data)
{
  MdTestDaemon *self = data;

  return !self->running;
}

static void
send_ping (int fd, guint16 port, guint16 message_id)
{
  /* An empty CON message (a CoAP ping): the daemon answers RST and stores
   * nothing, so it is a harmless first datagram to activate it with. */
  guint8 ping[4] = { 0x40, 0x00, message_id >> 8, message_id & 0xff };
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (sendto (fd, ping, sizeof ping, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof sin) < 0)
    g_test_message ("ping to %u: %s", port, g_strerror (errno));
}

/* systemd-socket-activate starts mydailyd on the first datagram, and only
 * after it has bound the port: ping with CoAP-style backoff until READY=1. */
static void
activate_and_wait (MdTestDaemon *self)
{
  gint64 deadline = g_get_monotonic_time () + START_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  guint interval_ms = 50;
  guint16 unused_port;
  int fd = bind_loopback_udp (0, &unused_port, NULL);

  for (guint i = 0; i < 200 && !is_ready_or_gone (self); i++)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;

      if (left_ms <= 0)
        break;
      if (fd >= 0)
        send_ping (fd, self->port, (guint16)(0x7700 + i));
      md_test_pump_until (is_ready_or_gone, self, MIN ((gint64)interval_ms, left_ms));
      interval_ms = MIN (interval_ms * 2, 1000);
    }
  if (fd >= 0)
    close (fd);
}

static char *
describe_wait_status (int status)
{
  if (status < 0)
    return g_strdup ("still runs");
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("was killed by signal %d (%s)", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("ended with wait status %d", status);
}

static gboolean
wait_ready (MdTestDaemon *self, GError **error)
{
  g_autofree char *log = NULL;
  g_autofree char *how = NULL;
  g_autofree char *ended = NULL;

  if (self->mode == MD_TEST_DAEMON_SOCKET_ACTIVATE)
    activate_and_wait (self);
  else
    md_test_pump_until (is_ready_or_gone, self, START_TIMEOUT_MS);
  if (self->ready)
    return TRUE;
  log = read_log_from (self, self->log_offset);
  if (self->running)
    how = g_strdup_printf ("sent no READY=1 within %d s", START_TIMEOUT_MS / 1000);
  else
    {
      ended = describe_wait_status (self->last_wait_status);
      how = g_strdup_printf ("%s before sending READY=1", ended);
    }
  g_set_error (error, G_IO_ERROR,
               strstr (log, "Address already in use") ? G_IO_ERROR_ADDRESS_IN_USE
                                                      : G_IO_ERROR_FAILED,
               "mydailyd (%s mode, %s) %s; its stderr:\n%s", md_test_daemon_mode_name (self->mode),
               self->address, how, log);
  return FALSE;
}

static gboolean
start_once (MdTestDaemon *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (!self->running, FALSE);
  if (!spawn_daemon (self, error))
    return FALSE;
  if (wait_ready (self, &local_error))
    return TRUE;
  if (self->running)
    {
      /* Not ready in time: do not leave it behind. */
      self->expect_exit = TRUE;
      kill (self->pid, SIGKILL);
      md_test_pump_until (is_gone, self, KILL_TIMEOUT_MS);
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
start_on_new_port (MdTestDaemon *self, GError **error)
{
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      guint16 port = md_test_free_udp_port (error);

      if (port == 0)
        return FALSE;
      set_port (self, port);
      if (start_once (self, &local_error))
        return TRUE;
      /* Someone took the port between our probe and the daemon's bind. */
      if (attempt >= START_ATTEMPTS
          || !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_test_message ("port %u was taken, trying another", port);
    }
}

gboolean
md_test_daemon_start (MdTestDaemon *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (self->mode == MD_TEST_DAEMON_HELD)
    return start_once (self, error);
  return start_on_new_port (self, error);
}

gboolean
md_test_daemon_restart (MdTestDaemon *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  if (self->running && !md_test_daemon_stop (self, error))
    return FALSE;
  if (self->mode == MD_TEST_DAEMON_HELD || self->port == 0)
    return md_test_daemon_start (self, error);
  if (start_once (self, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_test_message ("port %u was taken while stopped, moving", self->port);
  return start_on_new_port (self, error);
}

gboolean
md_test_daemon_wait_exit (MdTestDaemon *self, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (md_test_pump_until (is_gone, self, timeout_ms))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "mydailyd pid %d still runs after %u ms",
               (int)self->pid, timeout_ms);
  return FALSE;
}

void
md_test_daemon_signal (MdTestDaemon *self, int signum)
{
  g_return_if_fail (self != NULL);

  if (self->running)
    kill (self->pid, signum);
}

gboolean
md_test_daemon_kill (MdTestDaemon *self, int signum, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->running)
    return TRUE;
  self->expect_exit = TRUE;
  kill (self->pid, signum);
  return md_test_daemon_wait_exit (self, KILL_TIMEOUT_MS, error);
}

gboolean
md_test_daemon_stop (MdTestDaemon *self, GError **error)
{
  g_autofree char *how = NULL;
  g_autofree char *log = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  if (!self->running)
    return TRUE;
  self->expect_exit = TRUE;
  kill (self->pid, SIGTERM);
  if (!md_test_daemon_wait_exit (self, STOP_TIMEOUT_MS, error))
    {
      kill (self->pid, SIGKILL);
      md_test_pump_until (is_gone, self, KILL_TIMEOUT_MS);
      return FALSE;
    }
  if (WIFEXITED (self->last_wait_status) && WEXITSTATUS (self->last_wait_status) == 0)
    return TRUE;
  how = describe_wait_status (self->last_wait_status);
  log = read_log_from (self, self->log_offset);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "mydailyd %s after SIGTERM; its stderr:\n%s",
               how, log);
  return FALSE;
}

void
md_test_daemon_set_auto_restart (MdTestDaemon *self, gboolean auto_restart)
{
  g_return_if_fail (self != NULL);
  self->auto_restart = auto_restart;
}

/* ---- construction ---- */

static void
make_paths (MdTestDaemon *self)
{
  self->state_dir = g_build_filename (self->root, "state", NULL);
  self->notes_path = g_build_filename (self->state_dir, "notes", NULL);
  self->notify_path = g_build_filename (self->root, "notify", NULL);
  self->log_path = g_build_filename (self->root, "mydailyd.log", NULL);
  self->config_path = g_build_filename (self->root, "mydailyd.conf", NULL);
}

static gboolean
prepare_root (MdTestDaemon *self, GError **error)
{
  self->root = g_dir_make_tmp ("mydaily-test-XXXXXX", error);
  if (self->root == NULL)
    return FALSE;
  make_paths (self);
  if (g_mkdir (self->state_dir, 0700) != 0)
    {
      set_errno_error (error, errno, self->state_dir);
      return FALSE;
    }
  return g_file_set_contents (self->config_path, "[daemon]\nverbose=true\n", -1, error)
         && open_notify_socket (self, error);
}

static gboolean
hold_socket (MdTestDaemon *self, GError **error)
{
  guint16 port = 0;

  self->held_fd = bind_loopback_udp (0, &port, error);
  if (self->held_fd < 0)
    return FALSE;
  set_port (self, port);
  return TRUE;
}

MdTestDaemon *
md_test_daemon_new (MdTestDaemonMode mode)
{
  g_autoptr (MdTestDaemon) self = g_new0 (MdTestDaemon, 1);
  g_autoptr (GError) error = NULL;

  self->mode = mode;
  self->held_fd = -1;
  self->last_wait_status = -1;
  self->cancellable = g_cancellable_new ();
  if (!prepare_root (self, &error) || (mode == MD_TEST_DAEMON_HELD && !hold_socket (self, &error)))
    g_error ("test daemon setup: %s", error->message);
  return g_steal_pointer (&self);
}

static void
kill_for_good (MdTestDaemon *self)
{
  self->auto_restart = FALSE;
  self->expect_exit = TRUE;
  kill (self->pid, SIGKILL);
  if (!md_test_pump_until (is_gone, self, KILL_TIMEOUT_MS))
    g_test_message ("mydailyd pid %d survived SIGKILL", (int)self->pid);
}

void
md_test_daemon_free (MdTestDaemon *self)
{
  if (self == NULL)
    return;
  if (self->running)
    kill_for_good (self);
  g_cancellable_cancel (self->cancellable);
  if (self->notify_source != NULL)
    g_source_destroy (self->notify_source);
  g_clear_pointer (&self->notify_source, g_source_unref);
  g_clear_object (&self->notify_socket);
  if (self->held_fd >= 0)
    close (self->held_fd);
  /* Keep the evidence of a failed test for the person debugging it. */
  if (self->root != NULL && g_test_failed () && g_getenv ("MD_TEST_KEEP") != NULL)
    g_test_message ("kept %s", self->root);
  else if (self->root != NULL)
    remove_tree (self->root, 0);
  g_clear_object (&self->process);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->extra_args, g_ptr_array_unref);
  g_free (self->root);
  g_free (self->state_dir);
  g_free (self->notes_path);
  g_free (self->notify_path);
  g_free (self->log_path);
  g_free (self->config_path);
  g_free (self->address);
  g_free (self->status);
  g_free (self);
}

gboolean
md_test_daemon_is_running (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->running;
}

guint
md_test_daemon_get_start_count (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->start_count;
}

int
md_test_daemon_get_last_wait_status (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, -1);
  return self->last_wait_status;
}

const char *
md_test_daemon_get_address (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->address;
}

guint16
md_test_daemon_get_port (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->port;
}

const char *
md_test_daemon_get_state_dir (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->state_dir;
}

const char *
md_test_daemon_get_notes_path (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->notes_path;
}

const char *
md_test_daemon_get_status (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->status;
}

gboolean
md_test_daemon_get_stopping (MdTestDaemon *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->stopping;
}

gssize
md_test_daemon_get_queued_bytes (MdTestDaemon *self)
{
  int queued = 0;

  g_return_val_if_fail (self != NULL, -1);
  if (self->held_fd < 0 || ioctl (self->held_fd, FIONREAD, &queued) != 0)
    return -1;
  return queued;
}
