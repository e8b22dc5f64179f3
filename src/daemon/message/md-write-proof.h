/* The policy "a write needs a proven address" (ARCHITECTURE.md "Access").
 *
 * Plain CoAP from a PlainFrom= network is served without a key, but its
 * source address can be forged, and a note's AUTHOR is that address.  So a
 * POST or PUT from a plain source that has not proved its address gets 4.01
 * with an Echo value (RFC 9175 §2.4) and is not executed; only the request
 * sent again with the value is.  Loopback is exempt: it cannot be forged
 * from outside this host, and local adds keep their one round trip.  A DTLS
 * peer has proved its address (md-transport.h) and is never challenged. */
#pragma once

#include "md-coap.h"
#include "md-echo.h"

G_BEGIN_DECLS

/* Whether @request from @peer may run only once @peer is Echo-verified. */
gboolean md_write_needs_proven_address (const MdCoapMessage *request, const MdPeer *peer);

/* FALSE with @response made the 4.01 Echo challenge when @request is a
 * write that needs a proven address and @peer has not proved it. */
gboolean md_write_proof_check (MdEcho *echo, const MdCoapMessage *request, const MdPeer *peer,
                               gint64 now_us, MdCoapMessage *response);

G_END_DECLS
