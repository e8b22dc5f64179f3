#include "config.h"

/* setns () is a GNU extension in glibc's headers; config.h includes no
 * system header, so this still comes first. */
#define _GNU_SOURCE

#include "md-capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "md-test-daemon.h"

#define START_TIMEOUT_MS 20000
#define SYNC_ATTEMPTS 40
#define SYNC_WAIT_MS 500
#define STOP_TIMEOUT_MS 15000
#define READ_TIMEOUT_MS 60000
#define FIRST_PING_MID 0xc000
/* Wireshark's expert group and severity values (epan/proto.h). */
#define PI_MALFORMED 0x07000000
#define PI_WARN 0x00600000

struct _MdCapture
{
  char *path;
  char *netns; /* NULL: this process's namespace */
  char *iface;
  struct in_addr ping_address;
  guint16 ping_port;
  int ping_fd;
  guint16 ping_local_port;
  guint16 next_ping_mid;
  GSubprocess *tshark;
  GDataInputStream *stderr_lines;
  GCancellable *cancellable;
  GString *log; /* tshark's stderr */
  gboolean capturing;
  gboolean exited;
};

gboolean
md_capture_available (char **reason)
{
  g_autofree char *tool = g_find_program_in_path (MD_CAPTURE_TSHARK);

  if (tool == NULL)
    *reason = g_strdup ("tshark is not installed (Debian: tshark)");
  else if (geteuid () != 0)
    *reason = g_strdup ("capturing on lo needs root");
  return tool != NULL && geteuid () == 0;
}

/* Enters network namespace @name (ip netns's), or with NULL the one of
 * @back; returns a handle on the one it left.  A socket stays in the
 * namespace it was made in. */
static int
enter_netns (const char *name, int back)
{
  g_autofree char *path = g_build_filename ("/run/netns", name, NULL);
  int here = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int there = name != NULL ? open (path, O_RDONLY | O_CLOEXEC) : back;

  g_assert_cmpint (here, >=, 0);
  g_assert_cmpint (there, >=, 0);
  g_assert_cmpint (setns (there, CLONE_NEWNET), ==, 0);
  close (there);
  return here;
}

static int
ping_socket (const char *netns, guint16 *local_port)
{
  int home = netns != NULL ? enter_netns (netns, -1) : -1;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;

  if (home >= 0)
    close (enter_netns (NULL, home));
  g_assert_cmpint (fd, >=, 0);
  /* In a namespace of its own the daemon is on another host of the LAN. */
  sin.sin_addr.s_addr = htonl (netns != NULL ? INADDR_ANY : INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&sin, &len), ==, 0);
  *local_port = ntohs (sin.sin_port);
  return fd;
}

MdCapture *
md_capture_new (const char *dir, guint16 ping_port)
{
  return md_capture_new_in_netns (dir, NULL, "lo", "127.0.0.1", ping_port);
}

MdCapture *
md_capture_new_in_netns (const char *dir, const char *netns, const char *iface,
                         const char *ping_address, guint16 ping_port)
{
  MdCapture *self = g_new0 (MdCapture, 1);

  self->path = g_build_filename (dir, "capture.pcapng", NULL);
  self->netns = g_strdup (netns);
  self->iface = g_strdup (iface);
  g_assert_cmpint (inet_pton (AF_INET, ping_address, &self->ping_address), ==, 1);
  self->ping_port = ping_port;
  self->ping_fd = ping_socket (netns, &self->ping_local_port);
  self->next_ping_mid = FIRST_PING_MID;
  self->cancellable = g_cancellable_new ();
  self->log = g_string_new (NULL);
  return self;
}

static gboolean
tshark_is_gone (gpointer data)
{
  return ((MdCapture *)data)->exited;
}

void
md_capture_free (MdCapture *self)
{
  if (self == NULL)
    return;
  if (self->tshark != NULL && !self->exited)
    {
      g_subprocess_force_exit (self->tshark);
      md_test_pump_until (tshark_is_gone, self, STOP_TIMEOUT_MS);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->stderr_lines);
  g_clear_object (&self->tshark);
  g_object_unref (self->cancellable);
  close (self->ping_fd);
  g_string_free (self->log, TRUE);
  g_free (self->netns);
  g_free (self->iface);
  g_free (self->path);
  g_free (self);
}

const char *
md_capture_get_path (MdCapture *self)
{
  return self->path;
}

guint16
md_capture_get_ping_port (MdCapture *self)
{
  return self->ping_local_port;
}

/* ---- tshark's stderr ---------------------------------------------------- */

static void read_next_line (MdCapture *self);

static void
on_line (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);
  MdCapture *self = data;

  if (line == NULL)
    return; /* EOF, or cancelled (then self may be gone) */
  g_string_append_printf (self->log, "%s\n", line);
  self->capturing |= g_str_has_prefix (line, "Capturing on ");
  read_next_line (self);
}

static void
read_next_line (MdCapture *self)
{
  g_data_input_stream_read_line_async (self->stderr_lines, G_PRIORITY_DEFAULT, self->cancellable,
                                       on_line, self);
}

static void
on_tshark_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  MdCapture *self = data;

  if (g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL))
    self->exited = TRUE;
}

static gboolean
is_capturing_or_gone (gpointer data)
{
  MdCapture *self = data;

  return self->capturing || self->exited;
}

/* ---- knowing what tshark has written ------------------------------------ */

/* An empty CON (a CoAP ping): the daemon answers RST with the same Message ID. */
static void
send_ping (MdCapture *self)
{
  guint16 mid = self->next_ping_mid++;
  guint8 ping[4] = { 0x40, 0x00, mid >> 8, mid & 0xff };
  struct sockaddr_in sin = { .sin_family = AF_INET };

  sin.sin_port = htons (self->ping_port);
  sin.sin_addr = self->ping_address;
  if (sendto (self->ping_fd, ping, sizeof ping, 0, (struct sockaddr *)&sin, sizeof sin) < 0)
    g_test_message ("ping: %s", g_strerror (errno));
}

typedef struct
{
  MdCapture *self;
  guint16 first_mid; /* any RST from first_mid on counts */
  guint16 last_mid;
} SyncWait;

/* The daemon's RST for one of our pings, UDP header included: ports the
 * daemon's and ours, UDP length 12, then 0x70 0x00 MID. */
static gboolean
is_reset_at (const guint8 *p, const SyncWait *w)
{
  guint16 from = w->self->ping_port, to = w->self->ping_local_port;
  guint16 mid = (guint16)(p[10] << 8 | p[11]);

  return p[0] == from >> 8 && p[1] == (from & 0xff) && p[2] == to >> 8 && p[3] == (to & 0xff)
         && p[4] == 0 && p[5] == 12 && p[8] == 0x70 && p[9] == 0x00
         && (guint16)(mid - w->first_mid) <= (guint16)(w->last_mid - w->first_mid);
}

static gboolean
capture_has_reset (gpointer data)
{
  SyncWait *w = data;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (w->self->exited)
    return TRUE;
  if (!g_file_get_contents (w->self->path, &contents, &len, NULL))
    return FALSE;
  for (gsize i = 0; i + 12 <= len; i++)
    if (is_reset_at ((const guint8 *)contents + i, w))
      return TRUE;
  return FALSE;
}

/* Pings until the answer to one is in the capture file.  The file has no
 * event to wait on, so it is re-read every 20 ms. */
static gboolean
try_sync (MdCapture *self)
{
  SyncWait w = { self, self->next_ping_mid, self->next_ping_mid };

  for (guint i = 0; i < SYNC_ATTEMPTS && !self->exited; i++)
    {
      w.last_mid = self->next_ping_mid;
      send_ping (self);
      if (md_test_poll_until (capture_has_reset, &w, 20, SYNC_WAIT_MS))
        return !self->exited;
    }
  return FALSE;
}

void
md_capture_sync (MdCapture *self)
{
  if (!try_sync (self))
    g_error ("the capture did not catch up: %s", self->log->str);
}

/* ---- starting and stopping ---------------------------------------------- */

char *
md_capture_filter_for (guint16 port)
{
  return g_strdup_printf ("udp and ((src host 127.0.0.1 and src port %u)"
                          " or (dst host 127.0.0.1 and dst port %u))",
                          port, port);
}

static void
spawn_tshark (MdCapture *self, const char *filter)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  g_auto (GStrv) args = NULL;
  g_autoptr (GError) error = NULL;

  /* ip netns exec execs tshark: the child is tshark itself, for SIGINT. */
  if (self->netns != NULL)
    g_strv_builder_addv (argv, (const char *[]){ "ip", "netns", "exec", self->netns, NULL });
  g_strv_builder_addv (argv, (const char *[]){ MD_CAPTURE_TSHARK, "-i", self->iface, "-f", filter,
                                               "-w", self->path, NULL });
  args = g_strv_builder_end (argv);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  self->tshark = g_subprocess_launcher_spawnv (launcher, (const char *const *)args, &error);
  g_assert_no_error (error);
  self->stderr_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (self->tshark));
  read_next_line (self);
  g_subprocess_wait_async (self->tshark, self->cancellable, on_tshark_exited, self);
}

gboolean
md_capture_start (MdCapture *self, const char *filter, char **reason)
{
  g_return_val_if_fail (self->tshark == NULL, FALSE);

  spawn_tshark (self, filter);
  if (md_test_pump_until (is_capturing_or_gone, self, START_TIMEOUT_MS) && !self->exited
      && try_sync (self))
    return TRUE;
  /* Root without capture rights (a restricted container) is not our bug;
   * any other failure to capture is, and must not pass as a skip. */
  if (strstr (self->log->str, "ermission") == NULL
      && strstr (self->log->str, "not permitted") == NULL)
    g_error ("tshark did not capture on %s: %s", self->iface, self->log->str);
  *reason = g_strdup_printf ("tshark may not capture on %s here: %s", self->iface, self->log->str);
  return FALSE;
}

void
md_capture_stop (MdCapture *self)
{
  md_capture_sync (self);
  g_subprocess_send_signal (self->tshark, SIGINT);
  if (!md_test_pump_until (tshark_is_gone, self, STOP_TIMEOUT_MS))
    {
      g_subprocess_force_exit (self->tshark);
      g_test_fail_printf ("tshark did not stop within %u ms", STOP_TIMEOUT_MS);
    }
}

/* ---- reading the capture back ------------------------------------------- */

static GStrv
read_argv (MdCapture *self, const char *const *args, const char *const *fields)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const char *const head[] = { MD_CAPTURE_TSHARK, "-r", self->path, NULL };
  const char *const format[]
      = { "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;", NULL };

  g_strv_builder_addv (builder, (const char **)head);
  g_strv_builder_addv (builder, (const char **)args);
  g_strv_builder_addv (builder, (const char **)format);
  for (guint i = 0; fields[i] != NULL; i++)
    {
      g_strv_builder_add (builder, "-e");
      g_strv_builder_add (builder, fields[i]);
    }
  return g_strv_builder_end (builder);
}

GPtrArray *
md_capture_read (MdCapture *self, const char *const *args, const char *const *fields)
{
  g_auto (GStrv) argv = read_argv (self, args, fields);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = md_test_command_spawn ((const char *const *)argv, NULL, &error);
  g_autoptr (MdTestCtlResult) r = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);

  g_assert_no_error (error);
  r = md_test_ctl_wait (run, READ_TIMEOUT_MS);
  if (r->exit_status != 0)
    g_test_message ("tshark -r: %s", r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  lines = g_strsplit (r->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_ptr_array_add (frames, g_strsplit (lines[i], "\t", -1));
      g_assert_cmpuint (g_strv_length (g_ptr_array_index (frames, frames->len - 1)), ==,
                        g_strv_length ((GStrv)fields));
    }
  return frames;
}

guint
md_capture_check_experts (const char *frame, const char *messages, const char *groups,
                          const char *severities)
{
  return md_capture_check_experts_but (frame, messages, groups, severities, NULL);
}

guint
md_capture_check_experts_but (const char *frame, const char *messages, const char *groups,
                              const char *severities, const char *tolerated)
{
  g_auto (GStrv) m = g_strsplit (messages, ";", -1);
  g_auto (GStrv) g = g_strsplit (groups, ";", -1);
  g_auto (GStrv) s = g_strsplit (severities, ";", -1);
  guint n = g_strv_length (m), echo_unknown = 0;

  g_assert_cmpuint (g_strv_length (g), ==, n);
  g_assert_cmpuint (g_strv_length (s), ==, n);
  for (guint i = 0; i < n && *m[i] != '\0'; i++)
    {
      guint64 group = g_ascii_strtoull (g[i], NULL, 10);
      guint64 severity = g_ascii_strtoull (s[i], NULL, 10);

      if (g_str_equal (m[i], MD_CAPTURE_ECHO_UNKNOWN))
        echo_unknown++;
      else if (tolerated != NULL && g_str_equal (m[i], tolerated))
        g_test_message ("frame %s: tshark says \"%s\" (tolerated)", frame, m[i]);
      else if (group == PI_MALFORMED || severity >= PI_WARN)
        g_test_fail_printf ("frame %s: tshark says \"%s\"", frame, m[i]);
      else
        g_test_message ("frame %s: tshark notes \"%s\"", frame, m[i]);
    }
  return echo_unknown;
}
