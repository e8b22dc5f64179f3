/* The client's DTLS 1.2 transport: a GnuTLS client session with a person's
 * pre-shared key, over the client's connected UDP socket.
 *
 * It sits between MdClient and the socket and never blocks: plaintext
 * messages given to md_client_dtls_send() wait until the handshake is done,
 * datagrams from the socket go in through md_client_dtls_feed(), and
 * GnuTLS's own timers (handshake retransmission) are driven by timers of
 * the client's MdClientClock.  What GnuTLS writes leaves at once through
 * the push function; each decrypted record comes out through the deliver
 * function.  The exchanges above never know the difference.
 *
 * GnuTLS writes the session secrets to $SSLKEYLOGFILE by itself (3.6.13 and
 * later), so a capture of the session can be decrypted. */
#pragma once

#include <glib.h>

#include "md-client-clock.h"
#include "md-psk.h"

G_BEGIN_DECLS

/* md-psk.h's suites; the server's order decides in the end. */
#define MD_CLIENT_DTLS_PRIORITY MD_PSK_DTLS_PRIORITY

/* DTLS record content types (RFC 6347 §4.1), as the record hook gives them. */
#define MD_CLIENT_DTLS_CONTENT_CHANGE_CIPHER_SPEC 20
#define MD_CLIENT_DTLS_CONTENT_ALERT 21
#define MD_CLIENT_DTLS_CONTENT_HANDSHAKE 22
#define MD_CLIENT_DTLS_CONTENT_APPLICATION_DATA 23

typedef struct _MdClientDtls MdClientDtls;

typedef struct
{
  /* One datagram for the socket. */
  void (*push) (const guint8 *data, gsize len, gpointer user_data);
  /* One decrypted record from the server. */
  void (*deliver) (const guint8 *data, gsize len, gpointer user_data);
  /* The handshake failed for good (MD_ERROR_UNAUTHENTICATED when the
   * server refused the key); the next send starts a new one. */
  void (*failed) (const GError *error, gpointer user_data);
  gpointer user_data;
} MdClientDtlsFuncs;

/* Where --debug sees the record layer: every DTLS record in a datagram
 * sent (@outgoing) or received, with its content type and length. */
typedef void (*MdClientDtlsRecordFunc) (gboolean outgoing, guint8 content_type, gsize len,
                                        gpointer user_data);

/* Where --debug sees what is encrypted: each plaintext message, just
 * before the datagram carrying its record is pushed. */
typedef void (*MdClientDtlsPlaintextFunc) (const guint8 *data, gsize len, gpointer user_data);

/* A session as @name with the PSK @key (its bytes); it starts at the first
 * send. */
MdClientDtls *md_client_dtls_new (const char *name, const char *key, MdClientClock *clock,
                                  const MdClientDtlsFuncs *funcs, GError **error);
void md_client_dtls_free (MdClientDtls *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClientDtls, md_client_dtls_free)

void md_client_dtls_set_record_func (MdClientDtls *self, MdClientDtlsRecordFunc func,
                                     gpointer user_data);
void md_client_dtls_set_plaintext_func (MdClientDtls *self, MdClientDtlsPlaintextFunc func,
                                        gpointer user_data);

/* Sends one plaintext message as one record, or keeps it (a bounded few)
 * until the handshake is done. */
void md_client_dtls_send (MdClientDtls *self, const guint8 *data, gsize len);
/* One datagram from the socket. */
void md_client_dtls_feed (MdClientDtls *self, const guint8 *data, gsize len);
/* The socket changed (another address): the next send starts afresh. */
void md_client_dtls_reset (MdClientDtls *self);

gboolean md_client_dtls_is_established (MdClientDtls *self);
const char *md_client_dtls_get_name (MdClientDtls *self);
/* "DTLS1.2 ECDHE-PSK AES-128-CBC SHA256": what the handshake chose, or
 * NULL before. */
char *md_client_dtls_describe (MdClientDtls *self);

G_END_DECLS
