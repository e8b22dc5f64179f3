/* coaps's transport: one UDP socket carrying DTLS (md-dtls-server.h).
 * receive() reads datagrams in batches, runs the handshakes, and returns
 * each decrypted record as a datagram whose identity is the PSK name the
 * handshake proved; send() encrypts each answer in its peer's session.  The
 * message layer sees the same (endpoint, identity, bytes) as from plain
 * UDP (md-udp-transport.h). */
#pragma once

#include "md-dtls-session.h"
#include "md-transport.h"

G_BEGIN_DECLS

/* Serves the checked UDP socket @fd (not closed by the transport), asking
 * @lookup for keys. */
MdTransport *md_dtls_transport_new (int fd, MdDtlsLookupFunc lookup, gpointer lookup_data,
                                    GError **error);
gboolean md_dtls_transport_is_dtls (MdTransport *transport);
/* After the keys changed: ends the sessions whose key went away or changed;
 * returns how many. */
guint md_dtls_transport_check_keys (MdTransport *transport);

G_END_DECLS
