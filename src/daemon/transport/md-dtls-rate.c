#include "config.h"

#include "md-dtls-rate.h"

#include <string.h>

gboolean
md_dtls_bucket_take (MdDtlsBucket *bucket, double per_s, double burst, gint64 now_us)
{
  g_return_val_if_fail (bucket != NULL, FALSE);

  if (bucket->updated_us == 0)
    bucket->tokens = burst;
  else if (now_us > bucket->updated_us)
    bucket->tokens = MIN (burst, bucket->tokens + per_s * (now_us - bucket->updated_us) / 1e6);
  bucket->updated_us = MAX (now_us, 1);
  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

void
md_dtls_host_rate_init (MdDtlsHostRate *self, double per_s, double burst)
{
  g_return_if_fail (self != NULL);

  memset (self->buckets, 0, sizeof self->buckets);
  self->per_s = per_s;
  self->burst = burst;
}

gsize
md_dtls_peer_host (const MdPeer *peer, guint8 out[16])
{
  g_return_val_if_fail (peer != NULL && out != NULL, 0);

  if (peer->addr.ss_family == AF_INET)
    {
      memcpy (out, &((const struct sockaddr_in *)&peer->addr)->sin_addr, 4);
      return 4;
    }
  if (peer->addr.ss_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)&peer->addr)->sin6_addr;

      /* ::ffff:192.0.2.1 on a dual-stack socket is the IPv4 host. */
      if (IN6_IS_ADDR_V4MAPPED (a))
        {
          memcpy (out, a->s6_addr + 12, 4);
          return 4;
        }
      memcpy (out, a->s6_addr, 16);
      return 16;
    }
  return 0;
}

gboolean
md_dtls_peer_same_host (const MdPeer *a, const MdPeer *b)
{
  guint8 host_a[16];
  guint8 host_b[16];
  gsize len = md_dtls_peer_host (a, host_a);

  return len == md_dtls_peer_host (b, host_b) && memcmp (host_a, host_b, len) == 0;
}

/* The peer's hash (md_peer_hash, keyed) of its host alone. */
static guint
host_hash (const MdPeer *peer)
{
  MdPeer host = { .fd = -1 };
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&host.addr;
  guint8 bytes[16];
  gsize len = md_dtls_peer_host (peer, bytes);

  sin6->sin6_family = AF_INET6;
  memcpy (sin6->sin6_addr.s6_addr + 16 - len, bytes, len);
  host.addr_len = sizeof *sin6;
  return md_peer_hash (&host);
}

gboolean
md_dtls_host_rate_take (MdDtlsHostRate *self, const MdPeer *peer, gint64 now_us)
{
  g_return_val_if_fail (self != NULL && peer != NULL, FALSE);

  return md_dtls_bucket_take (&self->buckets[host_hash (peer) % MD_DTLS_HOST_BUCKETS], self->per_s,
                              self->burst, now_us);
}
