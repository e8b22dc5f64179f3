/* Membership of the CoAP multicast groups (RFC 7252 §12.8: 224.0.1.187 and
 * ff02::fd) for discovery, on the plain socket.
 *
 * Under systemd the daemon has no network namespace of its own
 * (PrivateNetwork=yes) and may make no AF_NETLINK socket, so it cannot list
 * the host's interfaces the usual way.  A socket's ioctls and options act in
 * the namespace the socket was made in, though, so the passed socket itself
 * lists the interfaces (SIOCGIFCONF, SIOCGIFNAME) and joins on them.  A
 * socket.unit has no setting to join a group, so the daemon must. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Joins the groups of @fd's family (both on a dual-stack AF_INET6 socket)
 * on every interface of @fd's namespace that is up, multicast-capable and
 * not loopback, where not joined yet.  A socket bound to a unicast address
 * joins nothing: group datagrams never reach it.  Returns how many
 * interfaces were newly joined; failures are logged at debug level (an
 * interface may vanish meanwhile). */
guint md_multicast_join (int fd);

G_END_DECLS
