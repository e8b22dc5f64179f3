/* The amplification budget (RFC 9175 §2.4), beside the Echo option that
 * lifts it: a response larger than MD_ECHO_AMPLIFICATION times its request
 * goes only to a source that has proved its address.  Over the budget, a
 * diagnostic is cut to fit; a 2.05 body goes in the largest Block2 block
 * that fits, with an Echo value when that fits too (so a client without
 * Echo still reads everything, in small blocks, and one with Echo proves
 * its address and reads on in full blocks); anything else, or a body whose
 * smallest block does not fit, becomes a 4.01 with an Echo value. */
#pragma once

#include "md-coap.h"
#include "md-echo.h"
#include "md-observers.h"

G_BEGIN_DECLS

/* Whether @response_len bytes may go to @peer for @request_len bytes. */
gboolean md_budget_allows (MdEcho *echo, const MdPeer *peer, gsize response_len, gsize request_len,
                           gint64 now_us);

/* The encoded @response to a request of @request_len bytes from @peer,
 * within the budget: @response is cut or made a challenge as needed.  A
 * registration it answers gets its notifications' budget in @observers
 * (may be NULL): none for a proven address, else MD_ECHO_AMPLIFICATION
 * times this request each (md-observers.h); it is withdrawn when the answer
 * becomes a challenge.  NULL to stay silent: even a challenge would not
 * fit. */
GBytes *md_budget_encode_reply (MdEcho *echo, MdObservers *observers, const MdPeer *peer,
                                gsize request_len, MdCoapMessage *response, gint64 now_us);

G_END_DECLS
