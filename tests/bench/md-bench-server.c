/* A server under measurement, run as its own process on 127.0.0.1: mydailyd,
 * coap-server-notls or md-bench-responder.  Start-up waits for readiness
 * (READY=1 from mydailyd, an answered CoAP ping from the others), never for a
 * fixed time; every wait is bounded and also ends when the process dies. */
#include "config.h"

#include "md-bench.h"

#include "md-error.h"
#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Generous: mydailyd opens a million notes first, on a busy machine. */
#define START_TIMEOUT_MS (60 * 1000)
#define STOP_TIMEOUT_MS (20 * 1000)
#define KILL_TIMEOUT_MS (5 * 1000)
#define PING_INTERVAL_MS 10
#define MAX_WAKEUPS 100000

struct _MdBenchServer
{
  char *name;
  char *log_path;
  GPid pid;
  int pidfd;
  gboolean running;
  int wait_status;
  char *notify_path;
  int ready_fd; /* the notify socket, or the socket that pings */
  guint16 port;
  double start_seconds;
};

static int
notify_socket (const char *path, GError **error)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  if (fd < 0 || bind (fd, (struct sockaddr *)&sun, sizeof sun) < 0)
    {
      md_error_set_errno (error, errno, "notify socket");
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

static int
ping_socket (GError **error)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0)
    md_error_set_errno (error, errno, "ping socket");
  return fd;
}

static char **
child_environment (const MdBenchServer *self)
{
  char **envp = g_get_environ ();

  if (self->notify_path != NULL)
    envp = g_environ_setenv (envp, "NOTIFY_SOCKET", self->notify_path, TRUE);
  return envp;
}

static gboolean
spawn (MdBenchServer *self, const char *const *argv, GError **error)
{
  g_auto (GStrv) envp = child_environment (self);
  int log_fd = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  gboolean ok;

  if (log_fd < 0)
    {
      md_error_set_errno (error, errno, self->log_path);
      return FALSE;
    }
  ok = g_spawn_async_with_pipes_and_fds (NULL, argv, (const char *const *)envp,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                         md_test_die_with_parent, NULL, -1, log_fd, log_fd, NULL,
                                         NULL, 0, &self->pid, NULL, NULL, NULL, error);
  close (log_fd);
  if (!ok)
    return FALSE;
  self->running = TRUE;
  self->pidfd = pidfd_open (self->pid, 0);
  if (self->pidfd < 0)
    {
      md_error_set_errno (error, errno, "pidfd_open");
      return FALSE;
    }
  return TRUE;
}

static void
send_ping (MdBenchServer *self, guint16 mid)
{
  guint8 ping[4] = { 0x40, 0x00, mid >> 8, mid & 0xff };
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (self->port) };

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* Before the server binds, the datagram is simply lost: the next one
   * follows PING_INTERVAL_MS later. */
  sendto (self->ready_fd, ping, sizeof ping, 0, (struct sockaddr *)&sin, sizeof sin);
}

/* TRUE when what waits on ready_fd says the server serves. */
static gboolean
read_readiness (MdBenchServer *self)
{
  char buf[4096];
  gssize n = recv (self->ready_fd, buf, sizeof buf - 1, 0);

  if (n < 0)
    return FALSE;
  if (self->notify_path == NULL)
    return TRUE; /* any answer to a ping */
  buf[n] = '\0';
  return strncmp (buf, "READY=1", 7) == 0 || strstr (buf, "\nREADY=1") != NULL;
}

/* Nobody reads the notify socket once the server is ready, and mydailyd's
 * STATUS= updates would fill it (net.unix.max_dgram_qlen, often 10) and
 * block the daemon in sd_notify: take it away, so they fail at once. */
static void
stop_listening (MdBenchServer *self)
{
  if (self->notify_path != NULL)
    g_unlink (self->notify_path);
  if (self->ready_fd >= 0)
    close (self->ready_fd);
  self->ready_fd = -1;
}

static gboolean
fail_exited (MdBenchServer *self, const char *what, GError **error)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "%s %s (see %s)", self->name, what,
               self->log_path);
  return FALSE;
}

static gboolean
wait_ready (MdBenchServer *self, gint64 start_us, GError **error)
{
  gint64 deadline = start_us + START_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  for (guint i = 0; i < MAX_WAKEUPS; i++)
    {
      struct pollfd fds[2] = { { self->ready_fd, POLLIN, 0 }, { self->pidfd, POLLIN, 0 } };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;

      if (left_ms <= 0)
        break;
      if (self->notify_path == NULL)
        send_ping (self, (guint16)i);
      if (poll (fds, 2, self->notify_path == NULL ? PING_INTERVAL_MS : (int)left_ms) < 0
          && errno != EINTR)
        break;
      if (fds[1].revents != 0)
        return fail_exited (self, "exited before it was ready", error);
      if (fds[0].revents != 0 && read_readiness (self))
        {
          self->start_seconds = md_bench_seconds_since (start_us);
          stop_listening (self);
          return TRUE;
        }
    }
  return fail_exited (self, "was not ready in time", error);
}

MdBenchServer *
md_bench_server_start (const char *name, const char *const *argv, guint16 port,
                       MdBenchReadiness readiness, const char *log_path, GError **error)
{
  g_autoptr (MdBenchServer) self = g_new0 (MdBenchServer, 1);
  gint64 start;

  g_return_val_if_fail (name != NULL && argv != NULL && log_path != NULL, NULL);

  self->name = g_strdup (name);
  self->log_path = g_strdup (log_path);
  self->port = port;
  self->pidfd = -1;
  self->ready_fd = -1;
  if (readiness == MD_BENCH_READY_NOTIFY)
    {
      self->notify_path = g_strconcat (log_path, ".notify", NULL);
      g_unlink (self->notify_path);
      self->ready_fd = notify_socket (self->notify_path, error);
    }
  else if (readiness == MD_BENCH_READY_PING)
    self->ready_fd = ping_socket (error);
  if (self->ready_fd < 0 && readiness != MD_BENCH_READY_NONE)
    return NULL;
  start = g_get_monotonic_time ();
  if (!spawn (self, argv, error))
    return NULL;
  if (readiness != MD_BENCH_READY_NONE && !wait_ready (self, start, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Polls the pidfd, then reaps: TRUE once the process is gone. */
static gboolean
wait_exit (MdBenchServer *self, int timeout_ms)
{
  struct pollfd fd = { self->pidfd, POLLIN, 0 };
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (guint i = 0; i < MAX_WAKEUPS && self->running; i++)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;

      if (left_ms <= 0 || (poll (&fd, 1, (int)left_ms) < 0 && errno != EINTR))
        break;
      if (fd.revents != 0 && waitpid (self->pid, &self->wait_status, WNOHANG) == self->pid)
        self->running = FALSE;
    }
  return !self->running;
}

gboolean
md_bench_server_stop (MdBenchServer *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->running)
    return TRUE;
  kill (self->pid, SIGTERM);
  if (wait_exit (self, STOP_TIMEOUT_MS))
    return TRUE;
  kill (self->pid, SIGKILL);
  wait_exit (self, KILL_TIMEOUT_MS);
  return fail_exited (self, "did not stop on SIGTERM", error);
}

void
md_bench_server_free (MdBenchServer *self)
{
  if (self == NULL)
    return;
  if (self->running)
    md_bench_server_stop (self, NULL);
  if (self->pid > 0)
    g_spawn_close_pid (self->pid);
  if (self->pidfd >= 0)
    close (self->pidfd);
  stop_listening (self);
  g_free (self->notify_path);
  g_free (self->log_path);
  g_free (self->name);
  g_free (self);
}

GPid
md_bench_server_get_pid (const MdBenchServer *self)
{
  return self->pid;
}

guint16
md_bench_server_get_port (const MdBenchServer *self)
{
  return self->port;
}

double
md_bench_server_get_start_seconds (const MdBenchServer *self)
{
  return self->start_seconds;
}

/* -1 while it runs. */
int
md_bench_server_get_wait_status (const MdBenchServer *self)
{
  return self->running ? -1 : self->wait_status;
}

guint64
md_bench_server_get_status_bytes (const MdBenchServer *self, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int)self->pid);

  return md_bench_proc_status_bytes (path, field);
}

/* ---- the servers the benchmark runs ----------------------------------------- */

/* Not --verbose, and an empty config rather than the machine's: the daemon as
 * it runs in production, logging one line per stored note to RUN_DIR. */
MdBenchServer *
md_bench_server_start_mydailyd (const char *state_dir, const char *run_dir, GError **error)
{
  g_autofree char *config = g_build_filename (run_dir, "mydailyd.conf", NULL);
  g_autofree char *log = g_build_filename (run_dir, "mydailyd.log", NULL);
  g_autofree char *listen = NULL;
  g_autofree char *state = g_strdup_printf ("--state-directory=%s", state_dir);
  g_autofree char *config_arg = g_strdup_printf ("--config=%s", config);
  guint16 port = md_test_free_udp_port (error);

  if (port == 0 || !g_file_set_contents (config, "", 0, error))
    return NULL;
  listen = g_strdup_printf ("--listen=127.0.0.1:%u", port);
  {
    const char *const argv[] = { g_getenv ("MYDAILYD"), listen, state, config_arg, NULL };

    return md_bench_server_start ("mydailyd", argv, port, MD_BENCH_READY_NOTIFY, log, error);
  }
}

MdBenchServer *
md_bench_server_start_responder (const char *run_dir, GError **error)
{
  g_autofree char *log = g_build_filename (run_dir, "responder.log", NULL);
  guint16 port = md_test_free_udp_port (error);
  char port_arg[8];

  if (port == 0)
    return NULL;
  g_snprintf (port_arg, sizeof port_arg, "%u", port);
  {
    const char *const argv[] = { g_getenv ("MD_BENCH_RESPONDER"), port_arg, NULL };

    return md_bench_server_start ("md-bench-responder", argv, port, MD_BENCH_READY_PING, log,
                                  error);
  }
}

/* libcoap's example server keeps the last PUT to /example_data in memory. */
MdBenchServer *
md_bench_server_start_libcoap (const char *run_dir, GError **error)
{
  g_autofree char *log = g_build_filename (run_dir, "coap-server.log", NULL);
  guint16 port = md_test_free_udp_port (error);
  char port_arg[8];

  if (port == 0)
    return NULL;
  g_snprintf (port_arg, sizeof port_arg, "%u", port);
  {
    const char *const argv[] = { MD_BENCH_LIBCOAP_SERVER, "-A", "127.0.0.1", "-p", port_arg, NULL };

    return md_bench_server_start (MD_BENCH_LIBCOAP_SERVER, argv, port, MD_BENCH_READY_PING, log,
                                  error);
  }
}

/* utime + stime of every thread, from /proc/PID/stat; 0 if unreadable. */
double
md_bench_server_get_cpu_seconds (const MdBenchServer *self)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)self->pid);
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  /* The command name may hold spaces; the fields after it do not. */
  after_name = strrchr (stat, ')');
  if (after_name == NULL)
    return 0;
  fields = g_strsplit (after_name + 2, " ", 0);
  /* Fields 14 and 15 of proc(5), counted from the state (field 3). */
  if (g_strv_length (fields) < 13)
    return 0;
  return (double)(g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10))
         / (double)sysconf (_SC_CLK_TCK);
}
