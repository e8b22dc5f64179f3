/* A client address together with the socket, and the address on it, that it
 * spoke to. */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Our own address the datagram was sent to, from IP_PKTINFO/IPV6_PKTINFO
 * (md-datagram.h).  On a wildcard socket the kernel would otherwise choose a
 * reply's source by route, and a client with a connected socket drops a
 * reply from any other address than the one it sent to. */
typedef struct
{
  sa_family_t family; /* AF_INET (also for IPv4 on a dual-stack socket), AF_INET6,
                         or AF_UNSPEC: unknown, the kernel chooses */
  union
  {
    struct in_addr v4;
    struct in6_addr v6;
  } addr;
} MdPeerLocal;

typedef struct
{
  int fd; /* the listening socket the datagram came in on (not owned) */
  /* What answers go through (md-transport.h); NULL: plain UDP on @fd. */
  struct _MdTransport *transport;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  MdPeerLocal local;
} MdPeer;

/* Same socket, family, address and port, and the same local address. */
gboolean md_peer_equal (const MdPeer *a, const MdPeer *b);
/* SipHash (md-siphash.h) under a random key made once per process, so no
 * client can choose addresses that share a hash chain in any table. */
guint md_peer_hash (const MdPeer *peer);
/* The source host: a peer's address without port, an IPv4-mapped IPv6
 * address as IPv4 (4 or 16 bytes; 0 for an unknown family).  Clients open a
 * new port per request, so fair shares and rate limits count hosts. */
gsize md_peer_host_bytes (const MdPeer *peer, guint8 out[16]);
gboolean md_peer_same_host (const MdPeer *a, const MdPeer *b);
guint md_peer_host_hash (const MdPeer *peer);
/* Other client-chosen bytes (tokens), under the same key. */
guint md_peer_hash_bytes (const void *data, gsize len);
/* Family, address and port only: the bytes a MAC is computed over. */
gsize md_peer_address_bytes (const MdPeer *peer, guint8 out[18]);
/* "127.0.0.1:5683" or "[::1]:5683"; into @out, which is returned. */
const char *md_peer_to_string (const MdPeer *peer, char out[64]);
/* Sends one datagram to @peer through its transport (plain UDP on its
 * socket when it has none), from its local address when known; logs and
 * returns FALSE when it cannot go. */
gboolean md_peer_send (const MdPeer *peer, const guint8 *data, gsize len);

G_END_DECLS
