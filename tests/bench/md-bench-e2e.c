/* Notes added through the real mydailyd by real mydailyctl processes, against
 * bare UDP round trips on loopback and bare append+fdatasync on the same file
 * system: what the daemon costs on top of the network and the disk. */
#include "config.h"

#include "md-bench.h"

#include "md-error.h"
#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* About a PUT /notes/KEY with a short note. */
#define ECHO_DATAGRAM_SIZE 120
#define ECHO_WAIT_MS 1000
#define ECHO_POLL_MS 100
#define CTL_TIMEOUT_MS (10 * 60 * 1000)
#define BENCH_SEED 20261125

/* ---- reference 1: UDP round trips to a trivial echo ------------------------ */

typedef struct
{
  int fd;
  gint stop;
} Echo;

static int
loopback_socket (guint timeout_ms, struct sockaddr_in *bound, GError **error)
{
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || bind (fd, (struct sockaddr *)&sin, sizeof sin) < 0
      || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
      || getsockname (fd, (struct sockaddr *)bound, &len) < 0)
    {
      md_error_set_errno (error, errno, "loopback UDP socket");
      if (fd >= 0)
        close (fd);
      return -1;
    }
  return fd;
}

/* Echoes until told to stop; each wait is bounded by the socket timeout. */
static gpointer
echo_thread (gpointer data)
{
  Echo *echo = data;
  guint8 buf[2048];

  while (!g_atomic_int_get (&echo->stop))
    {
      struct sockaddr_in from;
      socklen_t len = sizeof from;
      gssize n = recvfrom (echo->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);

      if (n > 0)
        sendto (echo->fd, buf, (gsize)n, 0, (struct sockaddr *)&from, len);
    }
  return NULL;
}

static gboolean
round_trips (int fd, const struct sockaddr_in *to, guint n, GError **error)
{
  guint8 out[ECHO_DATAGRAM_SIZE] = { 0x40, 0x03 };
  guint8 in[ECHO_DATAGRAM_SIZE];

  for (guint i = 0; i < n; i++)
    {
      out[2] = (guint8)(i >> 8);
      out[3] = (guint8)i;
      if (sendto (fd, out, sizeof out, 0, (const struct sockaddr *)to, sizeof *to) < 0
          || recv (fd, in, sizeof in, 0) != sizeof out)
        {
          md_error_set_errno (error, errno, "echo round trip");
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct
{
  Echo echo;
  GThread *thread;
  struct sockaddr_in echo_address;
  int client_fd;
} EchoBench;

static gboolean
echo_bench_start (EchoBench *b, GError **error)
{
  struct sockaddr_in unused;

  b->echo.fd = loopback_socket (ECHO_POLL_MS, &b->echo_address, error);
  if (b->echo.fd < 0)
    return FALSE;
  b->client_fd = loopback_socket (ECHO_WAIT_MS, &unused, error);
  if (b->client_fd < 0)
    return FALSE;
  b->thread = g_thread_new ("md-bench-echo", echo_thread, &b->echo);
  return TRUE;
}

static void
echo_bench_stop (EchoBench *b)
{
  g_atomic_int_set (&b->echo.stop, 1);
  if (b->thread != NULL)
    g_thread_join (b->thread);
  if (b->echo.fd >= 0)
    close (b->echo.fd);
  if (b->client_fd >= 0)
    close (b->client_fd);
}

static gboolean
time_round_trips (EchoBench *b, guint n, double *seconds, GError **error)
{
  gint64 start = g_get_monotonic_time ();

  if (!round_trips (b->client_fd, &b->echo_address, n, error))
    return FALSE;
  *seconds = md_bench_seconds_since (start);
  return TRUE;
}

/* ---- reference 2: append + fdatasync, one note a sync --------------------- */

static gboolean
time_synced_appends (const char *directory, guint n, double *seconds, GError **error)
{
  g_autofree char *path = g_build_filename (directory, "bench-sync", NULL);
  const char line[]
      = "1\t2026-01-01T00:00:00Z\t-\t@127.0.0.1\tbackup disk swapped, next swap Friday\n";
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  gint64 start = g_get_monotonic_time ();
  gboolean ok = fd >= 0;

  for (guint i = 0; ok && i < n; i++)
    ok = write (fd, line, sizeof line - 1) == sizeof line - 1 && fdatasync (fd) == 0;
  *seconds = md_bench_seconds_since (start);
  if (!ok)
    md_error_set_errno (error, errno, "append and fdatasync");
  if (fd >= 0)
    close (fd);
  g_unlink (path);
  return ok;
}

/* ---- subject: mydailyctl add - -------------------------------------------- */

static GBytes *
note_lines (GRand *rand, guint n)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      md_bench_note_text (rand, text);
      g_string_append_c (text, '\n');
    }
  return g_string_free_to_bytes (text);
}

static gboolean
check_results (GPtrArray *results, GError **error)
{
  for (guint i = 0; i < results->len; i++)
    {
      MdTestCtlResult *r = results->pdata[i];

      if (r->exit_status != 0)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "mydailyctl add - exited %d: %s",
                       r->exit_status, r->err);
          return FALSE;
        }
    }
  return TRUE;
}

/* @n_clients run at once, each adding its share of @total lines. */
static gboolean
time_adds (MdTestDaemon *daemon, GRand *rand, guint total, guint n_clients, double *seconds,
           GError **error)
{
  const char *const argv[] = { "add", "-", NULL };
  g_autofree const char *const **argvs = g_new0 (const char *const *, n_clients);
  g_autoptr (GPtrArray) stdins = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  g_autoptr (GPtrArray) results = NULL;
  gint64 start;

  for (guint i = 0; i < n_clients; i++)
    {
      argvs[i] = argv;
      g_ptr_array_add (stdins, note_lines (rand, total / n_clients));
    }
  start = g_get_monotonic_time ();
  results = md_test_ctl_run_many (md_test_daemon_get_address (daemon), n_clients, argvs,
                                  (GBytes *const *)stdins->pdata, CTL_TIMEOUT_MS);
  *seconds = md_bench_seconds_since (start);
  return check_results (results, error);
}

/* ---- the run ---------------------------------------------------------------- */

typedef struct
{
  double *echo, *sync, *sequential, *concurrent;
} E2eTimes;

static gboolean
run_rounds (const MdBenchOptions *opts, MdTestDaemon *daemon, EchoBench *echo, E2eTimes *t,
            GError **error)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED);
  g_autofree char *root = g_path_get_dirname (md_test_daemon_get_state_dir (daemon));
  guint lines = opts->lines - opts->lines % opts->clients;

  for (guint r = 0; r < opts->rounds; r++)
    if (!time_round_trips (echo, lines, &t->echo[r], error)
        || !time_synced_appends (root, lines, &t->sync[r], error)
        || !time_adds (daemon, rand, lines, 1, &t->sequential[r], error)
        || !time_adds (daemon, rand, lines, opts->clients, &t->concurrent[r], error))
      return FALSE;
  return TRUE;
}

static gboolean
check_stored (const MdBenchOptions *opts, MdTestDaemon *daemon, GError **error)
{
  guint lines = opts->lines - opts->lines % opts->clients;
  guint64 expected = (guint64)opts->rounds * 2 * lines;
  g_autoptr (GPtrArray) records
      = md_test_read_notes (md_test_daemon_get_notes_path (daemon), NULL, error);

  if (records == NULL)
    return FALSE;
  if (records->len != expected)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "the daemon stored %u notes, expected %" G_GUINT64_FORMAT, records->len,
                   expected);
      return FALSE;
    }
  return TRUE;
}

static void
report_e2e (const MdBenchOptions *opts, E2eTimes *t)
{
  guint lines = opts->lines - opts->lines % opts->clients;
  double echo_rate = lines / md_bench_median (t->echo, opts->rounds);
  double sync_rate = lines / md_bench_median (t->sync, opts->rounds);
  double seq_rate = lines / md_bench_median (t->sequential, opts->rounds);
  double conc_rate = lines / md_bench_median (t->concurrent, opts->rounds);
  g_autofree char *conc_name = g_strdup_printf ("add-concurrent-%u", opts->clients);

  md_bench_report_reference ("udp-round-trip", echo_rate, "round trips/s");
  md_bench_report_reference ("append-fdatasync", sync_rate, "syncs/s");
  md_bench_report ("add-sequential", seq_rate, "adds/s", echo_rate / seq_rate, "udp-round-trip",
                   "time per add / time per bare UDP round trip");
  md_bench_report ("add-sequential-sync", seq_rate, "adds/s", sync_rate / seq_rate,
                   "append-fdatasync", "time per add / time per bare append+fdatasync");
  md_bench_report (conc_name, conc_rate, "adds/s", conc_rate / seq_rate, "add-sequential",
                   "throughput with concurrent clients / with one: group commit speed-up");
  md_bench_report ("group-commit", conc_rate / sync_rate, "notes/fdatasync-time",
                   conc_rate / sync_rate, "append-fdatasync",
                   "concurrent adds/s / bare fdatasyncs/s; above 1 only if notes share a sync");
}

gboolean
md_bench_e2e (const MdBenchOptions *opts, GError **error)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  EchoBench echo = { { -1, 0 }, NULL, { 0 }, -1 };
  E2eTimes t = { g_new0 (double, opts->rounds), g_new0 (double, opts->rounds),
                 g_new0 (double, opts->rounds), g_new0 (double, opts->rounds) };
  gboolean ok;

  ok = md_test_daemon_start (daemon, error) && echo_bench_start (&echo, error)
       && run_rounds (opts, daemon, &echo, &t, error) && check_stored (opts, daemon, error);
  echo_bench_stop (&echo);
  if (ok)
    report_e2e (opts, &t);
  if (md_test_daemon_is_running (daemon) && !md_test_daemon_stop (daemon, ok ? error : NULL))
    ok = FALSE;
  g_free (t.echo);
  g_free (t.sync);
  g_free (t.sequential);
  g_free (t.concurrent);
  return ok;
}
