/* A latency histogram: fixed memory however many requests a run makes, and
 * percentiles exact to the bucket width (1 us below 10 ms, 100 us above). */
#include "config.h"

#include "md-bench.h"

#define FINE_LIMIT_NS (10 * 1000 * 1000)             /* 10 ms */
#define FINE_WIDTH_NS 1000                           /* 1 us */
#define COARSE_LIMIT_NS (10ull * 1000 * 1000 * 1000) /* 10 s */
#define COARSE_WIDTH_NS (100 * 1000)                 /* 100 us */
#define N_FINE (FINE_LIMIT_NS / FINE_WIDTH_NS)
#define N_COARSE ((COARSE_LIMIT_NS - FINE_LIMIT_NS) / COARSE_WIDTH_NS)
/* The last bucket takes everything slower than COARSE_LIMIT_NS. */
#define N_BUCKETS (N_FINE + N_COARSE + 1)

struct _MdBenchLatency
{
  guint64 count;
  guint64 buckets[N_BUCKETS];
};

MdBenchLatency *
md_bench_latency_new (void)
{
  return g_new0 (MdBenchLatency, 1);
}

void
md_bench_latency_free (MdBenchLatency *self)
{
  g_free (self);
}

static guint
bucket_of (guint64 ns)
{
  if (ns < FINE_LIMIT_NS)
    return (guint)(ns / FINE_WIDTH_NS);
  if (ns < COARSE_LIMIT_NS)
    return (guint)(N_FINE + (ns - FINE_LIMIT_NS) / COARSE_WIDTH_NS);
  return N_BUCKETS - 1;
}

/* A bucket's upper edge, so a percentile never reads better than it was. */
static double
bucket_limit_us (guint bucket)
{
  if (bucket < N_FINE)
    return (bucket + 1) * (FINE_WIDTH_NS / 1000.0);
  return (FINE_LIMIT_NS + (bucket - N_FINE + 1) * (double)COARSE_WIDTH_NS) / 1000.0;
}

void
md_bench_latency_add (MdBenchLatency *self, guint64 ns)
{
  self->buckets[bucket_of (ns)]++;
  self->count++;
}

guint64
md_bench_latency_get_count (const MdBenchLatency *self)
{
  return self->count;
}

double
md_bench_latency_percentile (const MdBenchLatency *self, double fraction)
{
  guint64 rank, seen = 0;

  g_return_val_if_fail (self != NULL && fraction > 0 && fraction <= 1, 0);

  if (self->count == 0)
    return 0;
  rank = (guint64)(fraction * (double)self->count + 0.5);
  rank = CLAMP (rank, 1, self->count);
  for (guint i = 0; i < N_BUCKETS; i++)
    {
      seen += self->buckets[i];
      if (seen >= rank)
        return bucket_limit_us (i);
    }
  return bucket_limit_us (N_BUCKETS - 1);
}
