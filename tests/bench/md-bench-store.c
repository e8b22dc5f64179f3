/* The store against the file it indexes: start-up time against reading the
 * file once, memory against the file size, and block reads of GET /notes at
 * a small history against the same reads at a big one. */
#include "config.h"

#include "md-bench.h"

#include "md-error.h"
#include "md-store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READ_SLICE (1024 * 1024)
#define BLOCK_SIZE 1024
/* Body reads before timing, so both stores have their index hot. */
#define BODY_WARMUP_READS 1000
#define BENCH_SEED 20261124

/* ---- reference: read the file once ---------------------------------------- */

static gboolean
read_file_once (const char *path, double *seconds, GError **error)
{
  g_autofree char *buf = g_malloc (READ_SLICE);
  gint64 start = g_get_monotonic_time ();
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gssize n;

  if (fd < 0)
    {
      md_error_set_errno (error, errno, "cannot open the notes file");
      return FALSE;
    }
  while ((n = read (fd, buf, READ_SLICE)) > 0 || (n < 0 && errno == EINTR))
    ;
  if (n < 0)
    md_error_set_errno (error, errno, "cannot read the notes file");
  close (fd);
  *seconds = md_bench_seconds_since (start);
  return n == 0;
}

/* A floor for any parser that checks notes: read the file once, find every
 * line and validate its UTF-8, and nothing else. */
static gsize
scan_lines (const char *data, gsize len, guint64 *n_lines, gboolean *valid)
{
  const char *p = data, *end = data + len, *nl;

  while ((nl = memchr (p, '\n', (gsize)(end - p))) != NULL)
    {
      *valid &= g_utf8_validate_len (p, (gsize)(nl - p), NULL);
      (*n_lines)++;
      p = nl + 1;
    }
  return (gsize)(p - data);
}

static gboolean
scan_file_once (const char *path, guint64 expected, double *seconds, GError **error)
{
  g_autofree char *buf = g_malloc (READ_SLICE);
  gint64 start = g_get_monotonic_time ();
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  guint64 n_lines = 0;
  gboolean valid = TRUE;
  gsize fill = 0, used;
  gssize n;

  if (fd < 0)
    {
      md_error_set_errno (error, errno, "cannot open the notes file");
      return FALSE;
    }
  /* Bounded: every read returns at least one byte or ends the loop. */
  while ((n = read (fd, buf + fill, READ_SLICE - fill)) > 0)
    {
      fill += (gsize)n;
      used = scan_lines (buf, fill, &n_lines, &valid);
      memmove (buf, buf + used, fill - used);
      fill -= used;
    }
  close (fd);
  *seconds = md_bench_seconds_since (start);
  if (n < 0 || !valid || n_lines != expected)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "scanning the notes file failed");
      return FALSE;
    }
  return TRUE;
}

/* ---- subject: md_store_open ------------------------------------------------ */

static gboolean
open_store_once (const char *directory, guint64 expected, double *seconds, GError **error)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr (MdStore) store = md_store_open (directory, NULL, error);

  *seconds = md_bench_seconds_since (start);
  if (store == NULL)
    return FALSE;
  if (md_store_get_count (store) != expected)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "store has %" G_GUINT64_FORMAT " notes, expected %" G_GUINT64_FORMAT,
                   md_store_get_count (store), expected);
      return FALSE;
    }
  return TRUE;
}

static void
report_open (const MdBenchOptions *opts, double read_s, double scan_s, double open_s,
             guint64 file_size)
{
  md_bench_report_reference ("read-file", read_s * 1000, "ms");
  md_bench_report_reference ("scan-file", scan_s * 1000, "ms");
  md_bench_report ("store-open", open_s * 1000, "ms", open_s / read_s, "read-file",
                   "open time / time to read the file once; design: about 1");
  md_bench_report ("store-open-vs-scan", open_s * 1000, "ms", open_s / scan_s, "scan-file",
                   "open time / read + split lines + validate UTF-8");
  md_bench_report_info ("store-open-throughput", "%.0f MB/s, %.0f ns/note",
                        file_size / open_s / 1e6, open_s * 1e9 / opts->notes);
}

static gboolean
measure_open (const MdBenchOptions *opts, const char *directory, const char *path,
              guint64 file_size, GError **error)
{
  g_autofree double *reads = g_new0 (double, opts->rounds);
  g_autofree double *scans = g_new0 (double, opts->rounds);
  g_autofree double *opens = g_new0 (double, opts->rounds);
  double warm;

  /* Warm the page cache: both sides measure CPU and memory, not the disk. */
  if (!read_file_once (path, &warm, error))
    return FALSE;
  for (guint r = 0; r < opts->rounds; r++)
    if (!read_file_once (path, &reads[r], error)
        || !scan_file_once (path, opts->notes, &scans[r], error)
        || !open_store_once (directory, opts->notes, &opens[r], error))
      return FALSE;
  report_open (opts, md_bench_median (reads, opts->rounds), md_bench_median (scans, opts->rounds),
               md_bench_median (opens, opts->rounds), file_size);
  return TRUE;
}

/* ---- memory: peak RSS growth of one open ---------------------------------- */

typedef struct
{
  guint64 peak_growth;
  guint64 retained;
  gboolean ok;
} MemoryResult;

/* "5" resets VmHWM to the current RSS (Linux >= 4.0), so the peak that
 * follows is the open's own. */
static gboolean
reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && write (fd, "5", 1) == 1;

  if (fd >= 0)
    close (fd);
  return ok;
}

/* Runs in a fresh child: the parent's freed heap would hide the growth. */
static void
memory_child (const char *directory, int out_fd)
{
  MemoryResult result = { 0, 0, FALSE };
  guint64 before;
  MdStore *store;

  if (reset_peak_rss ())
    {
      before = md_bench_proc_status_bytes ("/proc/self/status", "VmRSS");
      store = md_store_open (directory, NULL, NULL);
      result.ok = store != NULL;
      result.peak_growth = md_bench_proc_status_bytes ("/proc/self/status", "VmHWM") - before;
      result.retained = md_bench_proc_status_bytes ("/proc/self/status", "VmRSS") - before;
    }
  if (write (out_fd, &result, sizeof result) != sizeof result)
    _exit (1);
  _exit (0);
}

static gboolean
measure_memory_in_child (const char *directory, MemoryResult *result, GError **error)
{
  int fds[2];
  pid_t pid;
  gssize n;

  if (pipe (fds) < 0)
    {
      md_error_set_errno (error, errno, "pipe");
      return FALSE;
    }
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      memory_child (directory, fds[1]);
    }
  close (fds[1]);
  n = pid > 0 ? read (fds[0], result, sizeof *result) : -1;
  close (fds[0]);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  if (n != sizeof *result || !result->ok)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "memory measurement failed");
      return FALSE;
    }
  return TRUE;
}

static gboolean
measure_memory (const MdBenchOptions *opts, const char *directory, guint64 file_size,
                GError **error)
{
  MemoryResult m;
  double per_note;

  if (!measure_memory_in_child (directory, &m, error))
    return FALSE;
  per_note = (double)m.peak_growth / (double)opts->notes;
  md_bench_report_reference ("notes-file-size", (double)file_size / (double)opts->notes,
                             "bytes/note");
  md_bench_report ("store-open-peak-rss", per_note, "bytes/note",
                   (double)m.peak_growth / (double)file_size, "notes-file-size",
                   "peak RSS growth of one open / file size; no note text held: well below 1");
  md_bench_report ("store-open-retained-rss", (double)m.retained / (double)opts->notes,
                   "bytes/note", (double)m.retained / (double)file_size, "notes-file-size",
                   "RSS still held after open / file size");
  return TRUE;
}

/* ---- body reads: GET /notes?after=N, one Block2 block --------------------- */

static gboolean
body_reads (MdStore *store, guint n_reads, GRand *rand, double *seconds, GError **error)
{
  guint8 buf[BLOCK_SIZE];
  guint64 count = md_store_get_count (store);
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n_reads; i++)
    {
      guint64 after = (guint64)(g_rand_double (rand) * (double)count);
      guint64 blocks = (md_store_get_body_size (store, after) + BLOCK_SIZE - 1) / BLOCK_SIZE;
      guint64 num = (guint64)(g_rand_double (rand) * (double)blocks);

      if (md_store_read_body (store, after, num * BLOCK_SIZE, buf, sizeof buf, error) <= 0)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "empty body block");
          return FALSE;
        }
    }
  *seconds = md_bench_seconds_since (start);
  return TRUE;
}

static gboolean
measure_body_reads (const MdBenchOptions *opts, MdStore *small, MdStore *big, GError **error)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED);
  g_autofree double *smalls = g_new0 (double, opts->rounds);
  g_autofree double *bigs = g_new0 (double, opts->rounds);
  g_autofree char *big_name = g_strdup_printf ("body-read-%" G_GUINT64_FORMAT, opts->notes);
  g_autofree char *small_name = g_strdup_printf ("body-read-%" G_GUINT64_FORMAT, opts->small);
  double warm, small_s, big_s;

  if (!body_reads (small, BODY_WARMUP_READS, rand, &warm, error)
      || !body_reads (big, BODY_WARMUP_READS, rand, &warm, error))
    return FALSE;
  for (guint r = 0; r < opts->rounds; r++)
    if (!body_reads (small, opts->body_reads, rand, &smalls[r], error)
        || !body_reads (big, opts->body_reads, rand, &bigs[r], error))
      return FALSE;
  small_s = md_bench_median (smalls, opts->rounds);
  big_s = md_bench_median (bigs, opts->rounds);
  md_bench_report_reference (small_name, small_s * 1e6 / opts->body_reads, "us/read");
  md_bench_report (big_name, big_s * 1e6 / opts->body_reads, "us/read", big_s / small_s, small_name,
                   "time per 1024-byte block read, big / small history; bounded: ~1");
  return TRUE;
}

static gboolean
bench_body_reads (const MdBenchOptions *opts, const char *big_dir, const char *small_dir,
                  GError **error)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (BENCH_SEED + 1);
  g_autoptr (MdStore) big = NULL;
  g_autoptr (MdStore) small = NULL;
  guint64 small_size;

  if (!md_bench_write_notes (small_dir, opts->small, rand, &small_size, error))
    return FALSE;
  big = md_store_open (big_dir, NULL, error);
  if (big == NULL)
    return FALSE;
  small = md_store_open (small_dir, NULL, error);
  if (small == NULL)
    return FALSE;
  return measure_body_reads (opts, small, big, error);
}

gboolean
md_bench_store (const MdBenchOptions *opts, const char *workdir, const char *big_dir,
                guint64 file_size, GError **error)
{
  g_autofree char *small_dir = g_build_filename (workdir, "small", NULL);
  g_autofree char *path = g_build_filename (big_dir, "notes", NULL);
  gboolean ok;

  ok = measure_memory (opts, big_dir, file_size, error)
       && measure_open (opts, big_dir, path, file_size, error)
       && bench_body_reads (opts, big_dir, small_dir, error);
  md_bench_remove_notes_dir (small_dir);
  return ok;
}
