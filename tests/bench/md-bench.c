/* md-bench: see md-bench.h and README.md.  Run by `meson test --benchmark`
 * (never by the normal test suite: it measures, it does not judge). */
#include "config.h"

#include "md-bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define DEFAULT_NOTES 1000000
#define DEFAULT_SMALL 1000
#define DEFAULT_ROUNDS 5
#define DEFAULT_BODY_READS 10000
#define DEFAULT_LINES 2000
#define DEFAULT_CLIENTS 10
#define DEFAULT_INGEST_CLIENTS "1,16,64"
#define DEFAULT_INGEST_SECONDS 2.0
#define DEFAULT_INGEST_WARMUP 0.2
#define BENCH_SEED 20261124

/* ---- measuring and reporting ---------------------------------------------- */

double
md_bench_seconds_since (gint64 start_us)
{
  return (double)(g_get_monotonic_time () - start_us) / G_USEC_PER_SEC;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

double
md_bench_median (double *values, guint n)
{
  g_return_val_if_fail (values != NULL && n > 0, 0);

  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* Plain decimals a reader can compare at a glance (no exponents). */
static void
format_number (double value, char *buf, gsize size)
{
  if (value >= 100)
    g_snprintf (buf, size, "%.0f", value);
  else if (value >= 1)
    g_snprintf (buf, size, "%.2f", value);
  else
    g_snprintf (buf, size, "%.3g", value);
}

/* Metrics go to stdout directly; everything g_print()s (the harness's
 * "# ..." progress lines) goes to stderr, so stdout is only metrics. */
static void
print_to_stderr (const char *text)
{
  fputs (text, stderr);
}

void
md_bench_report_reference (const char *metric, double value, const char *unit)
{
  char v[32];

  format_number (value, v, sizeof v);
  printf ("%s: %s %s (reference)\n", metric, v, unit);
  fflush (stdout);
}

void
md_bench_report (const char *metric, double value, const char *unit, double ratio,
                 const char *reference, const char *ratio_meaning)
{
  char v[32], r[32];

  format_number (value, v, sizeof v);
  format_number (ratio, r, sizeof r);
  printf ("%s: %s %s (ratio %s vs reference %s: %s)\n", metric, v, unit, r, reference,
          ratio_meaning);
  fflush (stdout);
}

void
md_bench_report_info (const char *metric, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  printf ("%s: %s (info)\n", metric, text);
  fflush (stdout);
}

guint64
md_bench_proc_status_bytes (const char *status_path, const char *field)
{
  g_autofree char *status = NULL;
  g_autofree char *key = g_strconcat ("\n", field, ":", NULL);
  const char *p;

  if (!g_file_get_contents (status_path, &status, NULL, NULL))
    return 0;
  p = strstr (status, key);
  return p != NULL ? g_ascii_strtoull (p + strlen (key), NULL, 10) * 1024 : 0;
}

/* ---- options --------------------------------------------------------------- */

/* Option values before defaults: -1 (or NULL) for "not given". */
typedef struct
{
  gint64 notes, small;
  int rounds, body_reads, lines, clients;
  double ingest_seconds, ingest_warmup;
  char *ingest_clients;
  gboolean short_mode;
} RawOptions;

/* --short: every part runs, on sizes that take seconds, for CI. */
static void
apply_defaults (RawOptions *raw)
{
  gboolean s = raw->short_mode;

#define DEFAULT(field, normal, brief)                                                              \
  if (raw->field < 0)                                                                              \
  raw->field = s ? (brief) : (normal)
  DEFAULT (notes, DEFAULT_NOTES, 20000);
  DEFAULT (small, DEFAULT_SMALL, 100);
  DEFAULT (rounds, DEFAULT_ROUNDS, 1);
  DEFAULT (body_reads, DEFAULT_BODY_READS, 200);
  DEFAULT (lines, DEFAULT_LINES, 20);
  DEFAULT (clients, DEFAULT_CLIENTS, 4);
  DEFAULT (ingest_seconds, DEFAULT_INGEST_SECONDS, 0.2);
  DEFAULT (ingest_warmup, DEFAULT_INGEST_WARMUP, 0.05);
#undef DEFAULT
  if (raw->ingest_clients == NULL)
    raw->ingest_clients = g_strdup (DEFAULT_INGEST_CLIENTS);
}

/* "1,16,64" into @out; FALSE on anything but positive counts. */
static gboolean
parse_client_counts (const char *text, GArray *out)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 n;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 4096, &n, NULL))
        return FALSE;
      g_array_append_val (out, (guint){ (guint)n });
    }
  return out->len > 0;
}

static gboolean
check_options (const RawOptions *raw, MdBenchOptions *opts, GError **error)
{
  opts->ingest_clients = g_array_new (FALSE, FALSE, sizeof (guint));
  if (raw->notes < 1 || raw->small < 1 || raw->rounds < 1 || raw->body_reads < 1 || raw->clients < 1
      || raw->lines < raw->clients || raw->ingest_seconds <= 0 || raw->ingest_warmup < 0
      || !parse_client_counts (raw->ingest_clients, opts->ingest_clients))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "counts and durations must be positive and --lines at least --clients");
      return FALSE;
    }
  opts->notes = (guint64)raw->notes;
  opts->small = (guint64)raw->small;
  opts->rounds = (guint)raw->rounds;
  opts->body_reads = (guint)raw->body_reads;
  opts->lines = (guint)raw->lines;
  opts->clients = (guint)raw->clients;
  opts->ingest_seconds = raw->ingest_seconds;
  opts->ingest_warmup = raw->ingest_warmup;
  return TRUE;
}

static gboolean
parse_options (int argc, char **argv, MdBenchOptions *opts, GError **error)
{
  RawOptions raw = { -1, -1, -1, -1, -1, -1, -1, -1, NULL, FALSE };
  const GOptionEntry entries[] = {
    { "notes", 0, 0, G_OPTION_ARG_INT64, &raw.notes, "Notes in the big notes file", "N" },
    { "small", 0, 0, G_OPTION_ARG_INT64, &raw.small, "Notes in the small one", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &raw.rounds, "Alternate reference and subject N times",
      "N" },
    { "body-reads", 0, 0, G_OPTION_ARG_INT, &raw.body_reads, "Random block reads per round", "N" },
    { "lines", 0, 0, G_OPTION_ARG_INT, &raw.lines, "Notes added through the daemon per run", "N" },
    { "clients", 0, 0, G_OPTION_ARG_INT, &raw.clients, "Concurrent mydailyctl clients", "N" },
    { "ingest-clients", 0, 0, G_OPTION_ARG_STRING, &raw.ingest_clients,
      "Client counts of the ingest load (default 1,16,64)", "N,N,..." },
    { "ingest-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &raw.ingest_seconds,
      "Measured seconds per ingest run", "S" },
    { "ingest-warmup", 0, 0, G_OPTION_ARG_DOUBLE, &raw.ingest_warmup,
      "Seconds of load before each ingest window", "S" },
    { "short", 0, 0, G_OPTION_ARG_NONE, &raw.short_mode,
      "Tiny sizes and durations (CI: it runs, it measures nothing)", NULL },
    { "no-e2e", 0, 0, G_OPTION_ARG_NONE, &opts->no_e2e, "Skip the mydailyctl add measurements",
      NULL },
    { "no-ingest", 0, 0, G_OPTION_ARG_NONE, &opts->no_ingest, "Skip the ingest load", NULL },
    { "no-startup", 0, 0, G_OPTION_ARG_NONE, &opts->no_startup, "Skip the daemon start-up", NULL },
    { "report-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->report_dir,
      "Write ingest.dat (for gnuplot) and ingest.md (the table) to DIR", "DIR" },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &opts->profile,
      "perf record -g mydailyd under the largest load, into the report dir", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- mydaily benchmark");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  ok = g_option_context_parse (context, &argc, &argv, error);
  if (ok)
    {
      apply_defaults (&raw);
      ok = check_options (&raw, opts, error);
    }
  if (ok && opts->profile && opts->report_dir == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--profile needs --report-dir");
      ok = FALSE;
    }
  g_free (raw.ingest_clients);
  return ok;
}

/* Lets `md-bench` run straight from the build directory too. */
static void
default_binaries (void)
{
  g_setenv ("MYDAILYD", MD_BENCH_MYDAILYD, FALSE);
  g_setenv ("MYDAILYCTL", MD_BENCH_MYDAILYCTL, FALSE);
  g_setenv ("MD_BENCH_RESPONDER", MD_BENCH_RESPONDER, FALSE);
}

/* The test setup's MALLOC_PERTURB_ makes glibc fill every allocation: good
 * for finding bugs, wrong for measuring (and mydailyd would inherit it).
 * glibc reads it once at start-up, so start again without it. */
static void
drop_malloc_perturb (char **argv)
{
  if (g_getenv ("MALLOC_PERTURB_") == NULL)
    return;
  g_unsetenv ("MALLOC_PERTURB_");
  execv ("/proc/self/exe", argv);
  g_printerr ("md-bench: cannot restart without MALLOC_PERTURB_: %s\n", g_strerror (errno));
}

/* The big notes file, shared by the store and the start-up measurements. */
static gboolean
run_with_notes (const MdBenchOptions *opts, const char *workdir, GError **error)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED);
  g_autofree char *big_dir = g_build_filename (workdir, "big", NULL);
  gint64 start = g_get_monotonic_time ();
  guint64 file_size;
  gboolean ok;

  ok = md_bench_write_notes (big_dir, opts->notes, rand, &file_size, error);
  if (ok)
    {
      md_bench_report_info ("notes-file",
                            "%" G_GUINT64_FORMAT " notes, %.1f MB (written in %.1f s)", opts->notes,
                            file_size / 1e6, md_bench_seconds_since (start));
      ok = md_bench_store (opts, workdir, big_dir, file_size, error)
           && (opts->no_startup || md_bench_startup (opts, workdir, big_dir, error));
    }
  md_bench_remove_notes_dir (big_dir);
  return ok;
}

static gboolean
run_all (const MdBenchOptions *opts, const char *workdir, GError **error)
{
  return run_with_notes (opts, workdir, error) && (opts->no_e2e || md_bench_e2e (opts, error))
         && (opts->no_ingest || md_bench_ingest (opts, workdir, error));
}

int
main (int argc, char **argv)
{
  MdBenchOptions opts = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *workdir = NULL;
  gboolean ok;

  drop_malloc_perturb (argv);
  if (!parse_options (argc, argv, &opts, &error))
    {
      g_printerr ("md-bench: %s\n", error->message);
      return 64;
    }
  g_set_print_handler (print_to_stderr);
  default_binaries ();
  if (opts.report_dir != NULL && g_mkdir_with_parents (opts.report_dir, 0755) < 0)
    {
      g_printerr ("md-bench: cannot create %s: %s\n", opts.report_dir, g_strerror (errno));
      return 1;
    }
  workdir = g_dir_make_tmp ("md-bench-XXXXXX", &error);
  if (workdir == NULL)
    {
      g_printerr ("md-bench: %s\n", error->message);
      return 1;
    }
  ok = run_all (&opts, workdir, &error);
  if (!ok)
    g_printerr ("md-bench: %s (kept %s)\n", error->message, workdir);
  else
    g_rmdir (workdir);
  g_array_unref (opts.ingest_clients);
  g_free (opts.report_dir);
  return ok ? 0 : 1;
}
