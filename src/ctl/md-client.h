/* The client's endpoint: one UDP socket connected to the daemon, shared by
 * every exchange, block-wise read and observation of a client.
 *
 * Nothing here waits.  The socket is read from the main context that was the
 * thread default when the client was made; each incoming message goes to the
 * exchange or observation whose token (or Message ID) it carries, and a
 * confirmable message nobody expected gets a Reset.  The server name may
 * resolve to several addresses: one that refuses (ICMP port unreachable)
 * hands over to the next.  Requests themselves are in md-client-exchange.h. */
#pragma once

#include <gio/gio.h>

#include "md-client-clock.h"
#include "md-coap.h"

G_BEGIN_DECLS

typedef struct _MdClient MdClient;

/* Resolves @server ("HOST", "HOST:PORT", "[V6]:PORT"; the port defaults to
 * MD_PROTOCOL_PORT).  Fails with G_IO_ERROR_INVALID_ARGUMENT for a malformed
 * @server, G_RESOLVER_ERROR when the name does not resolve.  @timeout_s
 * bounds each request. */
MdClient *md_client_new (const char *server, double timeout_s, GError **error);
MdClient *md_client_ref (MdClient *client);
void md_client_unref (MdClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClient, md_client_unref)

/* Replaces the system clock; call before the first request. */
void md_client_set_clock (MdClient *client, MdClientClock *clock);
MdClientClock *md_client_get_clock (MdClient *client);
double md_client_get_timeout (MdClient *client);
/* "192.0.2.1:5683": the address requests go to now. */
const char *md_client_get_address_name (MdClient *client);

typedef enum
{
  MD_CLIENT_SENT,
  MD_CLIENT_RECEIVED,
} MdClientDirection;

/* Sees every datagram the client sends or receives, as bytes (a malformed
 * one too), with the address it went to or came from: mydailyctl --debug. */
typedef void (*MdClientTraceFunc) (MdClientDirection direction, const char *peer,
                                   const guint8 *data, gsize len, gpointer user_data);
/* @func NULL turns tracing off. */
void md_client_set_trace (MdClient *client, MdClientTraceFunc func, gpointer user_data);

G_END_DECLS
