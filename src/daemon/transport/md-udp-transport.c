#include "config.h"

#include "md-udp-transport.h"

#include "md-datagram.h"
#include "md-error.h"
#include "md-log.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>

typedef struct
{
  MdTransport parent;
  guint8 *buffers; /* MD_TRANSPORT_RECEIVE_MAX of MD_TRANSPORT_DATAGRAM_MAX */
} MdUdpTransport;

static int
socket_family (int fd)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;

  if (getsockname (fd, (struct sockaddr *)&addr, &len) < 0)
    return AF_UNSPEC;
  return addr.ss_family;
}

gboolean
md_udp_socket_check (int fd, GError **error)
{
  socklen_t len = sizeof (int);
  int type = 0;
  int family;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
    {
      md_error_set_errno (error, errno, "getsockopt(SO_TYPE)");
      return FALSE;
    }
  family = socket_family (fd);
  if (type == SOCK_DGRAM && (family == AF_INET || family == AF_INET6))
    return TRUE;
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "socket %d is not an IPv4 or IPv6 UDP socket", fd);
  return FALSE;
}

/* The kernel's answer to a source address that is no longer ours: EINVAL
 * (IPv6, older Linux for IPv4), ENETUNREACH (Linux 6 for IPv4), or
 * EADDRNOTAVAIL. */
static gboolean
is_source_refused (int error)
{
  return error == EINVAL || error == ENETUNREACH || error == EADDRNOTAVAIL;
}

/* A client that went away, or a full socket buffer, is normal for UDP: the
 * client retransmits or fetches what it missed, so this only logs at debug. */
gboolean
md_udp_send_one (const MdPeer *peer, const guint8 *data, gsize len)
{
  char peer_str[64];
  ssize_t sent;

  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  sent = md_datagram_send (peer, data, len, TRUE);
  if (sent < 0 && peer->local.family != AF_UNSPEC && is_source_refused (errno))
    sent = md_datagram_send (peer, data, len, FALSE);
  if (sent >= 0)
    return TRUE;
  md_log_send_failed (md_peer_to_string (peer, peer_str), len, errno);
  return FALSE;
}

static guint
md_udp_transport_receive (MdTransport *transport, MdDatagram *datagrams, guint max)
{
  MdUdpTransport *self = (MdUdpTransport *)transport;
  guint n = md_datagram_receive_many (transport->fd, self->buffers, MD_TRANSPORT_DATAGRAM_MAX,
                                      datagrams, max);

  for (guint i = 0; i < n; i++)
    datagrams[i].peer.transport = transport;
  return n;
}

/* One sendmmsg() for as many as go; one that fails is retried alone, from
 * the kernel's choice of source if ours is gone, and then dropped. */
static void
md_udp_transport_send (MdTransport *transport, const MdOutgoing *datagrams, guint n)
{
  guint i = 0;

  while (i < n)
    {
      i += md_datagram_send_many (transport->fd, datagrams + i, n - i);
      if (i < n)
        {
          md_udp_send_one (datagrams[i].peer, datagrams[i].data, datagrams[i].len);
          i++;
        }
    }
}

static void
md_udp_transport_free (MdTransport *transport)
{
  MdUdpTransport *self = (MdUdpTransport *)transport;

  g_free (self->buffers);
  g_free (self);
}

static const MdTransportClass md_udp_transport_class = {
  .name = "udp",
  .receive = md_udp_transport_receive,
  .send = md_udp_transport_send,
  .free = md_udp_transport_free,
};

MdTransport *
md_udp_transport_new (int fd, GError **error)
{
  MdUdpTransport *self;
  int family = socket_family (fd);

  g_return_val_if_fail (family == AF_INET || family == AF_INET6, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Answers leave from the address each request came to (md-datagram.h). */
  if (!md_datagram_enable_local_address (fd, family, error)
      || !g_unix_set_fd_nonblocking (fd, TRUE, error))
    return NULL;
  self = g_new0 (MdUdpTransport, 1);
  self->parent.klass = &md_udp_transport_class;
  self->parent.fd = fd;
  /* Untouched pages cost no memory: most datagrams are small. */
  self->buffers = g_malloc ((gsize)MD_TRANSPORT_RECEIVE_MAX * MD_TRANSPORT_DATAGRAM_MAX);
  return &self->parent;
}
