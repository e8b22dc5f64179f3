/* Plain CoAP's transport: one UDP socket, read and written in batches
 * (recvmmsg/sendmmsg), each answer sent from the address its request came
 * to (md-datagram.h).  It proves nothing about a sender: every datagram's
 * identity is NULL. */
#pragma once

#include "md-transport.h"

G_BEGIN_DECLS

/* Whether @fd is an AF_INET or AF_INET6 SOCK_DGRAM socket: the one check,
 * made where a socket is obtained (md-listen.h for systemd's, the caller of
 * md_server_add_socket() otherwise). */
gboolean md_udp_socket_check (int fd, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Serves the checked socket @fd (not closed by the transport): turns on
 * IP_PKTINFO / IPV6_RECVPKTINFO and non-blocking mode. */
MdTransport *md_udp_transport_new (int fd, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* sendmsg() of one datagram to @peer from its local address, or from the
 * address the kernel chooses when ours is gone (the host was renumbered);
 * logs (debug) and returns FALSE when it cannot go. */
gboolean md_udp_send_one (const MdPeer *peer, const guint8 *data, gsize len);

G_END_DECLS
