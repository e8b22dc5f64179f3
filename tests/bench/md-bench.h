/* md-bench: speed and memory of mydaily as ratios against a reference taken
 * in the same run on the same machine (machines are noisy; ratios travel).
 *
 * Every metric is printed as one line
 *   "metric: value unit (ratio X vs reference NAME: what the ratio means)"
 * and every reference as "metric: value unit (reference)". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 notes;    /* notes in the big notes file */
  guint64 small;    /* notes in the small file body reads are compared with */
  guint rounds;     /* reference and subject run alternately this often */
  guint body_reads; /* random block reads per measurement */
  guint lines;      /* notes added through the daemon per measurement */
  guint clients;    /* concurrent mydailyctl processes for group commit */
  gboolean no_e2e;
} MdBenchOptions;

/* ---- notes (md-bench-notes.c) ---- */

/* Appends a realistic note text: 20..200 bytes of mixed ASCII and Chinese
 * words, valid UTF-8, no control characters. */
void md_bench_note_text (GRand *rand, GString *out);

/* Writes DIRECTORY/notes with @n_notes records (half of them keyed) and
 * syncs it, so a later md_store_open pays for no write-back. */
gboolean md_bench_write_notes (const char *directory, guint64 n_notes, GRand *rand,
                               guint64 *file_size, GError **error);

/* Removes DIRECTORY/notes and DIRECTORY. */
void md_bench_remove_notes_dir (const char *directory);

/* ---- measuring and reporting (md-bench.c) ---- */

double md_bench_seconds_since (gint64 start_us);
/* Sorts @values in place. */
double md_bench_median (double *values, guint n);
void md_bench_report_reference (const char *metric, double value, const char *unit);
/* @ratio_meaning says what the ratio divides by what. */
void md_bench_report (const char *metric, double value, const char *unit, double ratio,
                      const char *reference, const char *ratio_meaning);
void md_bench_report_info (const char *metric, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* ---- the store: open, memory, body reads (md-bench-store.c) ---- */

gboolean md_bench_store (const MdBenchOptions *opts, const char *workdir, GError **error);

/* ---- the daemon end to end (md-bench-e2e.c) ---- */

gboolean md_bench_e2e (const MdBenchOptions *opts, GError **error);

G_END_DECLS
