#include "config.h"

#include "md-peer.h"

#include "md-siphash.h"
#include "md-transport.h"
#include "md-udp-transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static gboolean
md_peer_equal_inet (const struct sockaddr_in *a, const struct sockaddr_in *b)
{
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* The scope id counts too: fe80::1 on eth0 and on eth1 are different hosts. */
static gboolean
md_peer_equal_inet6 (const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
  return memcmp (&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0
         && a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id;
}

/* The local address is part of the identity: RFC 7252 §4.4 scopes Message
 * IDs to an endpoint, and a client may talk to two of our addresses from one
 * port with the same IDs.  A retransmission goes to the address the original
 * did, so dedup loses nothing.  The interface is not: routes may change it. */
static gboolean
md_peer_equal_local (const MdPeerLocal *a, const MdPeerLocal *b)
{
  if (a->family != b->family)
    return FALSE;
  if (a->family == AF_INET)
    return a->addr.v4.s_addr == b->addr.v4.s_addr;
  if (a->family == AF_INET6)
    return memcmp (&a->addr.v6, &b->addr.v6, sizeof a->addr.v6) == 0;
  return TRUE;
}

gboolean
md_peer_equal (const MdPeer *a, const MdPeer *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->fd != b->fd || a->addr.ss_family != b->addr.ss_family
      || !md_peer_equal_local (&a->local, &b->local))
    return FALSE;
  switch (a->addr.ss_family)
    {
      case AF_INET:
        return md_peer_equal_inet ((const struct sockaddr_in *)&a->addr,
                                   (const struct sockaddr_in *)&b->addr);
      case AF_INET6:
        return md_peer_equal_inet6 ((const struct sockaddr_in6 *)&a->addr,
                                    (const struct sockaddr_in6 *)&b->addr);
      default:
        /* Never produced by a UDP socket; compare the raw bytes to be safe. */
        return a->addr_len == b->addr_len && memcmp (&a->addr, &b->addr, a->addr_len) == 0;
    }
}

/* One random key per process for every table of peers: made at first use,
 * never leaves the process, and a restart makes a new one. */
static const MdSipKey *
md_peer_hash_key (void)
{
  static MdSipKey key;
  static gsize made = 0;

  if (g_once_init_enter (&made))
    {
      md_siphash_key_init (&key);
      g_once_init_leave (&made, 1);
    }
  return &key;
}

guint
md_peer_hash (const MdPeer *peer)
{
  guint8 bytes[20];
  gsize len;

  g_return_val_if_fail (peer != NULL, 0);

  /* Scope ids and local addresses are left out: equal peers still hash
   * alike, which is all a hash needs, and a server has few addresses. */
  len = md_peer_address_bytes (peer, bytes);
  bytes[len++] = (guint8)peer->fd;
  bytes[len++] = (guint8)peer->addr.ss_family;
  return (guint)md_siphash (md_peer_hash_key (), bytes, len);
}

gsize
md_peer_host_bytes (const MdPeer *peer, guint8 out[16])
{
  g_return_val_if_fail (peer != NULL, 0);

  if (peer->addr.ss_family == AF_INET)
    {
      memcpy (out, &((const struct sockaddr_in *)&peer->addr)->sin_addr, 4);
      return 4;
    }
  if (peer->addr.ss_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)&peer->addr)->sin6_addr;

      /* One host, whether it reached an IPv4 or a dual-stack socket. */
      if (IN6_IS_ADDR_V4MAPPED (a))
        {
          memcpy (out, &a->s6_addr[12], 4);
          return 4;
        }
      memcpy (out, a, 16);
      return 16;
    }
  return 0;
}

gboolean
md_peer_same_host (const MdPeer *a, const MdPeer *b)
{
  guint8 ha[16], hb[16];
  gsize la, lb;

  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  la = md_peer_host_bytes (a, ha);
  lb = md_peer_host_bytes (b, hb);
  return la == lb && memcmp (ha, hb, la) == 0;
}

guint
md_peer_host_hash (const MdPeer *peer)
{
  guint8 bytes[16];

  g_return_val_if_fail (peer != NULL, 0);

  return md_peer_hash_bytes (bytes, md_peer_host_bytes (peer, bytes));
}

guint
md_peer_hash_bytes (const void *data, gsize len)
{
  g_return_val_if_fail (data != NULL || len == 0, 0);

  return (guint)md_siphash (md_peer_hash_key (), data, len);
}

/* IPv4 gives 6 bytes (address, port) and IPv6 18 (address, port), so the
 * length says the family; an unknown family gives 0 bytes. */
gsize
md_peer_address_bytes (const MdPeer *peer, guint8 out[18])
{
  g_return_val_if_fail (peer != NULL, 0);

  if (peer->addr.ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)&peer->addr;

      memcpy (out, &sin->sin_addr, 4);
      memcpy (out + 4, &sin->sin_port, 2);
      return 6;
    }
  if (peer->addr.ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&peer->addr;

      memcpy (out, &sin6->sin6_addr, 16);
      memcpy (out + 16, &sin6->sin6_port, 2);
      return 18;
    }
  return 0;
}

const char *
md_peer_to_string (const MdPeer *peer, char out[64])
{
  char host[INET6_ADDRSTRLEN];

  g_return_val_if_fail (peer != NULL, NULL);

  if (peer->addr.ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)&peer->addr;

      inet_ntop (AF_INET, &sin->sin_addr, host, sizeof host);
      g_snprintf (out, 64, "%s:%u", host, ntohs (sin->sin_port));
    }
  else if (peer->addr.ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&peer->addr;

      /* A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d; operators
       * grep the journal for the address they know. */
      if (IN6_IS_ADDR_V4MAPPED (&sin6->sin6_addr))
        {
          inet_ntop (AF_INET, &sin6->sin6_addr.s6_addr[12], host, sizeof host);
          g_snprintf (out, 64, "%s:%u", host, ntohs (sin6->sin6_port));
        }
      else
        {
          inet_ntop (AF_INET6, &sin6->sin6_addr, host, sizeof host);
          g_snprintf (out, 64, "[%s]:%u", host, ntohs (sin6->sin6_port));
        }
    }
  else
    g_snprintf (out, 64, "(family %u)", (guint)peer->addr.ss_family);
  return out;
}

gboolean
md_peer_send (const MdPeer *peer, const guint8 *data, gsize len)
{
  MdOutgoing out = { peer, data, len };

  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (peer->transport == NULL)
    return md_udp_send_one (peer, data, len);
  md_transport_send (peer->transport, &out, 1);
  return TRUE;
}
