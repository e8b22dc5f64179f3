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
  gboolean no_ingest;
  gboolean no_startup;
  GArray *ingest_clients; /* of guint: client counts of the ingest load */
  double ingest_seconds;  /* measured window per ingest run */
  double ingest_warmup;   /* seconds of load before the window opens */
  char *report_dir;       /* where ingest.dat and ingest.md go, or NULL */
  gboolean profile;       /* perf record -g on mydailyd under the largest load */
} MdBenchOptions;

/* ---- notes (md-bench-notes.c) ---- */

/* Appends a realistic note text: 20..200 bytes of mixed ASCII and Chinese
 * words, valid UTF-8, no control characters. */
void md_bench_note_text (GRand *rand, GString *out);

/* Writes DIRECTORY/notes with @n_notes records (half of them keyed) and
 * syncs it, so a later md_store_open pays for no write-back. */
gboolean md_bench_write_notes (const char *directory, guint64 n_notes, GRand *rand,
                               guint64 *file_size, GError **error);

/* Removes the files in DIRECTORY (the notes and whatever a daemon or a run
 * left beside them) and DIRECTORY. */
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
/* "FIELD:   1234 kB" from a /proc/PID/status file, in bytes; 0 if absent. */
guint64 md_bench_proc_status_bytes (const char *status_path, const char *field);

/* ---- latency histogram (md-bench-latency.c) ---- */

typedef struct _MdBenchLatency MdBenchLatency;

MdBenchLatency *md_bench_latency_new (void);
void md_bench_latency_free (MdBenchLatency *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdBenchLatency, md_bench_latency_free)
void md_bench_latency_add (MdBenchLatency *self, guint64 ns);
guint64 md_bench_latency_get_count (const MdBenchLatency *self);
/* In microseconds, the upper edge of the bucket that holds it. */
double md_bench_latency_percentile (const MdBenchLatency *self, double fraction);

/* ---- a server process under measurement (md-bench-server.c) ---- */

typedef enum
{
  MD_BENCH_READY_NOTIFY, /* sends sd_notify READY=1 (mydailyd) */
  MD_BENCH_READY_PING,   /* serves once it answers a CoAP ping */
  MD_BENCH_READY_NONE,   /* no server: started is all there is (perf) */
} MdBenchReadiness;

typedef struct _MdBenchServer MdBenchServer;

/* Runs @argv (looked up in PATH) with stdout and stderr appended to
 * @log_path, and waits until it serves on 127.0.0.1:@port. */
MdBenchServer *md_bench_server_start (const char *name, const char *const *argv, guint16 port,
                                      MdBenchReadiness readiness, const char *log_path,
                                      GError **error);
/* SIGTERM and a bounded wait (then SIGKILL): FALSE if it had to be killed. */
gboolean md_bench_server_stop (MdBenchServer *self, GError **error);
/* Stops it first if it still runs. */
void md_bench_server_free (MdBenchServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdBenchServer, md_bench_server_free)
GPid md_bench_server_get_pid (const MdBenchServer *self);
guint16 md_bench_server_get_port (const MdBenchServer *self);
/* From the spawn to readiness. */
double md_bench_server_get_start_seconds (const MdBenchServer *self);
/* The waitpid() status once stopped; -1 while it runs. */
int md_bench_server_get_wait_status (const MdBenchServer *self);
/* A field of its /proc/PID/status ("VmHWM", "VmRSS"), in bytes. */
guint64 md_bench_server_get_status_bytes (const MdBenchServer *self, const char *field);

/* $MYDAILYD on a free port of 127.0.0.1, its config and log in @run_dir. */
MdBenchServer *md_bench_server_start_mydailyd (const char *state_dir, const char *run_dir,
                                               GError **error);
/* $MD_BENCH_RESPONDER, the bare CoAP responder (md-bench-responder.c). */
MdBenchServer *md_bench_server_start_responder (const char *run_dir, GError **error);
#define MD_BENCH_LIBCOAP_SERVER "coap-server-notls"
#define MD_BENCH_LIBCOAP_PATH "example_data"
MdBenchServer *md_bench_server_start_libcoap (const char *run_dir, GError **error);

/* CPU time its process used so far (user + system, every thread). */
double md_bench_server_get_cpu_seconds (const MdBenchServer *self);

/* ---- the ingest load generator (md-bench-load.c) ---- */

typedef struct
{
  guint16 port;          /* on 127.0.0.1 */
  guint n_clients;       /* sockets, each with one CON request outstanding */
  guint8 method;         /* MD_COAP_POST or MD_COAP_PUT */
  const char *path;      /* Uri-Path, "notes" */
  double warmup_seconds; /* of load before the window opens */
  double seconds;        /* the measured window */
} MdBenchLoadSpec;

typedef struct
{
  guint64 completed;  /* 2.xx answers inside the window */
  guint64 answered;   /* every answer, window or not */
  guint64 failed;     /* answers that were not 2.xx */
  guint8 failed_code; /* the last such code */
  guint64 resent;     /* retransmissions */
  guint64 lost;       /* requests given up after every retransmission */
  guint64 unanswered; /* still outstanding when the run ended */
  double rate;        /* completed / window, requests/s */
  double p50_us, p99_us;
  double wall_seconds; /* of the whole run: warm-up, window and drain */
  double cpu_seconds;  /* the generator's thread used in that time */
} MdBenchLoadResult;

gboolean md_bench_load_run (const MdBenchLoadSpec *spec, MdBenchLoadResult *result, GError **error);

/* ---- the store: open, memory, body reads (md-bench-store.c) ---- */

/* @big_dir holds the big notes file of opts->notes notes, @file_size bytes;
 * the small one is made under @workdir. */
gboolean md_bench_store (const MdBenchOptions *opts, const char *workdir, const char *big_dir,
                         guint64 file_size, GError **error);

/* ---- mydailyd start-up on the big file (md-bench-startup.c) ---- */

gboolean md_bench_startup (const MdBenchOptions *opts, const char *workdir, const char *big_dir,
                           GError **error);

/* ---- ingest against the machine's limit (md-bench-ingest.c) ---- */

gboolean md_bench_ingest (const MdBenchOptions *opts, const char *workdir, GError **error);

/* ---- the daemon end to end (md-bench-e2e.c) ---- */

gboolean md_bench_e2e (const MdBenchOptions *opts, GError **error);

G_END_DECLS
