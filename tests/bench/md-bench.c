/* md-bench: see md-bench.h and README.md.  Run by `meson test --benchmark`
 * (never by the normal test suite: it measures, it does not judge). */
#include "config.h"

#include "md-bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define DEFAULT_NOTES 1000000
#define DEFAULT_SMALL 1000
#define DEFAULT_ROUNDS 5
#define DEFAULT_BODY_READS 10000
#define DEFAULT_LINES 2000
#define DEFAULT_CLIENTS 10

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

/* ---- options --------------------------------------------------------------- */

static gboolean
parse_options (int argc, char **argv, MdBenchOptions *opts, GError **error)
{
  gint64 notes = DEFAULT_NOTES, small = DEFAULT_SMALL;
  int rounds = DEFAULT_ROUNDS, body_reads = DEFAULT_BODY_READS;
  int lines = DEFAULT_LINES, clients = DEFAULT_CLIENTS;
  const GOptionEntry entries[] = {
    { "notes", 0, 0, G_OPTION_ARG_INT64, &notes, "Notes in the big notes file", "N" },
    { "small", 0, 0, G_OPTION_ARG_INT64, &small, "Notes in the small one", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Alternate reference and subject N times", "N" },
    { "body-reads", 0, 0, G_OPTION_ARG_INT, &body_reads, "Random block reads per round", "N" },
    { "lines", 0, 0, G_OPTION_ARG_INT, &lines, "Notes added through the daemon per run", "N" },
    { "clients", 0, 0, G_OPTION_ARG_INT, &clients, "Concurrent clients", "N" },
    { "no-e2e", 0, 0, G_OPTION_ARG_NONE, &opts->no_e2e, "Skip the daemon measurements", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- mydaily benchmark");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (notes < 1 || small < 1 || rounds < 1 || body_reads < 1 || clients < 1 || lines < clients)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "counts must be positive and --lines at least --clients");
      return FALSE;
    }
  opts->notes = (guint64)notes;
  opts->small = (guint64)small;
  opts->rounds = (guint)rounds;
  opts->body_reads = (guint)body_reads;
  opts->lines = (guint)lines;
  opts->clients = (guint)clients;
  return TRUE;
}

/* Lets `md-bench` run straight from the build directory too. */
static void
default_binaries (void)
{
  g_setenv ("MYDAILYD", MD_BENCH_MYDAILYD, FALSE);
  g_setenv ("MYDAILYCTL", MD_BENCH_MYDAILYCTL, FALSE);
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
  workdir = g_dir_make_tmp ("md-bench-XXXXXX", &error);
  if (workdir == NULL)
    {
      g_printerr ("md-bench: %s\n", error->message);
      return 1;
    }
  ok = md_bench_store (&opts, workdir, &error);
  if (ok && !opts.no_e2e)
    ok = md_bench_e2e (&opts, &error);
  g_rmdir (workdir);
  if (!ok)
    g_printerr ("md-bench: %s\n", error->message);
  return ok ? 0 : 1;
}
