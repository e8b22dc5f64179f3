/* mydailyd start-up on the big notes file, as a binary: from the spawn to
 * READY=1, against `wc -l` on the same file (a process that reads it once
 * and counts lines), and the daemon's resident memory once it serves. */
#include "config.h"

#include "md-bench.h"

#include "md-error.h"

#include <glib/gstdio.h>

/* Issue 7's targets. */
#define RSS_BUDGET_MB 32.0
#define TARGET_VS_WC 5.0

static gboolean
time_wc (const char *path, guint64 expected, double *seconds, GError **error)
{
  const char *const argv[] = { "wc", "-l", path, NULL };
  g_autofree char *out = NULL;
  gint64 start = g_get_monotonic_time ();
  int status;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, error)
      || !g_spawn_check_wait_status (status, error))
    return FALSE;
  *seconds = md_bench_seconds_since (start);
  if (g_ascii_strtoull (out, NULL, 10) != expected)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "wc -l counted %s", out);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  double seconds;
  guint64 peak_rss, rss; /* bytes, once ready */
} StartResult;

static gboolean
time_daemon_start (const char *big_dir, const char *run_dir, StartResult *result, GError **error)
{
  g_autoptr (MdBenchServer) daemon = md_bench_server_start_mydailyd (big_dir, run_dir, error);

  if (daemon == NULL)
    return FALSE;
  result->seconds = md_bench_server_get_start_seconds (daemon);
  result->peak_rss = md_bench_server_get_status_bytes (daemon, "VmHWM");
  result->rss = md_bench_server_get_status_bytes (daemon, "VmRSS");
  if (!md_bench_server_stop (daemon, error))
    return FALSE;
  if (md_bench_server_get_wait_status (daemon) != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "mydailyd exited with wait status %d",
                   md_bench_server_get_wait_status (daemon));
      return FALSE;
    }
  return TRUE;
}

static void
report_startup (const MdBenchOptions *opts, double wc_s, double start_s, double peak_mb,
                double rss_mb)
{
  g_autofree char *name = g_strdup_printf ("daemon-start-%" G_GUINT64_FORMAT, opts->notes);

  md_bench_report_reference ("wc-l", wc_s * 1000, "ms");
  md_bench_report (name, start_s * 1000, "ms", start_s / wc_s, "wc-l",
                   "spawn to READY=1 / wc -l on the same file; target <= 5");
  md_bench_report_info ("daemon-start-rss",
                        "peak %.1f MB, %.1f MB once ready (%.2f of the %.0f MB target)", peak_mb,
                        rss_mb, peak_mb / RSS_BUDGET_MB, RSS_BUDGET_MB);
}

/* DIR/startup.md: the start-up targets' rows, for the table of
 * docs/performance.md. */
static gboolean
write_markdown (const MdBenchOptions *opts, double ratio, double peak_mb, GError **error)
{
  g_autofree char *path = g_build_filename (opts->report_dir, "startup.md", NULL);
  g_autofree char *text = g_strdup_printf (
      "| start-up on %" G_GUINT64_FORMAT " notes / wc -l | %.2f | ≤ %.2f | %s |\n"
      "| peak RSS of that start-up, MB | %.1f | ≤ %.0f | %s |\n",
      opts->notes, ratio, TARGET_VS_WC, ratio <= TARGET_VS_WC ? "met" : "**missed**", peak_mb,
      RSS_BUDGET_MB, peak_mb <= RSS_BUDGET_MB ? "met" : "**missed**");

  return g_file_set_contents (path, text, -1, error);
}

gboolean
md_bench_startup (const MdBenchOptions *opts, const char *workdir, const char *big_dir,
                  GError **error)
{
  g_autofree char *run_dir = g_build_filename (workdir, "startup", NULL);
  g_autofree char *path = g_build_filename (big_dir, "notes", NULL);
  g_autofree double *wcs = g_new0 (double, opts->rounds);
  g_autofree double *starts = g_new0 (double, opts->rounds);
  g_autofree double *peaks = g_new0 (double, opts->rounds);
  g_autofree double *rsss = g_new0 (double, opts->rounds);
  gboolean ok = g_mkdir (run_dir, 0700) == 0;

  if (!ok)
    md_error_set_errno (error, errno, run_dir);
  /* wc first: it warms the page cache for both. */
  for (guint r = 0; ok && r < opts->rounds; r++)
    {
      StartResult s = { 0, 0, 0 };

      ok = time_wc (path, opts->notes, &wcs[r], error)
           && time_daemon_start (big_dir, run_dir, &s, error);
      starts[r] = s.seconds;
      peaks[r] = s.peak_rss / 1e6;
      rsss[r] = s.rss / 1e6;
    }
  if (ok)
    {
      double wc = md_bench_median (wcs, opts->rounds),
             start = md_bench_median (starts, opts->rounds);
      double peak = md_bench_median (peaks, opts->rounds);

      report_startup (opts, wc, start, peak, md_bench_median (rsss, opts->rounds));
      if (opts->report_dir != NULL)
        ok = write_markdown (opts, start / wc, peak, error);
    }
  if (ok)
    md_bench_remove_notes_dir (run_dir);
  return ok;
}
