#include "config.h"

#include "md-dedup.h"

#include "md-weight-heap.h"

#include <string.h>

/* How md_dedup_check() reports a request that was answered with nothing (a
 * NON request whose handler sent no response, or one the server chose to
 * drop): MD_DEDUP_REPLAY with *response set to NULL.  The caller sends
 * nothing, exactly as the first time, and does not execute the request again.
 *
 * Memory bound: every entry is charged MD_DEDUP_ENTRY_COST bytes on top of its
 * response, so a flood of distinct Message IDs (in-progress or silent entries
 * with no response bytes) is bounded by @max_bytes as well. */

/* Roughly an entry, its hash node and its queue links. */
#define MD_DEDUP_ENTRY_COST ((gsize)(sizeof (MdDedupEntry) + 64))
/* Roughly a host's record and its hash node. */
#define MD_DEDUP_HOST_COST ((gsize)(sizeof (MdDedupHost) + 48))

/* A source host and the entries it holds: its weight in the heap is the
 * bytes they cost. */
typedef struct
{
  guint8 host[16];
  guint8 len;
  MdWeightHeapNode node; /* weight: bytes charged to this host */
  GQueue entries;        /* this host's, oldest first */
} MdDedupHost;

typedef struct
{
  MdPeer peer;
  guint16 mid;
  gboolean completed;
  gint64 first_seen_us;
  GBytes *response; /* NULL: still in progress, or answered with silence */
  MdDedupHost *host;
  GList link;      /* in MdDedup.by_age, data points back to the entry */
  GList host_link; /* in host->entries, likewise */
} MdDedupEntry;

struct _MdDedup
{
  GHashTable *entries;    /* set of MdDedupEntry, keyed by (peer, mid) */
  GHashTable *hosts;      /* set of MdDedupHost, keyed by address */
  MdWeightHeap by_weight; /* of MdDedupHost, heaviest on top */
  GQueue by_age;          /* oldest first */
  gsize max_bytes;
  gsize used_bytes;
};

static guint
md_dedup_host_hash (gconstpointer key)
{
  const MdDedupHost *host = key;

  return md_peer_hash_bytes (host->host, host->len);
}

static gboolean
md_dedup_host_equal (gconstpointer a, gconstpointer b)
{
  const MdDedupHost *ha = a;
  const MdDedupHost *hb = b;

  return ha->len == hb->len && memcmp (ha->host, hb->host, ha->len) == 0;
}

static guint
md_dedup_entry_hash (gconstpointer key)
{
  const MdDedupEntry *entry = key;

  return md_peer_hash (&entry->peer) ^ ((guint)entry->mid * 2654435761u);
}

static gboolean
md_dedup_entry_equal (gconstpointer a, gconstpointer b)
{
  const MdDedupEntry *ea = a;
  const MdDedupEntry *eb = b;

  return ea->mid == eb->mid && md_peer_equal (&ea->peer, &eb->peer);
}

static gsize
md_dedup_entry_cost (const MdDedupEntry *entry)
{
  return MD_DEDUP_ENTRY_COST + (entry->response ? g_bytes_get_size (entry->response) : 0);
}

static void
md_dedup_entry_free (MdDedupEntry *entry)
{
  g_clear_pointer (&entry->response, g_bytes_unref);
  g_free (entry);
}

MdDedup *
md_dedup_new (gsize max_bytes)
{
  MdDedup *self = g_new0 (MdDedup, 1);

  self->entries = g_hash_table_new_full (md_dedup_entry_hash, md_dedup_entry_equal, NULL,
                                         (GDestroyNotify)md_dedup_entry_free);
  self->hosts = g_hash_table_new_full (md_dedup_host_hash, md_dedup_host_equal, NULL, g_free);
  md_weight_heap_init (&self->by_weight);
  g_queue_init (&self->by_age);
  self->max_bytes = max_bytes;
  return self;
}

void
md_dedup_free (MdDedup *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->entries);
  g_hash_table_destroy (self->hosts);
  md_weight_heap_clear (&self->by_weight);
  g_free (self);
}

/* Adds @delta (may be negative) to the cost of @entry's host and the total. */
static void
md_dedup_charge (MdDedup *self, MdDedupHost *host, gssize delta)
{
  self->used_bytes += (gsize)delta;
  host->node.weight += (guint64)(gint64)delta;
  md_weight_heap_update (&self->by_weight, &host->node);
}

static MdDedupHost *
md_dedup_host_for (MdDedup *self, const MdPeer *peer)
{
  MdDedupHost probe = { 0 };
  MdDedupHost *host;

  probe.len = (guint8)md_peer_host_bytes (peer, probe.host);
  host = g_hash_table_lookup (self->hosts, &probe);
  if (host != NULL)
    return host;
  host = g_memdup2 (&probe, sizeof probe);
  g_queue_init (&host->entries);
  host->node.weight = MD_DEDUP_HOST_COST;
  self->used_bytes += MD_DEDUP_HOST_COST;
  g_hash_table_add (self->hosts, host);
  md_weight_heap_insert (&self->by_weight, &host->node);
  return host;
}

static void
md_dedup_remove (MdDedup *self, MdDedupEntry *entry)
{
  MdDedupHost *host = entry->host;

  md_dedup_charge (self, host, -(gssize)md_dedup_entry_cost (entry));
  g_queue_unlink (&host->entries, &entry->host_link);
  g_queue_unlink (&self->by_age, &entry->link);
  g_hash_table_remove (self->entries, entry);
  if (host->entries.length > 0)
    return;
  self->used_bytes -= MD_DEDUP_HOST_COST;
  md_weight_heap_remove (&self->by_weight, &host->node);
  g_hash_table_remove (self->hosts, host);
}

static void
md_dedup_expire (MdDedup *self, gint64 now_us)
{
  MdDedupEntry *oldest;

  while ((oldest = g_queue_peek_head (&self->by_age)) != NULL
         && now_us - oldest->first_seen_us >= MD_DEDUP_LIFETIME_US)
    md_dedup_remove (self, oldest);
}

/* The oldest entry of the host that holds most bytes goes first: a flood
 * from other hosts evicts its own entries before a live exchange of a host
 * that holds less.  In the extreme that is the entry just added: then that
 * request is simply not deduplicated, and memory stays bounded. */
static void
md_dedup_enforce_cap (MdDedup *self)
{
  MdWeightHeapNode *top;

  while (self->used_bytes > self->max_bytes
         && (top = md_weight_heap_top (&self->by_weight)) != NULL)
    {
      MdDedupHost *heaviest = (MdDedupHost *)((guint8 *)top - G_STRUCT_OFFSET (MdDedupHost, node));

      md_dedup_remove (self, g_queue_peek_head (&heaviest->entries));
    }
}

static MdDedupEntry *
md_dedup_lookup (MdDedup *self, const MdPeer *peer, guint16 mid)
{
  MdDedupEntry probe = { .peer = *peer, .mid = mid };

  return g_hash_table_lookup (self->entries, &probe);
}

static MdDedupEntry *
md_dedup_insert (MdDedup *self, const MdPeer *peer, guint16 mid, gint64 now_us)
{
  MdDedupEntry *entry = g_new0 (MdDedupEntry, 1);

  entry->peer = *peer;
  entry->mid = mid;
  entry->first_seen_us = now_us;
  entry->link.data = entry;
  entry->host_link.data = entry;
  entry->host = md_dedup_host_for (self, peer);
  g_hash_table_add (self->entries, entry);
  g_queue_push_tail_link (&self->by_age, &entry->link);
  g_queue_push_tail_link (&entry->host->entries, &entry->host_link);
  md_dedup_charge (self, entry->host, (gssize)md_dedup_entry_cost (entry));
  return entry;
}

void
md_dedup_set_max_bytes (MdDedup *self, gsize max_bytes)
{
  g_return_if_fail (self != NULL);

  self->max_bytes = max_bytes;
  md_dedup_enforce_cap (self);
}

/* A small response: an ACK 2.01 with its Location-Path, or a 5.03. */
#define MD_DEDUP_TYPICAL_RESPONSE 48

gsize
md_dedup_bytes_for_rate (double per_second, guint burst, guint hosts)
{
  double exchanges = (double)burst + per_second * (double)(MD_DEDUP_LIFETIME_US / G_USEC_PER_SEC);
  double bytes = exchanges * (double)(MD_DEDUP_ENTRY_COST + MD_DEDUP_TYPICAL_RESPONSE) * hosts;

  return (gsize)MIN (bytes, (double)(G_MAXSIZE / 2));
}

MdDedupResult
md_dedup_check (MdDedup *self, const MdPeer *peer, guint16 mid, gint64 now_us, GBytes **response)
{
  MdDedupEntry *entry;

  g_return_val_if_fail (self != NULL, MD_DEDUP_NEW);
  g_return_val_if_fail (peer != NULL, MD_DEDUP_NEW);
  g_return_val_if_fail (response != NULL, MD_DEDUP_NEW);

  *response = NULL;
  md_dedup_expire (self, now_us);
  entry = md_dedup_lookup (self, peer, mid);
  if (entry == NULL)
    {
      md_dedup_insert (self, peer, mid, now_us);
      md_dedup_enforce_cap (self);
      return MD_DEDUP_NEW;
    }
  if (!entry->completed)
    return MD_DEDUP_IN_PROGRESS;
  *response = entry->response;
  return MD_DEDUP_REPLAY;
}

/* An entry evicted or expired between check and complete is recorded again,
 * so a retransmission still finds the answer. */
void
md_dedup_complete (MdDedup *self, const MdPeer *peer, guint16 mid, GBytes *response, gint64 now_us)
{
  MdDedupEntry *entry;

  g_return_if_fail (self != NULL);
  g_return_if_fail (peer != NULL);

  md_dedup_expire (self, now_us);
  entry = md_dedup_lookup (self, peer, mid);
  if (entry == NULL)
    entry = md_dedup_insert (self, peer, mid, now_us);

  md_dedup_charge (self, entry->host, -(gssize)md_dedup_entry_cost (entry));
  g_clear_pointer (&entry->response, g_bytes_unref);
  entry->response = response ? g_bytes_ref (response) : NULL;
  entry->completed = TRUE;
  md_dedup_charge (self, entry->host, (gssize)md_dedup_entry_cost (entry));
  md_dedup_enforce_cap (self);
}

guint
md_dedup_get_size (MdDedup *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->entries);
}
