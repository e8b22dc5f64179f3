#include "config.h"

#include "md-host-shares.h"

#include <string.h>

typedef struct
{
  guint8 host[16];
  guint8 len;
  guint count;
} MdHostShare;

struct _MdHostShares
{
  GHashTable *hosts; /* set of MdHostShare */
};

static guint
md_host_share_hash (gconstpointer key)
{
  const MdHostShare *share = key;

  return md_peer_hash_bytes (share->host, share->len);
}

static gboolean
md_host_share_equal (gconstpointer a, gconstpointer b)
{
  const MdHostShare *sa = a;
  const MdHostShare *sb = b;

  return sa->len == sb->len && memcmp (sa->host, sb->host, sa->len) == 0;
}

MdHostShares *
md_host_shares_new (void)
{
  MdHostShares *self = g_new0 (MdHostShares, 1);

  self->hosts = g_hash_table_new_full (md_host_share_hash, md_host_share_equal, NULL, g_free);
  return self;
}

void
md_host_shares_free (MdHostShares *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->hosts);
  g_free (self);
}

static MdHostShare *
md_host_shares_lookup (MdHostShares *self, const MdPeer *peer, MdHostShare *probe)
{
  memset (probe, 0, sizeof *probe);
  probe->len = (guint8)md_peer_host_bytes (peer, probe->host);
  return g_hash_table_lookup (self->hosts, probe);
}

guint
md_host_shares_get (MdHostShares *self, const MdPeer *peer)
{
  MdHostShare probe;
  MdHostShare *share;

  g_return_val_if_fail (self != NULL && peer != NULL, 0);

  share = md_host_shares_lookup (self, peer, &probe);
  return share != NULL ? share->count : 0;
}

void
md_host_shares_take (MdHostShares *self, const MdPeer *peer)
{
  MdHostShare probe;
  MdHostShare *share;

  g_return_if_fail (self != NULL && peer != NULL);

  share = md_host_shares_lookup (self, peer, &probe);
  if (share == NULL)
    {
      share = g_memdup2 (&probe, sizeof probe);
      g_hash_table_add (self->hosts, share);
    }
  share->count++;
}

void
md_host_shares_release (MdHostShares *self, const MdPeer *peer)
{
  MdHostShare probe;
  MdHostShare *share;

  g_return_if_fail (self != NULL && peer != NULL);

  share = md_host_shares_lookup (self, peer, &probe);
  g_return_if_fail (share != NULL && share->count > 0);
  if (--share->count == 0)
    g_hash_table_remove (self->hosts, share);
}

guint
md_host_shares_get_hosts (MdHostShares *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->hosts);
}
