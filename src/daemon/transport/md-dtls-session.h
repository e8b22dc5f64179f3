/* One DTLS 1.2 server session on GnuTLS, fed one datagram at a time.
 *
 * GnuTLS reads and writes through push/pull callbacks over a datagram
 * buffer: md_dtls_session_feed() lends it one datagram, and what it writes
 * (handshake flights, alerts, encrypted records) goes out at once through
 * the context's send function.  Nothing blocks and nothing waits: a flight
 * lost on the way is sent again when the client's retransmission comes.
 *
 * A session is made only for a client that returned a valid cookie
 * (md-dtls-server.h): the prestate of that exchange goes in here. */
#pragma once

#include "md-peer.h"
#include "md-psk.h"

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

G_BEGIN_DECLS

/* The bytes of one datagram to @peer. */
typedef void (*MdDtlsSendFunc) (const MdPeer *peer, const guint8 *data, gsize len,
                                gpointer user_data);
/* The key of @name, NUL-terminated (the PSK is its bytes), or NULL. */
typedef const char *(*MdDtlsLookupFunc) (const char *name, gpointer user_data);
/* One decrypted record from the session's peer, who proved to be @identity. */
typedef void (*MdDtlsDeliverFunc) (const MdPeer *peer, const char *identity, const guint8 *data,
                                   gsize len, gpointer user_data);

/* What every session shares; owned by the server. */
typedef struct
{
  gnutls_psk_server_credentials_t credentials;
  gnutls_priority_t priority;
  MdDtlsLookupFunc lookup;
  gpointer lookup_data;
  MdDtlsSendFunc send;
  gpointer send_data;
  guint mtu;
} MdDtlsContext;

/* md-psk.h's suites, and the server decides among them. */
#define MD_DTLS_PRIORITY MD_PSK_DTLS_PRIORITY ":%SERVER_PRECEDENCE"

/* Credentials whose callback asks the context's lookup, at each handshake,
 * so a re-read keys file counts from the next one. */
gboolean md_dtls_context_init (MdDtlsContext *context, GError **error);
void md_dtls_context_clear (MdDtlsContext *context);

typedef enum
{
  MD_DTLS_SESSION_HANDSHAKING,
  MD_DTLS_SESSION_ESTABLISHED,
  MD_DTLS_SESSION_FAILED, /* the handshake failed: free it, and log */
  MD_DTLS_SESSION_CLOSED, /* close_notify, or a fatal error after the handshake */
} MdDtlsSessionState;

typedef struct _MdDtlsSession MdDtlsSession;

MdDtlsSession *md_dtls_session_new (const MdDtlsContext *context, const MdPeer *peer,
                                    gnutls_dtls_prestate_st *prestate, gint64 now_us,
                                    GError **error);
void md_dtls_session_free (MdDtlsSession *self);

/* Feeds one datagram from the session's peer: handshake messages, or records, each decrypted
 * one given to @deliver.  Returns the state after it; for FAILED, @error
 * says why. */
MdDtlsSessionState md_dtls_session_feed (MdDtlsSession *self, const MdPeer *peer,
                                         const guint8 *data, gsize len, gint64 now_us,
                                         MdDtlsDeliverFunc deliver, gpointer user_data,
                                         GError **error);
/* Encrypts @data as one record to the peer; FALSE (logged at debug) when it
 * cannot: not established, or larger than a datagram's room. */
gboolean md_dtls_session_send (MdDtlsSession *self, const guint8 *data, gsize len);
/* Sends close_notify; the session is then of no more use. */
void md_dtls_session_close (MdDtlsSession *self);

MdDtlsSessionState md_dtls_session_get_state (const MdDtlsSession *self);
const MdPeer *md_dtls_session_get_peer (const MdDtlsSession *self);
/* The PSK identity the client gave, "" before it gave one; escaped when it
 * breaks the name rules (never a key's name then). */
const char *md_dtls_session_get_identity (const MdDtlsSession *self);
/* The key the session was made with; NULL before the client named it. */
const char *md_dtls_session_get_secret (const MdDtlsSession *self);
gint64 md_dtls_session_get_started (const MdDtlsSession *self);
/* When a datagram last came. */
gint64 md_dtls_session_get_active (const MdDtlsSession *self);

G_END_DECLS
