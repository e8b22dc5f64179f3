/* The amplification budget (RFC 9175 §2.4), beside the Echo option that
 * lifts it: a response larger than MD_ECHO_AMPLIFICATION times its request
 * goes only to a peer that has proved its address.  Over the budget, a
 * diagnostic is cut to fit and anything else becomes a 4.01 with an Echo
 * value to send back. */
#pragma once

#include "md-coap.h"
#include "md-echo.h"
#include "md-observers.h"

G_BEGIN_DECLS

/* Whether @response_len bytes may go to @peer for @request_len bytes. */
gboolean md_budget_allows (MdEcho *echo, const MdPeer *peer, gsize response_len, gsize request_len,
                           gint64 now_us);

/* The encoded @response to a request of @request_len bytes from @peer,
 * within the budget: @response is cut or made a challenge as needed (and a
 * registration it answered is withdrawn from @observers, may be NULL).
 * Notifications follow a registration for minutes, each up to a full note,
 * so one goes only to a proven address however small this response is.
 * NULL to stay silent: even a challenge would not fit. */
GBytes *md_budget_encode_reply (MdEcho *echo, MdObservers *observers, const MdPeer *peer,
                                gsize request_len, MdCoapMessage *response, gint64 now_us);

G_END_DECLS
