/* Datagram I/O that keeps track of which of our addresses a client sent to,
 * and answers from that address: the IP_PKTINFO and IPV6_PKTINFO control
 * messages of ip(7) and ipv6(7).  A wildcard socket (mydaily.socket's
 * [::]:5683, or --listen=0.0.0.0:PORT) on a host with several addresses
 * needs them: the kernel would choose a reply's source by route, and a
 * client's connected socket drops a reply from any other address than the
 * one it sent to. */
#pragma once

#include "md-transport.h"

G_BEGIN_DECLS

/* Asks the kernel to report the local address of each datagram on @fd, a
 * UDP socket of @family (AF_INET or AF_INET6). */
gboolean md_datagram_enable_local_address (int fd, int family,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* recvmsg() of one datagram into @buffer, filling all of @peer (socket,
 * address, local address); -1 with errno set when none could be read.
 * @truncated tells whether it was longer than @size. */
gssize md_datagram_receive (int fd, guint8 *buffer, gsize size, MdPeer *peer, gboolean *truncated);
/* sendmsg() of @data to @peer, from its local address when @from_local and
 * that is known; -1 with errno set on failure. */
gssize md_datagram_send (const MdPeer *peer, const guint8 *data, gsize len, gboolean from_local);

/* recvmmsg() of up to @n (<= MD_TRANSPORT_RECEIVE_MAX) datagrams, the i-th
 * into @buffers + i * @size, each filling @out[i] as md_datagram_receive()
 * does; returns how many, 0 when none was waiting (or on an error, logged
 * at debug level). */
guint md_datagram_receive_many (int fd, guint8 *buffers, gsize size, MdDatagram *out, guint n);
/* sendmmsg() of up to MD_TRANSPORT_RECEIVE_MAX datagrams on @fd, each from
 * its peer's local address when known; returns how many went before the
 * first that failed (errno set), which the caller retries or drops. */
guint md_datagram_send_many (int fd, const MdOutgoing *out, guint n);

G_END_DECLS
