/* A client address together with the socket it spoke to. */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

typedef struct
{
  int fd; /* the listening socket the datagram came in on (not owned) */
  struct sockaddr_storage addr;
  socklen_t addr_len;
} MdPeer;

/* Same socket, family, address and port. */
gboolean md_peer_equal (const MdPeer *a, const MdPeer *b);
guint md_peer_hash (const MdPeer *peer);
/* Family, address and port only: the bytes a MAC is computed over. */
gsize md_peer_address_bytes (const MdPeer *peer, guint8 out[18]);
/* "127.0.0.1:5683" or "[::1]:5683"; into @out, which is returned. */
const char *md_peer_to_string (const MdPeer *peer, char out[64]);
/* sendto() on the peer's socket; logs and returns FALSE on failure. */
gboolean md_peer_send (const MdPeer *peer, const guint8 *data, gsize len);

G_END_DECLS
