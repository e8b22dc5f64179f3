/* The ingest benchmark's figures, shared by the run (md-bench-ingest.c) and
 * its report (md-bench-ingest-report.c). */
#pragma once

#include "md-bench.h"

G_BEGIN_DECLS

typedef enum
{
  MD_BENCH_SERVER_BARE,     /* md-bench-responder: the machine's limit */
  MD_BENCH_SERVER_LIBCOAP,  /* coap-server-notls, PUT in memory */
  MD_BENCH_SERVER_MYDAILYD, /* POST /notes, durable */
  MD_BENCH_N_SERVERS,
} MdBenchServerKind;

typedef struct
{
  gboolean present; /* FALSE when the server is not installed */
  double rate;      /* median over the rounds, requests/s */
  double p50_us, p99_us;
  guint64 resent, lost; /* over all rounds */
  double server_cpu;    /* CPUs the server kept busy (1 = one core), median */
  double generator_cpu; /* CPUs the load generator kept busy, median */
} MdBenchIngestFigure;

typedef struct
{
  GArray *counts;               /* of guint: client counts */
  MdBenchIngestFigure *figures; /* [count index * MD_BENCH_N_SERVERS + server] */
  double fdatasync_us;          /* one append + fdatasync, median */
  char *when;                   /* UTC, ISO 8601 */
} MdBenchIngestFigures;

static inline MdBenchIngestFigure *
md_bench_ingest_figure (const MdBenchIngestFigures *f, guint count_index, MdBenchServerKind server)
{
  return &f->figures[count_index * MD_BENCH_N_SERVERS + server];
}

/* Metric lines on stdout, and the targets of issue 7 as ratios. */
void md_bench_ingest_report (const MdBenchIngestFigures *f);

/* DIR/ingest.dat (for docs/performance.gp) and DIR/ingest.md (the table). */
gboolean md_bench_ingest_write_files (const MdBenchIngestFigures *f, const char *dir,
                                      GError **error);

G_END_DECLS
