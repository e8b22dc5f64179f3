/* The message layer (RFC 7252 §4) on one datagram: parse it, answer what
 * needs no resource (RST to a ping, to a malformed or an unasked-for CON;
 * an RST that cancels an observation), and filter duplicates (replayed
 * within the amplification budget, or dropped while the first is still
 * being answered).  What is left is a new request for the resources.
 *
 * It sees (endpoint, identity, bytes) and never knows the transport. */
#pragma once

#include "md-coap.h"
#include "md-dedup.h"
#include "md-echo.h"
#include "md-observers.h"
#include "md-transport.h"

G_BEGIN_DECLS

/* The parts the layer works with (not owned). */
typedef struct
{
  MdDedup *dedup;
  MdEcho *echo;
  MdObservers *observers;
  gboolean verbose; /* log every datagram at debug level */
} MdMessageLayer;

/* TRUE with @request filled (its options point into @datagram) when the
 * datagram is a new request: then dedup holds it as in progress until
 * md_dedup_complete().  FALSE when the layer has dealt with it. */
gboolean md_message_layer_accept (MdMessageLayer *self, const MdDatagram *datagram,
                                  MdCoapMessage *request, gint64 now_us) G_GNUC_WARN_UNUSED_RESULT;

/* "send to 127.0.0.1:5683: ACK 2.05 mid=..." at debug level, if verbose. */
void md_message_layer_log (MdMessageLayer *self, const char *direction, const MdPeer *peer,
                           const MdCoapMessage *msg);

G_END_DECLS
