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
#include "md-client-dtls.h"
#include "md-coap.h"

G_BEGIN_DECLS

typedef struct _MdClient MdClient;

/* Resolves @server ("HOST", "HOST:PORT", "[V6]:PORT"; the port defaults to
 * MD_PROTOCOL_PORT).  Fails with G_IO_ERROR_INVALID_ARGUMENT for a malformed
 * @server, G_RESOLVER_ERROR when the name does not resolve.  @timeout_s
 * bounds each request. */
MdClient *md_client_new (const char *server, double timeout_s, GError **error);

/* A person's pre-shared key: their name and the key's text. */
typedef struct
{
  const char *name;
  const char *key;
} MdClientPsk;

/* The same with @default_port, and over DTLS with @psk unless it is NULL. */
MdClient *md_client_new_full (const char *server, guint16 default_port, const MdClientPsk *psk,
                              double timeout_s, GError **error);
MdClient *md_client_ref (MdClient *client);
void md_client_unref (MdClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClient, md_client_unref)

/* Replaces the system clock; call before the first request. */
void md_client_set_clock (MdClient *client, MdClientClock *clock);
MdClientClock *md_client_get_clock (MdClient *client);
double md_client_get_timeout (MdClient *client);
/* "192.0.2.1:5683": the address requests go to now. */
const char *md_client_get_address_name (MdClient *client);

/* Whether requests go over DTLS, and whether its handshake is done. */
gboolean md_client_is_secure (MdClient *client);
gboolean md_client_is_established (MdClient *client);
/* GnuTLS's "(DTLS1.2)-(ECDHE-PSK-…)-(AES-…)" of the session, or NULL. */
char *md_client_describe_security (MdClient *client);
/* The record-layer hook for --debug (md-client-dtls.h); NULL removes it. */
void md_client_set_record_func (MdClient *client, MdClientDtlsRecordFunc func, gpointer user_data);

typedef enum
{
  MD_CLIENT_SENT,
  MD_CLIENT_RECEIVED,
} MdClientDirection;

typedef enum
{
  MD_CLIENT_TRACE_COAP,      /* a plain CoAP datagram */
  MD_CLIENT_TRACE_DTLS,      /* a datagram of DTLS records */
  MD_CLIENT_TRACE_DECRYPTED, /* a CoAP message inside a DTLS record */
} MdClientTraceLayer;

/* Sees every datagram the client sends or receives, as bytes (a malformed
 * one too), with the address it went to or came from; over DTLS also the
 * CoAP message of each application record (sent: before it is encrypted,
 * received: after its datagram).  For mydailyctl --debug. */
typedef void (*MdClientTraceFunc) (MdClientDirection direction, MdClientTraceLayer layer,
                                   const char *peer, const guint8 *data, gsize len,
                                   gpointer user_data);
/* @func NULL turns tracing off. */
void md_client_set_trace (MdClient *client, MdClientTraceFunc func, gpointer user_data);

G_END_DECLS
