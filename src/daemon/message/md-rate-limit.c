#include "config.h"

#include "md-rate-limit.h"

#include <string.h>

typedef struct
{
  guint8 host[16];
  guint8 len;
  double tokens;
  gint64 updated_us;
  GList link; /* in MdRateLimit.by_use, data points back to the bucket */
} MdBucket;

struct _MdRateLimit
{
  double per_second;
  guint burst;
  MdAddressSet *exempt; /* owned, may be NULL */
  GHashTable *buckets;  /* set of MdBucket, keyed by host */
  GQueue by_use;        /* touched longest ago first */
};

static guint
md_bucket_hash (gconstpointer key)
{
  const MdBucket *bucket = key;

  return md_peer_hash_bytes (bucket->host, bucket->len);
}

static gboolean
md_bucket_equal (gconstpointer a, gconstpointer b)
{
  const MdBucket *ba = a;
  const MdBucket *bb = b;

  return ba->len == bb->len && memcmp (ba->host, bb->host, ba->len) == 0;
}

MdRateLimit *
md_rate_limit_new (double per_second, guint burst, MdAddressSet *exempt)
{
  MdRateLimit *self = g_new0 (MdRateLimit, 1);

  self->per_second = MAX (per_second, 0);
  self->burst = MAX (burst, 1);
  self->exempt = exempt;
  self->buckets = g_hash_table_new_full (md_bucket_hash, md_bucket_equal, NULL, g_free);
  g_queue_init (&self->by_use);
  return self;
}

void
md_rate_limit_free (MdRateLimit *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->buckets);
  md_address_set_free (self->exempt);
  g_free (self);
}

static MdBucket *
md_rate_limit_bucket (MdRateLimit *self, const MdPeer *peer, gint64 now_us)
{
  MdBucket probe = { 0 };
  MdBucket *bucket;

  probe.len = (guint8)md_peer_host_bytes (peer, probe.host);
  bucket = g_hash_table_lookup (self->buckets, &probe);
  if (bucket != NULL)
    {
      g_queue_unlink (&self->by_use, &bucket->link);
      g_queue_push_tail_link (&self->by_use, &bucket->link);
      return bucket;
    }
  if (g_hash_table_size (self->buckets) >= MD_RATE_LIMIT_MAX_HOSTS)
    {
      MdBucket *oldest = g_queue_pop_head_link (&self->by_use)->data;

      g_hash_table_remove (self->buckets, oldest);
    }
  bucket = g_memdup2 (&probe, sizeof probe);
  bucket->tokens = self->burst;
  bucket->updated_us = now_us;
  bucket->link.data = bucket;
  bucket->link.next = bucket->link.prev = NULL;
  g_hash_table_add (self->buckets, bucket);
  g_queue_push_tail_link (&self->by_use, &bucket->link);
  return bucket;
}

static void
md_rate_limit_refill (MdRateLimit *self, MdBucket *bucket, gint64 now_us)
{
  double elapsed_s = (double)MAX (now_us - bucket->updated_us, 0) / G_USEC_PER_SEC;

  bucket->tokens = MIN ((double)self->burst, bucket->tokens + elapsed_s * self->per_second);
  bucket->updated_us = now_us;
}

/* Rounded up: a client that waits this long finds a whole token. */
static guint
md_rate_limit_seconds_until_token (MdRateLimit *self, const MdBucket *bucket)
{
  double wait_s = MIN ((1 - bucket->tokens) / self->per_second, (double)G_MAXUINT32);
  guint whole = (guint)wait_s;

  if (whole < wait_s)
    whole++;
  return MAX (whole, 1);
}

gboolean
md_rate_limit_take (MdRateLimit *self, const MdPeer *peer, gint64 now_us, guint *retry_after_s)
{
  MdBucket *bucket;

  g_return_val_if_fail (self != NULL && peer != NULL && retry_after_s != NULL, TRUE);

  *retry_after_s = 0;
  if (self->per_second <= 0
      || (self->exempt != NULL && md_address_set_contains (self->exempt, peer)))
    return TRUE;
  bucket = md_rate_limit_bucket (self, peer, now_us);
  md_rate_limit_refill (self, bucket, now_us);
  if (bucket->tokens >= 1)
    {
      bucket->tokens -= 1;
      return TRUE;
    }
  *retry_after_s = md_rate_limit_seconds_until_token (self, bucket);
  return FALSE;
}

guint
md_rate_limit_get_hosts (MdRateLimit *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->buckets);
}

double
md_rate_limit_get_per_second (MdRateLimit *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->per_second;
}

guint
md_rate_limit_get_burst (MdRateLimit *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->burst;
}
