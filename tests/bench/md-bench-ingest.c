/* Ingest against the machine's limit: the same load (N clients, each one CON
 * request outstanding) on three servers running side by side, measured in
 * turns within one run:
 *   - md-bench-responder, an empty 2.01 to every CON: what the generator,
 *     the kernel and the machine allow;
 *   - coap-server-notls, PUT /example_data kept in memory: a CoAP server
 *     with no durability;
 *   - mydailyd, POST /notes, each note fdatasynced before its 2.01;
 * and one timed append+fdatasync on the daemon's file system. */
#include "config.h"

#include "md-bench-ingest.h"

#include "md-coap.h"
#include "md-error.h"
#include "md-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define FDATASYNC_SAMPLES 21
#define READ_SLICE (1024 * 1024)

/* A load result with the server's CPU use over the same run. */
typedef struct
{
  MdBenchLoadResult load;
  double server_cpu, generator_cpu; /* cores kept busy */
} RunResult;

typedef struct
{
  const MdBenchOptions *opts;
  char *run_dir;   /* logs, configs, the fdatasync probe */
  char *state_dir; /* mydailyd's notes */
  MdBenchServer *servers[MD_BENCH_N_SERVERS];
  RunResult *results;   /* [(count * N_SERVERS + server) * rounds + round] */
  guint64 acknowledged; /* 2.01 answers mydailyd gave, over every run */
  MdBenchIngestFigures figures;
} Ingest;

static const struct
{
  guint8 method;
  const char *path;
} requests[MD_BENCH_N_SERVERS] = {
  [MD_BENCH_SERVER_BARE] = { MD_COAP_POST, MD_PROTOCOL_PATH_NOTES },
  [MD_BENCH_SERVER_LIBCOAP] = { MD_COAP_PUT, MD_BENCH_LIBCOAP_PATH },
  [MD_BENCH_SERVER_MYDAILYD] = { MD_COAP_POST, MD_PROTOCOL_PATH_NOTES },
};

/* ---- reference: one append + fdatasync -------------------------------------- */

static gboolean
time_one_fdatasync (int fd, double *us)
{
  const char line[] = "1\t2026-01-01T00:00:00Z\t-\t@127.0.0.1\tingest note 00000001\n";
  gint64 start = g_get_monotonic_time ();

  if (write (fd, line, sizeof line - 1) != sizeof line - 1 || fdatasync (fd) != 0)
    return FALSE;
  *us = (double)(g_get_monotonic_time () - start);
  return TRUE;
}

/* In the directory that holds the state directory: the same file system. */
static gboolean
measure_fdatasync (Ingest *in, GError **error)
{
  g_autofree char *path = g_build_filename (in->run_dir, "fdatasync-probe", NULL);
  double samples[FDATASYNC_SAMPLES];
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  gboolean ok = fd >= 0;

  for (guint i = 0; ok && i < FDATASYNC_SAMPLES; i++)
    ok = time_one_fdatasync (fd, &samples[i]);
  if (!ok)
    md_error_set_errno (error, errno, "append and fdatasync");
  if (fd >= 0)
    close (fd);
  g_unlink (path);
  if (ok)
    in->figures.fdatasync_us = md_bench_median (samples, FDATASYNC_SAMPLES);
  return ok;
}

/* ---- the servers ------------------------------------------------------------- */

static gboolean
start_servers (Ingest *in, GError **error)
{
  g_autofree char *libcoap = g_find_program_in_path (MD_BENCH_LIBCOAP_SERVER);

  in->servers[MD_BENCH_SERVER_BARE] = md_bench_server_start_responder (in->run_dir, error);
  if (in->servers[MD_BENCH_SERVER_BARE] == NULL)
    return FALSE;
  if (libcoap == NULL)
    md_bench_report_info ("ingest-libcoap", "%s is not installed: no libcoap reference",
                          MD_BENCH_LIBCOAP_SERVER);
  else if ((in->servers[MD_BENCH_SERVER_LIBCOAP]
            = md_bench_server_start_libcoap (in->run_dir, error))
           == NULL)
    return FALSE;
  in->servers[MD_BENCH_SERVER_MYDAILYD]
      = md_bench_server_start_mydailyd (in->state_dir, in->run_dir, error);
  return in->servers[MD_BENCH_SERVER_MYDAILYD] != NULL;
}

static gboolean
stop_servers (Ingest *in, GError **error)
{
  gboolean ok = TRUE;

  for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
    if (in->servers[s] != NULL && !md_bench_server_stop (in->servers[s], ok ? error : NULL))
      ok = FALSE;
  if (ok && md_bench_server_get_wait_status (in->servers[MD_BENCH_SERVER_MYDAILYD]) != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "mydailyd exited with wait status %d",
                   md_bench_server_get_wait_status (in->servers[MD_BENCH_SERVER_MYDAILYD]));
      ok = FALSE;
    }
  return ok;
}

/* ---- the runs ---------------------------------------------------------------- */

static gboolean
load_once (Ingest *in, MdBenchServerKind server, guint n_clients, RunResult *run_result,
           GError **error)
{
  MdBenchLoadResult *result = &run_result->load;
  double cpu_before = md_bench_server_get_cpu_seconds (in->servers[server]);
  MdBenchLoadSpec spec = { md_bench_server_get_port (in->servers[server]),
                           n_clients,
                           requests[server].method,
                           requests[server].path,
                           in->opts->ingest_warmup,
                           in->opts->ingest_seconds };

  if (!md_bench_load_run (&spec, result, error))
    return FALSE;
  run_result->server_cpu
      = (md_bench_server_get_cpu_seconds (in->servers[server]) - cpu_before) / result->wall_seconds;
  run_result->generator_cpu = result->cpu_seconds / result->wall_seconds;
  if (server == MD_BENCH_SERVER_MYDAILYD)
    in->acknowledged += result->answered - result->failed;
  /* Any answer, even after the window: a slow disk must not fail --short. */
  if (result->answered == 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "server %u answered no request in %.1f s",
                   server, result->wall_seconds);
      return FALSE;
    }
  if (result->failed > 0)
    {
      char code[5];

      md_coap_code_format (result->failed_code, code);
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "%" G_GUINT64_FORMAT " requests to server %u failed, the last with %s",
                   result->failed, server, code);
      return FALSE;
    }
  return TRUE;
}

static RunResult *
result_at (Ingest *in, guint count_index, MdBenchServerKind server, guint round)
{
  return &in->results[(count_index * MD_BENCH_N_SERVERS + server) * in->opts->rounds + round];
}

/* Servers take turns inside every round, so slow drifts of a shared
 * machine spread over all of them alike. */
static gboolean
run_rounds (Ingest *in, GError **error)
{
  for (guint c = 0; c < in->figures.counts->len; c++)
    for (guint r = 0; r < in->opts->rounds; r++)
      for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
        if (in->servers[s] != NULL
            && !load_once (in, s, g_array_index (in->figures.counts, guint, c),
                           result_at (in, c, s, r), error))
          return FALSE;
  return TRUE;
}

static double
median_of (Ingest *in, guint c, MdBenchServerKind s, gsize offset)
{
  g_autofree double *values = g_new (double, in->opts->rounds);

  for (guint r = 0; r < in->opts->rounds; r++)
    values[r] = G_STRUCT_MEMBER (double, result_at (in, c, s, r), offset);
  return md_bench_median (values, in->opts->rounds);
}

static void
summarize (Ingest *in)
{
  for (guint c = 0; c < in->figures.counts->len; c++)
    for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
      {
        MdBenchIngestFigure *f = md_bench_ingest_figure (&in->figures, c, s);

        f->present = in->servers[s] != NULL;
        if (!f->present)
          continue;
        f->rate = median_of (in, c, s, G_STRUCT_OFFSET (RunResult, load.rate));
        f->p50_us = median_of (in, c, s, G_STRUCT_OFFSET (RunResult, load.p50_us));
        f->p99_us = median_of (in, c, s, G_STRUCT_OFFSET (RunResult, load.p99_us));
        f->server_cpu = median_of (in, c, s, G_STRUCT_OFFSET (RunResult, server_cpu));
        f->generator_cpu = median_of (in, c, s, G_STRUCT_OFFSET (RunResult, generator_cpu));
        for (guint r = 0; r < in->opts->rounds; r++)
          {
            f->resent += result_at (in, c, s, r)->load.resent;
            f->lost += result_at (in, c, s, r)->load.lost;
          }
      }
}

/* ---- the profile ------------------------------------------------------------- */

/* One more run of mydailyd at the largest count, under perf record -g: its
 * figures are not among the measured ones (perf slows what it samples). */
static gboolean
profile_daemon (Ingest *in, GError **error)
{
  g_autofree char *data = g_build_filename (in->opts->report_dir, "perf.data", NULL);
  g_autofree char *log = g_build_filename (in->run_dir, "perf.log", NULL);
  g_autofree char *pid = g_strdup_printf (
      "%d", (int)md_bench_server_get_pid (in->servers[MD_BENCH_SERVER_MYDAILYD]));
  const char *const argv[] = { "perf", "record", "-F", "999", "--call-graph", "dwarf,8192", "-p",
                               pid,    "-o",     data, NULL };
  guint most = g_array_index (in->figures.counts, guint, in->figures.counts->len - 1);
  g_autoptr (MdBenchServer) perf = NULL;
  RunResult result;

  perf = md_bench_server_start ("perf record", argv, 0, MD_BENCH_READY_NONE, log, error);
  if (perf == NULL || !load_once (in, MD_BENCH_SERVER_MYDAILYD, most, &result, error))
    return FALSE;
  /* perf record writes its file and exits 0 on SIGTERM, as on Ctrl-C. */
  if (!md_bench_server_stop (perf, error))
    return FALSE;
  md_bench_report_info ("ingest-profile",
                        "%s: mydailyd at %u clients under perf, %.0f notes/s, %.2f CPUs busy", data,
                        most, result.load.rate, result.server_cpu);
  return TRUE;
}

/* ---- checks and the whole ---------------------------------------------------- */

static gboolean
count_lines (const char *path, guint64 *n_lines, GError **error)
{
  g_autofree char *buf = g_malloc (READ_SLICE);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gssize n = -1;

  *n_lines = 0;
  while (fd >= 0 && (n = read (fd, buf, READ_SLICE)) > 0)
    for (gssize i = 0; i < n; i++)
      *n_lines += buf[i] == '\n';
  if (n < 0)
    md_error_set_errno (error, errno, path);
  if (fd >= 0)
    close (fd);
  return n == 0;
}

/* Durable means every 2.01 is a note in the file (a few more may have been
 * stored whose answers the runs no longer waited for). */
static gboolean
check_stored (Ingest *in, GError **error)
{
  g_autofree char *path = g_build_filename (in->state_dir, "notes", NULL);
  guint64 stored;

  if (!count_lines (path, &stored, error))
    return FALSE;
  md_bench_report_info ("ingest-durable",
                        "%" G_GUINT64_FORMAT " notes acknowledged, %" G_GUINT64_FORMAT " stored",
                        in->acknowledged, stored);
  if (stored < in->acknowledged)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                           "mydailyd acknowledged notes it did not store");
      return FALSE;
    }
  return TRUE;
}

static gboolean
run (Ingest *in, GError **error)
{
  gboolean ok;

  ok = g_mkdir (in->run_dir, 0700) == 0 && g_mkdir (in->state_dir, 0700) == 0;
  if (!ok)
    {
      md_error_set_errno (error, errno, in->run_dir);
      return FALSE;
    }
  ok = start_servers (in, error) && measure_fdatasync (in, error) && run_rounds (in, error)
       && (!in->opts->profile || profile_daemon (in, error));
  if (!stop_servers (in, ok ? error : NULL))
    ok = FALSE;
  return ok && check_stored (in, error);
}

static void
ingest_clear (Ingest *in, gboolean remove_files)
{
  for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
    g_clear_pointer (&in->servers[s], md_bench_server_free);
  if (remove_files)
    {
      md_bench_remove_notes_dir (in->state_dir);
      md_bench_remove_notes_dir (in->run_dir);
    }
  g_free (in->run_dir);
  g_free (in->state_dir);
  g_free (in->results);
  g_free (in->figures.figures);
  g_free (in->figures.when);
}

gboolean
md_bench_ingest (const MdBenchOptions *opts, const char *workdir, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  guint n_counts = opts->ingest_clients->len;
  Ingest in = { opts };
  gboolean ok;

  in.run_dir = g_build_filename (workdir, "ingest", NULL);
  in.state_dir = g_build_filename (in.run_dir, "state", NULL);
  in.results = g_new0 (RunResult, n_counts * MD_BENCH_N_SERVERS * opts->rounds);
  in.figures.counts = opts->ingest_clients;
  in.figures.figures = g_new0 (MdBenchIngestFigure, n_counts * MD_BENCH_N_SERVERS);
  in.figures.when = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
  ok = run (&in, error);
  if (ok)
    {
      summarize (&in);
      md_bench_ingest_report (&in.figures);
      if (opts->report_dir != NULL)
        ok = md_bench_ingest_write_files (&in.figures, opts->report_dir, error);
    }
  ingest_clear (&in, ok);
  return ok;
}
