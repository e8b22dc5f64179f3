#include "config.h"

#include "md-multicast.h"

#include "md-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Interface indices probed with SIOCGIFNAME, for interfaces that have no
 * IPv4 address (so SIOCGIFCONF does not list them). */
#define MD_MULTICAST_PROBE_MAX 256
/* Interfaces SIOCGIFCONF reports at most. */
#define MD_MULTICAST_CONF_MAX 128

/* Whether @fd is bound to a wildcard address, and whether it takes IPv4
 * (AF_INET, or AF_INET6 without IPV6_V6ONLY) and IPv6. */
static gboolean
socket_kind (int fd, gboolean *v4, gboolean *v6)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  int v6only = 0;
  socklen_t optlen = sizeof v6only;

  if (getsockname (fd, (struct sockaddr *)&addr, &len) < 0)
    return FALSE;
  if (addr.ss_family == AF_INET)
    {
      *v4 = TRUE;
      *v6 = FALSE;
      return ((struct sockaddr_in *)&addr)->sin_addr.s_addr == htonl (INADDR_ANY);
    }
  if (addr.ss_family != AF_INET6)
    return FALSE;
  if (getsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) < 0)
    v6only = 1;
  *v4 = !v6only;
  *v6 = TRUE;
  return IN6_IS_ADDR_UNSPECIFIED (&((struct sockaddr_in6 *)&addr)->sin6_addr);
}

static void
add_index (GArray *indices, int index)
{
  for (guint i = 0; i < indices->len; i++)
    if (g_array_index (indices, int, i) == index)
      return;
  g_array_append_val (indices, index);
}

/* The interfaces with an IPv4 address, whatever their index. */
static void
list_configured (int fd, GArray *indices)
{
  g_autofree struct ifreq *reqs = g_new0 (struct ifreq, MD_MULTICAST_CONF_MAX);
  struct ifconf conf = { .ifc_len = sizeof *reqs * MD_MULTICAST_CONF_MAX, .ifc_req = reqs };

  if (ioctl (fd, SIOCGIFCONF, &conf) < 0)
    return;
  for (gsize i = 0; i < (gsize)conf.ifc_len / sizeof *reqs; i++)
    if (ioctl (fd, SIOCGIFINDEX, &reqs[i]) == 0)
      add_index (indices, reqs[i].ifr_ifindex);
}

static void
probe_indices (int fd, GArray *indices)
{
  for (int index = 1; index <= MD_MULTICAST_PROBE_MAX; index++)
    {
      struct ifreq req = { .ifr_ifindex = index };

      if (ioctl (fd, SIOCGIFNAME, &req) == 0)
        add_index (indices, index);
    }
}

/* Up, multicast-capable and not loopback; @name filled for logs. */
static gboolean
is_usable (int fd, int index, char name[IF_NAMESIZE])
{
  struct ifreq req = { .ifr_ifindex = index };

  if (ioctl (fd, SIOCGIFNAME, &req) < 0)
    return FALSE;
  g_strlcpy (name, req.ifr_name, IF_NAMESIZE);
  if (ioctl (fd, SIOCGIFFLAGS, &req) < 0)
    return FALSE;
  return (req.ifr_flags & IFF_UP) && (req.ifr_flags & IFF_MULTICAST)
         && !(req.ifr_flags & IFF_LOOPBACK);
}

/* 1 when newly joined, 0 when joined already or failed. */
static guint
join_result (int result, const char *group, const char *name)
{
  if (result == 0)
    return 1;
  if (errno != EADDRINUSE)
    g_debug ("cannot join %s on %s: %s", group, name, g_strerror (errno));
  return 0;
}

/* IPv4 on an AF_INET6 socket works at level IPPROTO_IP too: Linux hands
 * such options of a UDP socket to its IPv4 side. */
static guint
join_v4 (int fd, int index, const char *name)
{
  struct ip_mreqn req = { .imr_ifindex = index };

  inet_pton (AF_INET, MD_PROTOCOL_GROUP_V4, &req.imr_multiaddr);
  return join_result (setsockopt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &req, sizeof req),
                      MD_PROTOCOL_GROUP_V4, name);
}

static guint
join_v6 (int fd, int index, const char *name)
{
  struct ipv6_mreq req = { .ipv6mr_interface = (unsigned)index };

  inet_pton (AF_INET6, MD_PROTOCOL_GROUP_V6, &req.ipv6mr_multiaddr);
  return join_result (setsockopt (fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &req, sizeof req),
                      MD_PROTOCOL_GROUP_V6, name);
}

guint
md_multicast_join (int fd)
{
  g_autoptr (GArray) indices = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean v4 = FALSE, v6 = FALSE;
  guint joined = 0;

  g_return_val_if_fail (fd >= 0, 0);

  if (!socket_kind (fd, &v4, &v6))
    return 0;
  list_configured (fd, indices);
  probe_indices (fd, indices);
  for (guint i = 0; i < indices->len; i++)
    {
      int index = g_array_index (indices, int, i);
      char name[IF_NAMESIZE] = "";
      guint n = 0;

      if (!is_usable (fd, index, name))
        continue;
      if (v4)
        n += join_v4 (fd, index, name);
      if (v6)
        n += join_v6 (fd, index, name);
      if (n > 0)
        {
          g_info ("joined the CoAP multicast groups on %s", name);
          joined++;
        }
    }
  return joined;
}
