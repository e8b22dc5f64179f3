#include "config.h"

/* struct in6_pktinfo (RFC 3542) is a GNU extension in glibc's headers;
 * config.h includes no system header, so this still comes first. */
#define _GNU_SOURCE

#include "md-datagram.h"

#include "md-error.h"

#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

/* Room for every control message read_local() looks at, aligned, and for
 * others an administrator may enable on a socket systemd passes
 * (Timestamping= and the like), which must not crowd ours out. */
#define MD_DATAGRAM_OTHER_CONTROL 128

typedef union
{
  char buffer[CMSG_SPACE (sizeof (struct in_pktinfo)) + CMSG_SPACE (sizeof (struct in6_pktinfo))
              + MD_DATAGRAM_OTHER_CONTROL];
  struct cmsghdr align;
} MdDatagramControl;

/* ---- enabling ----------------------------------------------------------- */

static gboolean
enable_option (int fd, int level, int name, const char *what, GError **error)
{
  int one = 1;

  if (setsockopt (fd, level, name, &one, sizeof one) == 0)
    return TRUE;
  md_error_set_errno (error, errno, what);
  return FALSE;
}

/* On an AF_INET6 socket IPV6_RECVPKTINFO alone reports IPv4 datagrams too,
 * as the v4-mapped header destination.  IP_PKTINFO there adds the IPv4
 * ipi_spec_dst, which is the better source for a reply: for a datagram to a
 * broadcast address it is a unicast address of ours. */
gboolean
md_datagram_enable_local_address (int fd, int family, GError **error)
{
  int one = 1;

  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (family == AF_INET || family == AF_INET6, FALSE);

  if (family == AF_INET)
    return enable_option (fd, IPPROTO_IP, IP_PKTINFO, "setsockopt(IP_PKTINFO)", error);
  if (!enable_option (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, "setsockopt(IPV6_RECVPKTINFO)", error))
    return FALSE;
  /* Not fatal: the v4-mapped IPV6_PKTINFO is the fallback. */
  if (setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0)
    g_debug ("setsockopt(IP_PKTINFO) on an IPv6 socket: %s", g_strerror (errno));
  return TRUE;
}

/* ---- receiving ---------------------------------------------------------- */

static gboolean
is_group_inet (struct in_addr addr)
{
  return IN_MULTICAST (ntohl (addr.s_addr)) || addr.s_addr == htonl (INADDR_BROADCAST);
}

/* ipi_spec_dst is a unicast address of ours even for a datagram to a group
 * (ip(7)); ipi_addr is the header's destination. */
static gboolean
read_inet (const struct in_pktinfo *info, MdPeerLocal *local)
{
  local->family = AF_INET;
  local->addr.v4 = info->ipi_spec_dst;
  return is_group_inet (info->ipi_addr);
}

/* A multicast (or broadcast) destination cannot be a source: the answer to
 * such a request comes from a unicast address (RFC 7252 §8.1), so the kernel
 * picks one.  A v4-mapped address is kept as IPv4, so that both kinds of
 * socket send alike.  Returns whether the destination was a group. */
static gboolean
read_inet6 (const struct in6_pktinfo *info, MdPeerLocal *local)
{
  const struct in6_addr *addr = &info->ipi6_addr;

  if (IN6_IS_ADDR_V4MAPPED (addr))
    {
      memcpy (&local->addr.v4, &addr->s6_addr[12], sizeof local->addr.v4);
      if (is_group_inet (local->addr.v4))
        {
          memset (local, 0, sizeof *local);
          return TRUE;
        }
      local->family = AF_INET;
    }
  else
    {
      if (IN6_IS_ADDR_MULTICAST (addr))
        return TRUE;
      local->family = AF_INET6;
      local->addr.v6 = *addr;
    }
  return FALSE;
}

/* Fills @local; returns whether the datagram was sent to a group. */
static gboolean
read_local (struct msghdr *msg, MdPeerLocal *local)
{
  const struct in_pktinfo *inet = NULL;
  gboolean to_group = FALSE;

  memset (local, 0, sizeof *local);
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (msg); cmsg != NULL; cmsg = CMSG_NXTHDR (msg, cmsg))
    {
      if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO
          && cmsg->cmsg_len >= CMSG_LEN (sizeof (struct in_pktinfo)))
        inet = (const struct in_pktinfo *)CMSG_DATA (cmsg);
      else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO
               && cmsg->cmsg_len >= CMSG_LEN (sizeof (struct in6_pktinfo)))
        to_group = read_inet6 ((const struct in6_pktinfo *)CMSG_DATA (cmsg), local);
    }
  /* Both come for IPv4 on a dual-stack socket; see above. */
  if (inet != NULL)
    to_group = read_inet (inet, local) || to_group;
  return to_group;
}

gssize
md_datagram_receive (int fd, guint8 *buffer, gsize size, MdPeer *peer, gboolean *truncated)
{
  struct iovec iov = { .iov_base = buffer, .iov_len = size };
  MdDatagramControl control;
  struct msghdr msg = {
    .msg_name = &peer->addr,
    .msg_namelen = sizeof peer->addr,
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buffer,
    .msg_controllen = sizeof control.buffer,
  };
  ssize_t len;

  g_return_val_if_fail (buffer != NULL && peer != NULL && truncated != NULL, -1);

  memset (peer, 0, sizeof *peer);
  peer->fd = fd;
  len = recvmsg (fd, &msg, MSG_DONTWAIT);
  if (len < 0)
    return -1;
  peer->addr_len = msg.msg_namelen;
  *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  /* Without its local address the answer still goes out, from the one the
   * kernel chooses. */
  if (msg.msg_flags & MSG_CTRUNC)
    g_debug ("control data of a datagram on socket %d truncated", fd);
  read_local (&msg, &peer->local);
  return len;
}

/* ---- sending ------------------------------------------------------------ */

static struct cmsghdr *
start_control (struct msghdr *msg, MdDatagramControl *control, int level, int type, gsize len)
{
  struct cmsghdr *cmsg;

  memset (control, 0, sizeof *control);
  msg->msg_control = control->buffer;
  msg->msg_controllen = CMSG_SPACE (len);
  cmsg = CMSG_FIRSTHDR (msg);
  cmsg->cmsg_level = level;
  cmsg->cmsg_type = type;
  cmsg->cmsg_len = CMSG_LEN (len);
  return cmsg;
}

/* The interface index stays 0: a non-zero one forces the answer out of the
 * interface the request came in on, whatever the route to the client says
 * (asymmetric routing), and for IPv4 ip(7) lets that interface's primary
 * address override ipi_spec_dst.  The source address alone is what the
 * client checks; a link-local client's scope id already picks the interface.
 * IP_PKTINFO works on an AF_INET6 socket sending to a v4-mapped address too
 * (Linux's IPv4 send path reads it there). */
static void
write_local (const MdPeerLocal *local, struct msghdr *msg, MdDatagramControl *control)
{
  struct cmsghdr *cmsg;

  if (local->family == AF_INET)
    {
      struct in_pktinfo info = { .ipi_spec_dst = local->addr.v4 };

      cmsg = start_control (msg, control, IPPROTO_IP, IP_PKTINFO, sizeof info);
      memcpy (CMSG_DATA (cmsg), &info, sizeof info);
    }
  else if (local->family == AF_INET6)
    {
      struct in6_pktinfo info = { .ipi6_addr = local->addr.v6 };

      cmsg = start_control (msg, control, IPPROTO_IPV6, IPV6_PKTINFO, sizeof info);
      memcpy (CMSG_DATA (cmsg), &info, sizeof info);
    }
}

gssize
md_datagram_send (const MdPeer *peer, const guint8 *data, gsize len, gboolean from_local)
{
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  struct msghdr msg = {
    .msg_name = (void *)&peer->addr,
    .msg_namelen = peer->addr_len,
    .msg_iov = &iov,
    .msg_iovlen = 1,
  };
  MdDatagramControl control;
  ssize_t sent;

  g_return_val_if_fail (peer != NULL, -1);
  g_return_val_if_fail (data != NULL || len == 0, -1);

  if (from_local)
    write_local (&peer->local, &msg, &control);
  do
    sent = sendmsg (peer->fd, &msg, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  return sent;
}

/* ---- in batches ----------------------------------------------------------- */

/* The recvmmsg() vector of one batch: each datagram's header, buffer and
 * control data. */
typedef struct
{
  struct mmsghdr headers[MD_TRANSPORT_RECEIVE_MAX];
  struct iovec iovs[MD_TRANSPORT_RECEIVE_MAX];
  MdDatagramControl controls[MD_TRANSPORT_RECEIVE_MAX];
} MdDatagramVector;

static void
prepare_receive (MdDatagramVector *v, guint i, guint8 *buffer, gsize size, MdDatagram *out)
{
  memset (&out->peer, 0, sizeof out->peer);
  v->iovs[i] = (struct iovec){ .iov_base = buffer, .iov_len = size };
  v->headers[i].msg_hdr = (struct msghdr){
    .msg_name = &out->peer.addr,
    .msg_namelen = sizeof out->peer.addr,
    .msg_iov = &v->iovs[i],
    .msg_iovlen = 1,
    .msg_control = v->controls[i].buffer,
    .msg_controllen = sizeof v->controls[i].buffer,
  };
}

static void
finish_receive (struct mmsghdr *header, int fd, const guint8 *buffer, MdDatagram *out)
{
  struct msghdr *msg = &header->msg_hdr;

  out->peer.fd = fd;
  out->peer.addr_len = msg->msg_namelen;
  out->identity = NULL;
  out->data = buffer;
  out->len = header->msg_len;
  out->truncated = (msg->msg_flags & MSG_TRUNC) != 0;
  if (msg->msg_flags & MSG_CTRUNC)
    g_debug ("control data of a datagram on socket %d truncated", fd);
  out->to_group = read_local (msg, &out->peer.local);
}

guint
md_datagram_receive_many (int fd, guint8 *buffers, gsize size, MdDatagram *out, guint n)
{
  g_autofree MdDatagramVector *v = NULL;
  int got;

  g_return_val_if_fail (buffers != NULL && out != NULL, 0);
  g_return_val_if_fail (n <= MD_TRANSPORT_RECEIVE_MAX, 0);

  if (n == 0)
    return 0;
  /* About 20 KiB: on the heap, not the main loop's stack. */
  v = g_new (MdDatagramVector, 1);
  for (guint i = 0; i < n; i++)
    prepare_receive (v, i, buffers + i * size, size, &out[i]);
  do
    got = recvmmsg (fd, v->headers, n, MSG_DONTWAIT, NULL);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        g_debug ("recvmmsg on socket %d: %s", fd, g_strerror (errno));
      return 0;
    }
  for (int i = 0; i < got; i++)
    finish_receive (&v->headers[i], fd, buffers + (gsize)i * size, &out[i]);
  return (guint)got;
}

guint
md_datagram_send_many (int fd, const MdOutgoing *out, guint n)
{
  struct mmsghdr headers[MD_TRANSPORT_RECEIVE_MAX];
  struct iovec iovs[MD_TRANSPORT_RECEIVE_MAX];
  g_autofree MdDatagramControl *controls = NULL;
  int sent;

  g_return_val_if_fail (out != NULL || n == 0, 0);

  n = MIN (n, MD_TRANSPORT_RECEIVE_MAX);
  if (n == 0)
    return 0;
  controls = g_new (MdDatagramControl, n);
  for (guint i = 0; i < n; i++)
    {
      iovs[i] = (struct iovec){ .iov_base = (void *)out[i].data, .iov_len = out[i].len };
      headers[i].msg_len = 0;
      headers[i].msg_hdr = (struct msghdr){
        .msg_name = (void *)&out[i].peer->addr,
        .msg_namelen = out[i].peer->addr_len,
        .msg_iov = &iovs[i],
        .msg_iovlen = 1,
      };
      write_local (&out[i].peer->local, &headers[i].msg_hdr, &controls[i]);
    }
  do
    sent = sendmmsg (fd, headers, n, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  return sent < 0 ? 0 : (guint)sent;
}
