/* The message layer's checks of a well-formed request before it reaches the
 * resources (RFC 7252 §5.4, §5.7.2; RFC 7959; RFC 9175): proxying refused,
 * unknown critical options (4.02), a note in more than one Block1, an
 * Echo value, which proves the peer's address when it is one of ours, and
 * a write from a plain source that must prove it first (md-write-proof.h). */
#pragma once

#include "md-coap.h"
#include "md-echo.h"

G_BEGIN_DECLS

/* FALSE with @response made the error to send when @request must not reach
 * the resources.  A valid Echo option marks @peer verified in @echo. */
gboolean md_request_check (MdEcho *echo, const MdCoapMessage *request, const MdPeer *peer,
                           gint64 now_us, MdCoapMessage *response);

G_END_DECLS
