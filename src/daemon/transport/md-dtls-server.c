#include "config.h"

#include "md-dtls-server.h"

#include "md-dtls-rate.h"
#include "md-error.h"
#include "md-log-dtls.h"

#include <string.h>

/* A session idle this long gives way to a newcomer when the table or its
 * host's share is full; an active one never does. */
#define MD_DTLS_EVICTABLE_IDLE_US (30 * G_USEC_PER_SEC)
/* How often md_dtls_server_receive() looks for sessions past their time. */
#define MD_DTLS_EXPIRE_EVERY_US G_USEC_PER_SEC

/* The smallest ClientHello (RFC 6347 §4.2.1: headers, version, random, and
 * one byte at least for each of session id, cookie, suites and methods),
 * which is larger than the HelloVerifyRequest it gets: answering it never
 * amplifies. */
#define MD_DTLS_CLIENT_HELLO_MIN (13 + 12 + 2 + 32 + 1 + 1 + 2 + 2 + 1 + 1)
#define MD_DTLS_CONTENT_HANDSHAKE 22
#define MD_DTLS_CLIENT_HELLO 1
#define MD_DTLS_RECORD_HEADER_LEN 13

struct _MdDtlsServer
{
  MdDtlsContext context;
  gnutls_datum_t cookie_key;
  GHashTable *sessions; /* the session's own MdPeer -> MdDtlsSession */
  MdDtlsLimits limits;
  MdDtlsHostRate handshakes;
  MdDtlsBucket failure_log;
  guint failures_unlogged;
  gint64 expired_us;
};

void
md_dtls_limits_init_default (MdDtlsLimits *limits)
{
  g_return_if_fail (limits != NULL);

  *limits = (MdDtlsLimits){
    .max_sessions = MD_DTLS_DEFAULT_MAX_SESSIONS,
    .per_host = MD_DTLS_DEFAULT_PER_HOST,
    .idle_us = MD_DTLS_DEFAULT_IDLE_US,
    .handshake_us = MD_DTLS_DEFAULT_HANDSHAKE_US,
    /* A person's few clients start a session each now and then. */
    .handshakes_per_s = 1.0,
    .handshake_burst = 10.0,
    .failures_logged_per_s = 1.0 / 6,
    .failure_log_burst = 10.0,
  };
}

MdDtlsServer *
md_dtls_server_new (MdDtlsLookupFunc lookup, gpointer lookup_data, MdDtlsSendFunc send,
                    gpointer send_data, GError **error)
{
  g_autoptr (MdDtlsServer) self = g_new0 (MdDtlsServer, 1);
  int r;

  g_return_val_if_fail (lookup != NULL && send != NULL, NULL);

  self->context = (MdDtlsContext){ .lookup = lookup,
                                   .lookup_data = lookup_data,
                                   .send = send,
                                   .send_data = send_data,
                                   .mtu = MD_DTLS_DEFAULT_MTU };
  self->sessions = g_hash_table_new_full ((GHashFunc)md_peer_hash, (GEqualFunc)md_peer_equal, NULL,
                                          (GDestroyNotify)md_dtls_session_free);
  md_dtls_limits_init_default (&self->limits);
  md_dtls_server_set_limits (self, &self->limits);
  if (!md_dtls_context_init (&self->context, error))
    return NULL;
  r = gnutls_key_generate (&self->cookie_key, GNUTLS_COOKIE_KEY_SIZE);
  if (r < 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "gnutls_key_generate: %s",
                   gnutls_strerror (r));
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
md_dtls_server_free (MdDtlsServer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  md_dtls_context_clear (&self->context);
  if (self->cookie_key.data != NULL)
    {
      explicit_bzero (self->cookie_key.data, self->cookie_key.size);
      gnutls_free (self->cookie_key.data);
    }
  g_free (self);
}

void
md_dtls_server_set_limits (MdDtlsServer *self, const MdDtlsLimits *limits)
{
  g_return_if_fail (self != NULL && limits != NULL);
  g_return_if_fail (limits->max_sessions > 0 && limits->per_host > 0);

  self->limits = *limits;
  md_dtls_host_rate_init (&self->handshakes, limits->handshakes_per_s, limits->handshake_burst);
  memset (&self->failure_log, 0, sizeof self->failure_log);
}

/* ---- failures ----------------------------------------------------------------- */

static void
log_failure (MdDtlsServer *self, MdDtlsSession *session, const char *reason, gint64 now_us)
{
  char address[64];

  if (!md_dtls_bucket_take (&self->failure_log, self->limits.failures_logged_per_s,
                            self->limits.failure_log_burst, now_us))
    {
      self->failures_unlogged++;
      return;
    }
  md_log_dtls_handshake_failed (md_peer_to_string (md_dtls_session_get_peer (session), address),
                                md_dtls_session_get_identity (session), reason,
                                self->failures_unlogged);
  self->failures_unlogged = 0;
}

static void
remove_session (MdDtlsServer *self, MdDtlsSession *session)
{
  g_hash_table_remove (self->sessions, md_dtls_session_get_peer (session));
}

/* ---- the table's bounds ----------------------------------------------------- */

static gboolean
is_evictable (const MdDtlsSession *session, gint64 now_us)
{
  return md_dtls_session_get_state (session) == MD_DTLS_SESSION_HANDSHAKING
         || now_us - md_dtls_session_get_active (session) > MD_DTLS_EVICTABLE_IDLE_US;
}

static guint
count_host (MdDtlsServer *self, const MdPeer *host)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += md_dtls_peer_same_host (md_dtls_session_get_peer (value), host) ? 1 : 0;
  return n;
}

/* The least recently active evictable session, of @host's only unless
 * @host is NULL. */
static MdDtlsSession *
find_evictable (MdDtlsServer *self, const MdPeer *host, gint64 now_us)
{
  MdDtlsSession *oldest = NULL;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MdDtlsSession *session = value;

      if ((host == NULL || md_dtls_peer_same_host (md_dtls_session_get_peer (session), host))
          && is_evictable (session, now_us)
          && (oldest == NULL
              || md_dtls_session_get_active (session) < md_dtls_session_get_active (oldest)))
        oldest = session;
    }
  return oldest;
}

/* Makes room for a session of @peer's host: FALSE when the host has its
 * share, or the table is full, of sessions that are all active. */
static gboolean
make_room (MdDtlsServer *self, const MdPeer *peer, gint64 now_us)
{
  MdDtlsSession *victim;

  if (count_host (self, peer) >= self->limits.per_host)
    victim = find_evictable (self, peer, now_us);
  else if (g_hash_table_size (self->sessions) >= self->limits.max_sessions)
    victim = find_evictable (self, NULL, now_us);
  else
    return TRUE;
  if (victim == NULL)
    return FALSE;
  md_dtls_session_close (victim);
  remove_session (self, victim);
  return TRUE;
}

/* ---- the cookie exchange: no state -------------------------------------------- */

static gboolean
is_client_hello (const guint8 *data, gsize len)
{
  return len >= MD_DTLS_CLIENT_HELLO_MIN && data[0] == MD_DTLS_CONTENT_HANDSHAKE && data[3] == 0
         && data[4] == 0 && data[13] == MD_DTLS_CLIENT_HELLO;
}

typedef struct
{
  MdDtlsServer *server;
  const MdPeer *peer;
} MdDtlsCookieTarget;

static ssize_t
on_cookie_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  MdDtlsCookieTarget *target = ptr;

  target->server->context.send (target->peer, data, len, target->server->context.send_data);
  return (ssize_t)len;
}

/* TRUE when the ClientHello @data carries the cookie of @peer's address;
 * else answers it with a HelloVerifyRequest, made from @data alone. */
static gboolean
check_cookie (MdDtlsServer *self, const MdPeer *peer, const guint8 *data, gsize len,
              gnutls_dtls_prestate_st *prestate)
{
  MdDtlsCookieTarget target = { self, peer };
  guint8 address[18];
  gsize address_len = md_peer_address_bytes (peer, address);

  memset (prestate, 0, sizeof *prestate);
  if (gnutls_dtls_cookie_verify (&self->cookie_key, address, address_len, (void *)data, len,
                                 prestate)
      == 0)
    return TRUE;
  gnutls_dtls_cookie_send (&self->cookie_key, address, address_len, prestate, &target,
                           on_cookie_push);
  return FALSE;
}

/* ---- sessions ------------------------------------------------------------------- */

static void
feed_session (MdDtlsServer *self, MdDtlsSession *session, const MdPeer *peer, const guint8 *data,
              gsize len, gint64 now_us, MdDtlsDeliverFunc deliver, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  switch (md_dtls_session_feed (session, peer, data, len, now_us, deliver, user_data, &error))
    {
      case MD_DTLS_SESSION_FAILED:
        log_failure (self, session, error->message, now_us);
        remove_session (self, session);
        break;
      case MD_DTLS_SESSION_CLOSED:
        remove_session (self, session);
        break;
      case MD_DTLS_SESSION_HANDSHAKING:
      case MD_DTLS_SESSION_ESTABLISHED:
        break;
    }
}

static void
start_session (MdDtlsServer *self, const MdPeer *peer, gnutls_dtls_prestate_st *prestate,
               const guint8 *data, gsize len, gint64 now_us, MdDtlsDeliverFunc deliver,
               gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  char address[64];
  MdDtlsSession *session;

  /* The client retransmits its ClientHello: a refusal here only slows it. */
  if (!md_dtls_host_rate_take (&self->handshakes, peer, now_us))
    {
      g_debug ("DTLS handshake from %s over its rate", md_peer_to_string (peer, address));
      return;
    }
  if (!make_room (self, peer, now_us))
    {
      g_debug ("no room for a DTLS session of %s", md_peer_to_string (peer, address));
      return;
    }
  session = md_dtls_session_new (&self->context, peer, prestate, now_us, &error);
  if (session == NULL)
    {
      g_warning ("cannot start a DTLS session: %s", error->message);
      return;
    }
  g_hash_table_insert (self->sessions, (gpointer)md_dtls_session_get_peer (session), session);
  feed_session (self, session, peer, data, len, now_us, deliver, user_data);
}

void
md_dtls_server_receive (MdDtlsServer *self, const MdPeer *peer, const guint8 *data, gsize len,
                        gint64 now_us, MdDtlsDeliverFunc deliver, gpointer user_data)
{
  gnutls_dtls_prestate_st prestate;
  MdDtlsSession *session;

  g_return_if_fail (self != NULL && peer != NULL && (data != NULL || len == 0));
  g_return_if_fail (deliver != NULL);

  if (now_us - self->expired_us >= MD_DTLS_EXPIRE_EVERY_US)
    md_dtls_server_expire (self, now_us);
  /* Not even one record header: dropped before any lookup, and never handed
   * to GnuTLS, whose pull would return 0, a stream's end. */
  if (len < MD_DTLS_RECORD_HEADER_LEN)
    return;
  session = g_hash_table_lookup (self->sessions, peer);
  /* A ClientHello to an established session is a client that restarted
   * on the same port (RFC 6347 §4.2.8): it must pass the cookie again. */
  if (session != NULL
      && (md_dtls_session_get_state (session) != MD_DTLS_SESSION_ESTABLISHED
          || !is_client_hello (data, len)))
    {
      feed_session (self, session, peer, data, len, now_us, deliver, user_data);
      return;
    }
  if (!is_client_hello (data, len) || !check_cookie (self, peer, data, len, &prestate))
    return;
  if (session != NULL)
    remove_session (self, session);
  start_session (self, peer, &prestate, data, len, now_us, deliver, user_data);
}

gboolean
md_dtls_server_send (MdDtlsServer *self, const MdPeer *peer, const guint8 *data, gsize len)
{
  MdDtlsSession *session;

  g_return_val_if_fail (self != NULL && peer != NULL, FALSE);

  session = g_hash_table_lookup (self->sessions, peer);
  return session != NULL && md_dtls_session_send (session, data, len);
}

/* ---- ending sessions ---------------------------------------------------------- */

static gboolean
has_key_still (MdDtlsServer *self, MdDtlsSession *session)
{
  const char *secret = md_dtls_session_get_secret (session);
  const char *now = NULL;

  if (secret == NULL)
    return TRUE;
  now = self->context.lookup (md_dtls_session_get_identity (session), self->context.lookup_data);
  return now != NULL && strcmp (now, secret) == 0;
}

guint
md_dtls_server_check_keys (MdDtlsServer *self)
{
  GHashTableIter iter;
  gpointer value;
  guint ended = 0;

  g_return_val_if_fail (self != NULL, 0);

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!has_key_still (self, value))
      {
        g_info ("ended the DTLS session of %s: its key is gone or changed",
                md_dtls_session_get_identity (value));
        md_dtls_session_close (value);
        g_hash_table_iter_remove (&iter);
        ended++;
      }
  return ended;
}

void
md_dtls_server_expire (MdDtlsServer *self, gint64 now_us)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (self != NULL);

  self->expired_us = now_us;
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MdDtlsSession *session = value;
      gboolean handshaking = md_dtls_session_get_state (session) == MD_DTLS_SESSION_HANDSHAKING;

      if (handshaking && now_us - md_dtls_session_get_started (session) > self->limits.handshake_us)
        log_failure (self, session, "the handshake timed out", now_us);
      else if (now_us - md_dtls_session_get_active (session) <= self->limits.idle_us)
        continue;
      md_dtls_session_close (session);
      g_hash_table_iter_remove (&iter);
    }
}

guint
md_dtls_server_get_session_count (MdDtlsServer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->sessions);
}

guint
md_dtls_server_get_established_count (MdDtlsServer *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail (self != NULL, 0);

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += md_dtls_session_get_state (value) == MD_DTLS_SESSION_ESTABLISHED ? 1 : 0;
  return n;
}
