/* The server side of coaps: the cookie exchange, the session table, and
 * the limits on both, over datagrams from any number of clients.
 *
 * A datagram from an address without a session must be a ClientHello.
 * Without a valid cookie it gets a HelloVerifyRequest built from the
 * datagram alone (gnutls_dtls_cookie_send: a MAC over the client's address
 * under a key made at start), and nothing is kept: no memory, no table
 * entry.  Only a ClientHello whose cookie verifies, proving the client
 * receives at its address, may start a session, and then only within the
 * host's handshake rate and the table's bounds.
 *
 * The table holds at most max_sessions, at most per_host of them from one
 * host (address without port), in a GHashTable by md_peer_hash; a session
 * idle for idle_us, or still in its handshake after handshake_us, ends. */
#pragma once

#include "md-dtls-session.h"

G_BEGIN_DECLS

typedef struct
{
  guint max_sessions;
  guint per_host;
  gint64 idle_us;
  gint64 handshake_us;
  double handshakes_per_s; /* per host */
  double handshake_burst;
  double failures_logged_per_s;
  double failure_log_burst;
} MdDtlsLimits;

#define MD_DTLS_DEFAULT_MAX_SESSIONS 256
#define MD_DTLS_DEFAULT_PER_HOST 16
#define MD_DTLS_DEFAULT_IDLE_US (600 * G_USEC_PER_SEC)
#define MD_DTLS_DEFAULT_HANDSHAKE_US (30 * G_USEC_PER_SEC)
/* A datagram's room on an Ethernet LAN, with room for IP options: a 1024
 * byte block and its headers fit in one record. */
#define MD_DTLS_DEFAULT_MTU 1400

void md_dtls_limits_init_default (MdDtlsLimits *limits);

typedef struct _MdDtlsServer MdDtlsServer;

/* Sessions ask @lookup for keys; every datagram leaves through @send. */
MdDtlsServer *md_dtls_server_new (MdDtlsLookupFunc lookup, gpointer lookup_data,
                                  MdDtlsSendFunc send, gpointer send_data, GError **error);
void md_dtls_server_free (MdDtlsServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDtlsServer, md_dtls_server_free)

void md_dtls_server_set_limits (MdDtlsServer *self, const MdDtlsLimits *limits);

/* Handles one datagram from @peer; each application record it carries goes
 * to @deliver with the session's identity (a key's name). */
void md_dtls_server_receive (MdDtlsServer *self, const MdPeer *peer, const guint8 *data, gsize len,
                             gint64 now_us, MdDtlsDeliverFunc deliver, gpointer user_data);
/* Encrypts @data to @peer's session; FALSE when it has none established. */
gboolean md_dtls_server_send (MdDtlsServer *self, const MdPeer *peer, const guint8 *data,
                              gsize len);
/* Ends (close_notify) every session whose name has no key now, or another
 * key than it was made with; returns how many. */
guint md_dtls_server_check_keys (MdDtlsServer *self);
/* Ends the sessions past their idle or handshake time. */
void md_dtls_server_expire (MdDtlsServer *self, gint64 now_us);

guint md_dtls_server_get_session_count (MdDtlsServer *self);
/* Established sessions only. */
guint md_dtls_server_get_established_count (MdDtlsServer *self);

G_END_DECLS
