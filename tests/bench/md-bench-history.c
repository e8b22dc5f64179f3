/* md-bench-history: the first read of a long history through md-lossy-relay
 * adding a fixed latency each way (a LAN-like round trip), against the
 * stop-and-wait figure measured through the same relay in the same run:
 * blocks × one block round trip.  Then the second read on a warm cache with
 * one new note, against cat of the cache file plus one round trip.  Ratios
 * only; nothing is asserted.
 *
 *   md-bench-history [--notes=100000] [--latency-ms=1] [--rounds=3]
 *
 * Lines on stdout as md-bench prints them:
 *   "metric: value unit (ratio X vs reference NAME: meaning)". */
#include "config.h"

#include "md-bench.h" /* md_bench_write_notes() */
#include "md-client-blockwise.h"
#include "md-client-exchange.h"
#include "md-reliability.h"
#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <stdio.h>

#define DEFAULT_NOTES 100000
#define DEFAULT_LATENCY_MS 1
#define DEFAULT_ROUNDS 3
#define RTT_SAMPLES 200
#define CTL_TIMEOUT_MS (10 * 60 * 1000)
#define BENCH_SEED 20261201

typedef struct
{
  gint64 notes;
  int latency_ms;
  int rounds;
} Options;

static void
keep_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

/* md-bench's line formats (md-bench.c has its own main). */
static void
report_reference (const char *metric, double value, const char *unit)
{
  printf ("%s: %.4g %s (reference)\n", metric, value, unit);
}

static void
report (const char *metric, double value, const char *unit, double ratio, const char *reference,
        const char *meaning)
{
  printf ("%s: %.4g %s (ratio %.3g vs reference %s: %s)\n", metric, value, unit, ratio, reference,
          meaning);
}

/* One GET of one 1 KB block of /notes, the unit of a stop-and-wait read. */
static gboolean
time_block (MdClient *client, guint32 num, double *seconds, guint32 *size2, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (MdClientResponse) response = NULL;
  gint64 start = g_get_monotonic_time ();
  MdClientRequest request = {
    .method = MD_COAP_GET,
    .path = "notes",
    .has_block2 = TRUE,
    .block2 = { .num = num, .szx = MD_COAP_MAX_BLOCK_SZX },
  };

  md_client_request_async (client, &request, NULL, keep_result, &result);
  response = md_client_request_finish (client, wait_result (&result), error);
  *seconds = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (response != NULL && response->code != MD_COAP_CONTENT)
    md_client_response_set_error (response, error);
  if (response != NULL && response->has_size2)
    *size2 = response->size2;
  return response != NULL && response->code == MD_COAP_CONTENT;
}

/* Block 0 tells the body's size (Size2), so the block count. */
static gboolean
time_round_trip (const char *server, guint64 *blocks, double *rtt, GError **error)
{
  g_autoptr (MdClient) client = md_client_new (server, 15.0, error);
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED);

  guint32 size = 0;
  double seconds = 0;

  /* The first request may also carry an Echo challenge: not a sample. */
  if (client == NULL || !time_block (client, 0, &seconds, &size, error))
    return FALSE;
  *blocks = MAX ((size + 1023) / 1024, 1);
  for (guint i = 0; i < RTT_SAMPLES; i++)
    {
      if (!time_block (client, (guint32)g_rand_int_range (rand, 0, (gint32)*blocks), &seconds,
                       &size, error))
        return FALSE;
      g_array_append_val (samples, seconds);
    }
  *rtt = median (samples);
  return TRUE;
}

/* mydailyctl with its cache and outbox in @workdir, output discarded. */
static GSubprocessLauncher *
ctl_launcher (const char *workdir)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *cache = g_build_filename (workdir, "cache", NULL);
  g_autofree char *state = g_build_filename (workdir, "state", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/null");
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  return launcher;
}

/* The cache dir removed: the next history is a first read. */
static gboolean
drop_cache (const char *workdir, GError **error)
{
  g_autofree char *cache = g_build_filename (workdir, "cache", NULL);
  const char *argv[] = { "rm", "-rf", "--", cache, NULL };
  g_autoptr (GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, error);

  return process != NULL && g_subprocess_wait_check (process, NULL, error);
}

static gboolean
run_ctl (const char *workdir, const char *const *argv, double *seconds, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = ctl_launcher (workdir);
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *err = NULL;
  gint64 start = g_get_monotonic_time ();

  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, error))
    return FALSE;
  *seconds = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "mydailyctl %s failed: %s", argv[3], err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
time_history (const char *server, const char *workdir, double *seconds, GError **error)
{
  const char *argv[] = {
    MD_BENCH_MYDAILYCTL, "-s", server, "history", "--no-pager", "-o", "tsv", NULL,
  };

  return run_ctl (workdir, argv, seconds, error);
}

/* The cache file the first read left: WORKDIR/cache/mydaily/UUID/notes. */
static char *
find_cache_file (const char *workdir)
{
  g_autofree char *top = g_build_filename (workdir, "cache", "mydaily", NULL);
  g_autoptr (GDir) dir = g_dir_open (top, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *notes = g_build_filename (top, name, "notes", NULL);

      if (g_file_test (notes, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&notes);
    }
  return NULL;
}

static gboolean
time_cat (const char *path, double *seconds, GError **error)
{
  const char *argv[] = { "cat", "--", path, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) process = NULL;
  gint64 start = g_get_monotonic_time ();

  g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/null");
  process = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (process == NULL || !g_subprocess_wait_check (process, NULL, error))
    return FALSE;
  *seconds = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  return TRUE;
}

/* Warm cache, one new note each round (added straight to the daemon):
 * the read that follows moves only that note. */
static gboolean
time_warm_histories (const char *relayed, const char *direct, const char *workdir, int rounds,
                     double *warm, double *cat, GError **error)
{
  g_autoptr (GArray) warm_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) cat_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *cache_file = NULL;
  double s = 0;

  if (!drop_cache (workdir, error) || !time_history (relayed, workdir, &s, error))
    return FALSE;
  cache_file = find_cache_file (workdir);
  if (cache_file == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "history left no cache file");
      return FALSE;
    }
  for (int i = 0; i < rounds; i++)
    {
      const char *add[] = { MD_BENCH_MYDAILYCTL, "-s", direct, "add", "one new note", NULL };

      if (!run_ctl (workdir, add, &s, error) || !time_history (relayed, workdir, &s, error))
        return FALSE;
      g_array_append_val (warm_samples, s);
      if (!time_cat (cache_file, &s, error))
        return FALSE;
      g_array_append_val (cat_samples, s);
    }
  *warm = median (warm_samples);
  *cat = median (cat_samples);
  return TRUE;
}

/* libcoap's client reading the same body stop-and-wait on loopback, when
 * installed: the figure the issue compared with. */
static gboolean
time_coap_client (const char *server, double *seconds)
{
  g_autofree char *uri = g_strdup_printf ("coap://%s/notes", server);
  g_autofree char *path = g_find_program_in_path ("coap-client-notls");
  g_autoptr (GSubprocess) process = NULL;
  gint64 start = g_get_monotonic_time ();

  if (path == NULL)
    return FALSE;
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              NULL, path, "-B", "600", "-b", "1024", "-m", "get", "-o", "/dev/null",
                              uri, NULL);
  if (process == NULL || !g_subprocess_wait_check (process, NULL, NULL))
    return FALSE;
  *seconds = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  return TRUE;
}

static gboolean
time_histories (const char *server, const char *workdir, int rounds, double *seconds,
                GError **error)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));

  for (int i = 0; i < rounds; i++)
    {
      double s = 0;

      if (!drop_cache (workdir, error) || !time_history (server, workdir, &s, error))
        return FALSE;
      g_array_append_val (samples, s);
    }
  *seconds = median (samples);
  return TRUE;
}

static gboolean
run (const Options *opts, GError **error)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_autoptr (MdRelRelay) relay = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED);
  g_autofree char *latency = g_strdup_printf ("--latency-ms=%d", opts->latency_ms);
  const char *relay_args[] = { latency, NULL };
  guint64 size = 0, blocks = 0;
  double rtt = 0, relayed = 0, direct = 0, coap_client = 0, stop_and_wait, warm = 0, cat = 0;

  if (!md_bench_write_notes (md_test_daemon_get_state_dir (daemon), (guint64)opts->notes, rand,
                             &size, error)
      || !md_test_daemon_start (daemon, error))
    return FALSE;
  relay = md_rel_relay_start (md_test_daemon_get_address (daemon), relay_args, error);
  if (relay == NULL)
    return FALSE;
  if (!time_round_trip (md_rel_relay_get_address (relay), &blocks, &rtt, error)
      || !time_histories (md_rel_relay_get_address (relay), md_test_daemon_get_state_dir (daemon),
                          opts->rounds, &relayed, error)
      || !time_histories (md_test_daemon_get_address (daemon),
                          md_test_daemon_get_state_dir (daemon), opts->rounds, &direct, error)
      || !time_warm_histories (
          md_rel_relay_get_address (relay), md_test_daemon_get_address (daemon),
          md_test_daemon_get_state_dir (daemon), opts->rounds, &warm, &cat, error))
    return FALSE;
  stop_and_wait = (double)blocks * rtt;
  printf ("history.notes: %" G_GINT64_FORMAT " notes, %" G_GUINT64_FORMAT
          " bytes in the notes file, %" G_GUINT64_FORMAT
          " blocks of 1 KB in the body, relay latency %d ms each way (info)\n",
          opts->notes, size, blocks, opts->latency_ms);
  report_reference ("history.relay_block_round_trip", rtt * 1000, "ms");
  report_reference ("history.stop_and_wait", stop_and_wait, "s");
  report ("history.first_read_relayed", relayed, "s", relayed / stop_and_wait,
          "history.stop_and_wait", "windowed read / (blocks × one round trip)");
  if (time_coap_client (md_test_daemon_get_address (daemon), &coap_client))
    {
      report_reference ("history.coap_client_loopback", coap_client, "s");
      report ("history.first_read_loopback", direct, "s", direct / coap_client,
              "history.coap_client_loopback", "mydailyctl / coap-client-notls -b 1024, no relay");
    }
  else
    printf ("history.first_read_loopback: %.3f s without the relay (info)\n", direct);
  report_reference ("history.cat_cache_file", cat * 1000, "ms");
  report ("history.warm_read_relayed", warm * 1000, "ms", (warm - rtt) / cat,
          "history.cat_cache_file",
          "(warm read with 1 new note - one round trip) / cat of the cache file; target <= 3");
  fflush (stdout);
  md_test_daemon_stop (daemon, NULL);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Options opts = { DEFAULT_NOTES, DEFAULT_LATENCY_MS, DEFAULT_ROUNDS };
  g_autoptr (GOptionContext) context = g_option_context_new ("- history read benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  const GOptionEntry entries[] = {
    { "notes", 0, 0, G_OPTION_ARG_INT64, &opts.notes, "Notes in the history", "N" },
    { "latency-ms", 0, 0, G_OPTION_ARG_INT, &opts.latency_ms, "Relay delay each way", "MS" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &opts.rounds, "Reads measured (median)", "N" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || opts.notes < 1
      || opts.latency_ms < 0 || opts.rounds < 1)
    {
      g_printerr ("md-bench-history: %s\n", error != NULL ? error->message : "bad option");
      return 64;
    }
  if (!md_rel_relay_available (&reason))
    {
      g_printerr ("md-bench-history: %s\n", reason);
      return 77;
    }
  if (g_getenv ("MYDAILYD") == NULL)
    g_setenv ("MYDAILYD", MD_BENCH_MYDAILYD, FALSE);
  if (!run (&opts, &error))
    {
      g_printerr ("md-bench-history: %s\n", error->message);
      return 1;
    }
  return 0;
}
