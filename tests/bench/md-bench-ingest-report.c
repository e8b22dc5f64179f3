/* The ingest figures as metric lines, as a markdown table for
 * docs/performance.md and as a data file for docs/performance.gp.  The
 * targets of issue 7 are printed as ratios; nothing here judges them. */
#include "config.h"

#include "md-bench-ingest.h"

#include <glib/gstdio.h>

/* Issue 7's targets. */
#define TARGET_VS_BARE 0.5
#define TARGET_VS_LIBCOAP 1.0
#define TARGET_FDATASYNCS_IN_P50 1.5

static const char *const server_names[MD_BENCH_N_SERVERS] = {
  [MD_BENCH_SERVER_BARE] = "bare",
  [MD_BENCH_SERVER_LIBCOAP] = "libcoap",
  [MD_BENCH_SERVER_MYDAILYD] = "mydailyd",
};

static guint
count_at (const MdBenchIngestFigures *f, guint c)
{
  return g_array_index (f->counts, guint, c);
}

/* ---- metric lines -------------------------------------------------------------- */

static void
report_reference (const MdBenchIngestFigures *f, guint c, MdBenchServerKind s)
{
  const MdBenchIngestFigure *x = md_bench_ingest_figure (f, c, s);
  g_autofree char *name = g_strdup_printf ("ingest-%s-%u", server_names[s], count_at (f, c));
  g_autofree char *p50 = g_strconcat (name, "-p50", NULL);
  g_autofree char *p99 = g_strconcat (name, "-p99", NULL);

  if (!x->present)
    return;
  md_bench_report_reference (name, x->rate, "requests/s");
  md_bench_report_reference (p50, x->p50_us, "us");
  md_bench_report_reference (p99, x->p99_us, "us");
}

static void
report_daemon (const MdBenchIngestFigures *f, guint c)
{
  const MdBenchIngestFigure *bare = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_BARE);
  const MdBenchIngestFigure *libcoap = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_LIBCOAP);
  const MdBenchIngestFigure *d = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_MYDAILYD);
  guint n = count_at (f, c);
  g_autofree char *name = g_strdup_printf ("ingest-%u", n);
  g_autofree char *bare_name = g_strdup_printf ("ingest-bare-%u", n);
  g_autofree char *libcoap_name = g_strdup_printf ("ingest-libcoap-%u", n);
  g_autofree char *vs_libcoap = g_strconcat (name, "-vs-libcoap", NULL);
  g_autofree char *p50 = g_strconcat (name, "-p50", NULL);
  g_autofree char *p99 = g_strconcat (name, "-p99", NULL);
  g_autofree char *bare_p50 = g_strconcat (bare_name, "-p50", NULL);
  g_autofree char *bare_p99 = g_strconcat (bare_name, "-p99", NULL);

  md_bench_report (name, d->rate, "notes/s", d->rate / bare->rate, bare_name,
                   "durable notes/s / bare requests/s; target >= 0.5 at 64 clients");
  if (libcoap->present)
    md_bench_report (vs_libcoap, d->rate, "notes/s", d->rate / libcoap->rate, libcoap_name,
                     "durable notes/s / libcoap in-memory PUTs/s; target >= 1 at 64 clients");
  md_bench_report (p50, d->p50_us, "us", d->p50_us / bare->p50_us, bare_p50,
                   "median latency / the bare responder's");
  md_bench_report (p99, d->p99_us, "us", d->p99_us / bare->p99_us, bare_p99,
                   "99th percentile latency / the bare responder's");
}

/* At one client a note should cost the network plus about one fdatasync. */
static void
report_latency_budget (const MdBenchIngestFigures *f, guint c)
{
  const MdBenchIngestFigure *bare = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_BARE);
  const MdBenchIngestFigure *d = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_MYDAILYD);
  double budget = bare->p50_us + TARGET_FDATASYNCS_IN_P50 * f->fdatasync_us;
  g_autofree char *name = g_strdup_printf ("ingest-%u-p50-budget", count_at (f, c));

  md_bench_report (name, d->p50_us, "us", d->p50_us / budget, "bare-p50+1.5*fdatasync",
                   "median latency / (bare median + 1.5 fdatasyncs); target <= 1 at 1 client");
}

static void
report_losses (const MdBenchIngestFigures *f)
{
  for (guint c = 0; c < f->counts->len; c++)
    for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
      {
        const MdBenchIngestFigure *x = md_bench_ingest_figure (f, c, s);

        if (x->resent > 0 || x->lost > 0)
          md_bench_report_info ("ingest-losses",
                                "%s at %u clients: %" G_GUINT64_FORMAT
                                " retransmissions, %" G_GUINT64_FORMAT " requests lost",
                                server_names[s], count_at (f, c), x->resent, x->lost);
      }
}

/* Which side was busy shows what bounds a figure: a server near 1 core is
 * CPU-bound, a generator near 1 core caps everyone, neither means waiting
 * (on the disk, or on each other). */
static void
report_cpu (const MdBenchIngestFigures *f, guint c)
{
  GString *text = g_string_new (NULL);
  g_autofree char *name = g_strdup_printf ("ingest-cpu-%u", count_at (f, c));

  for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
    {
      const MdBenchIngestFigure *x = md_bench_ingest_figure (f, c, s);

      if (x->present)
        g_string_append_printf (text, "%s%s %.2f (generator %.2f)", text->len > 0 ? ", " : "",
                                server_names[s], x->server_cpu, x->generator_cpu);
    }
  md_bench_report_info (name, "cores busy: %s", text->str);
  g_string_free (text, TRUE);
}

void
md_bench_ingest_report (const MdBenchIngestFigures *f)
{
  md_bench_report_reference ("fdatasync", f->fdatasync_us, "us");
  for (guint c = 0; c < f->counts->len; c++)
    {
      report_reference (f, c, MD_BENCH_SERVER_BARE);
      report_reference (f, c, MD_BENCH_SERVER_LIBCOAP);
      report_daemon (f, c);
      if (count_at (f, c) == 1)
        report_latency_budget (f, c);
      report_cpu (f, c);
    }
  report_losses (f);
}

/* ---- the data file for gnuplot ---------------------------------------------- */

static void
append_figure (GString *out, const MdBenchIngestFigure *x)
{
  if (x->present)
    g_string_append_printf (out, " %.0f %.0f %.0f", x->rate, x->p50_us, x->p99_us);
  else
    g_string_append (out, " NaN NaN NaN");
}

static char *
data_file (const MdBenchIngestFigures *f)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "# md-bench ingest, %s; fdatasync %.0f us\n", f->when,
                          f->fdatasync_us);
  g_string_append (out, "# clients");
  for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
    g_string_append_printf (out, " %s_per_s %s_p50_us %s_p99_us", server_names[s], server_names[s],
                            server_names[s]);
  g_string_append_c (out, '\n');
  for (guint c = 0; c < f->counts->len; c++)
    {
      g_string_append_printf (out, "%u", count_at (f, c));
      for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
        append_figure (out, md_bench_ingest_figure (f, c, s));
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/* ---- the markdown table -------------------------------------------------------- */

static void
append_cells (GString *out, const MdBenchIngestFigure *x)
{
  if (x->present)
    g_string_append_printf (out, " %.0f | %.0f | %.0f |", x->rate, x->p50_us, x->p99_us);
  else
    g_string_append (out, " — | — | — |");
}

static void
append_ratio (GString *out, double numerator, const MdBenchIngestFigure *reference)
{
  if (reference->present && reference->rate > 0)
    g_string_append_printf (out, " %.2f× |", numerator / reference->rate);
  else
    g_string_append (out, " — |");
}

static void
append_table (GString *out, const MdBenchIngestFigures *f)
{
  g_string_append (out, "| clients | bare /s | bare p50 µs | bare p99 µs "
                        "| libcoap /s | libcoap p50 µs | libcoap p99 µs "
                        "| mydailyd notes/s | mydailyd p50 µs | mydailyd p99 µs "
                        "| × bare | × libcoap |\n");
  g_string_append (out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (guint c = 0; c < f->counts->len; c++)
    {
      const MdBenchIngestFigure *d = md_bench_ingest_figure (f, c, MD_BENCH_SERVER_MYDAILYD);

      g_string_append_printf (out, "| %u |", count_at (f, c));
      for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
        append_cells (out, md_bench_ingest_figure (f, c, s));
      append_ratio (out, d->rate, md_bench_ingest_figure (f, c, MD_BENCH_SERVER_BARE));
      append_ratio (out, d->rate, md_bench_ingest_figure (f, c, MD_BENCH_SERVER_LIBCOAP));
      g_string_append_c (out, '\n');
    }
}

static void
append_cpu_table (GString *out, const MdBenchIngestFigures *f)
{
  g_string_append (out, "\nCores kept busy during each run (server / load generator):\n\n"
                        "| clients | bare | libcoap | mydailyd |\n|---:|---:|---:|---:|\n");
  for (guint c = 0; c < f->counts->len; c++)
    {
      g_string_append_printf (out, "| %u |", count_at (f, c));
      for (guint s = 0; s < MD_BENCH_N_SERVERS; s++)
        {
          const MdBenchIngestFigure *x = md_bench_ingest_figure (f, c, s);

          if (x->present)
            g_string_append_printf (out, " %.2f / %.2f |", x->server_cpu, x->generator_cpu);
          else
            g_string_append (out, " — |");
        }
      g_string_append_c (out, '\n');
    }
}

static int
find_count (const MdBenchIngestFigures *f, guint n)
{
  for (guint c = 0; c < f->counts->len; c++)
    if (count_at (f, c) == n)
      return (int)c;
  return -1;
}

static void
append_target (GString *out, const char *what, double value, gboolean at_most, double target)
{
  gboolean met = at_most ? value <= target : value >= target;

  g_string_append_printf (out, "| %s | %.2f | %s %.2f | %s |\n", what, value, at_most ? "≤" : "≥",
                          target, met ? "met" : "**missed**");
}

static void
append_targets (GString *out, const MdBenchIngestFigures *f)
{
  int c64 = find_count (f, 64), c1 = find_count (f, 1);

  g_string_append (out, "\n| target | ratio | wanted | |\n|---|---:|---:|---|\n");
  if (c64 >= 0)
    {
      const MdBenchIngestFigure *d = md_bench_ingest_figure (f, c64, MD_BENCH_SERVER_MYDAILYD);
      const MdBenchIngestFigure *libcoap = md_bench_ingest_figure (f, c64, MD_BENCH_SERVER_LIBCOAP);

      append_target (out, "ingest at 64 clients / bare responder",
                     d->rate / md_bench_ingest_figure (f, c64, MD_BENCH_SERVER_BARE)->rate, FALSE,
                     TARGET_VS_BARE);
      if (libcoap->present)
        append_target (out, "ingest at 64 clients / libcoap in memory", d->rate / libcoap->rate,
                       FALSE, TARGET_VS_LIBCOAP);
    }
  if (c1 >= 0)
    {
      const MdBenchIngestFigure *bare = md_bench_ingest_figure (f, c1, MD_BENCH_SERVER_BARE);
      double budget = bare->p50_us + TARGET_FDATASYNCS_IN_P50 * f->fdatasync_us;

      append_target (out, "p50 at 1 client / (bare p50 + 1.5 fdatasync)",
                     md_bench_ingest_figure (f, c1, MD_BENCH_SERVER_MYDAILYD)->p50_us / budget,
                     TRUE, 1.0);
    }
}

static char *
markdown (const MdBenchIngestFigures *f)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out,
                          "Measured %s on loopback; medians of the rounds; one fdatasync: "
                          "%.0f µs.\n\n",
                          f->when, f->fdatasync_us);
  append_table (out, f);
  append_cpu_table (out, f);
  append_targets (out, f);
  return g_string_free (out, FALSE);
}

gboolean
md_bench_ingest_write_files (const MdBenchIngestFigures *f, const char *dir, GError **error)
{
  g_autofree char *dat_path = g_build_filename (dir, "ingest.dat", NULL);
  g_autofree char *md_path = g_build_filename (dir, "ingest.md", NULL);
  g_autofree char *dat = data_file (f);
  g_autofree char *md = markdown (f);

  return g_file_set_contents (dat_path, dat, -1, error)
         && g_file_set_contents (md_path, md, -1, error);
}
