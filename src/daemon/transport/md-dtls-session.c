#include "config.h"

#include "md-dtls-session.h"

#include "md-error.h"

#include <errno.h>
#include <string.h>

/* The largest plaintext of a DTLS record (RFC 6347 §4.1). */
#define MD_DTLS_RECORD_MAX 16384
/* Records of one datagram handled at most: a CoAP client sends one. */
#define MD_DTLS_RECORDS_PER_DATAGRAM 16

/* The DTLS record header: type, version, epoch, sequence number, length. */
#define MD_DTLS_HEADER_LEN 13
#define MD_DTLS_CONTENT_HANDSHAKE 22

struct _MdDtlsSession
{
  const MdDtlsContext *context;
  gnutls_session_t tls;
  MdPeer peer;
  MdDtlsSessionState state;
  char identity[4 * MD_PSK_NAME_MAX + 1];
  char *secret;
  gboolean looked_up; /* the PSK callback found the identity's key */
  gint64 started_us;
  gint64 active_us;
  /* The datagram GnuTLS may pull, until it has. */
  const guint8 *in;
  gsize in_len;
};

/* ---- the context ------------------------------------------------------------ */

static void
copy_identity (MdDtlsSession *self, const gnutls_datum_t *username)
{
  gsize len = MIN (username->size, MD_PSK_NAME_MAX);
  GString *out = g_string_sized_new (len);

  /* Anything a client sends goes to the journal escaped. */
  for (gsize i = 0; i < len; i++)
    {
      char c = (char)username->data[i];

      if (g_ascii_isalnum (c) || c == '.' || c == '_' || c == '-')
        g_string_append_c (out, c);
      else
        g_string_append_printf (out, "\\x%02x", username->data[i]);
    }
  g_strlcpy (self->identity, out->str, sizeof self->identity);
  g_string_free (out, TRUE);
}

static gboolean
is_valid_username (const gnutls_datum_t *username)
{
  char name[MD_PSK_NAME_MAX + 1];

  if (username->size == 0 || username->size > MD_PSK_NAME_MAX
      || memchr (username->data, '\0', username->size) != NULL)
    return FALSE;
  memcpy (name, username->data, username->size);
  name[username->size] = '\0';
  return md_psk_name_is_valid (name);
}

/* GnuTLS's question for the key of @username; -1 fails the handshake. */
static int
on_psk_lookup (gnutls_session_t tls, const gnutls_datum_t *username, gnutls_datum_t *key)
{
  MdDtlsSession *self = gnutls_session_get_ptr (tls);
  const char *secret;
  gsize len;

  copy_identity (self, username);
  /* A valid name is copied unchanged, so it is the lookup's key. */
  if (!is_valid_username (username))
    return -1;
  secret = self->context->lookup (self->identity, self->context->lookup_data);
  if (secret == NULL)
    return -1;
  len = strlen (secret);
  key->data = gnutls_malloc (len);
  if (key->data == NULL)
    return -1;
  memcpy (key->data, secret, len);
  key->size = (unsigned)len;
  g_free (self->secret);
  self->secret = g_strdup (secret);
  self->looked_up = TRUE;
  return 0;
}

static gboolean
set_gnutls_error (GError **error, int code, const char *what)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "%s: %s", what, gnutls_strerror (code));
  return FALSE;
}

gboolean
md_dtls_context_init (MdDtlsContext *context, GError **error)
{
  const char *error_at = NULL;
  int r;

  g_return_val_if_fail (context != NULL && context->lookup != NULL && context->send != NULL, FALSE);

  r = gnutls_psk_allocate_server_credentials (&context->credentials);
  if (r < 0)
    return set_gnutls_error (error, r, "gnutls_psk_allocate_server_credentials");
  gnutls_psk_set_server_credentials_function2 (context->credentials, on_psk_lookup);
  r = gnutls_priority_init (&context->priority, MD_DTLS_PRIORITY, &error_at);
  if (r < 0)
    return set_gnutls_error (error, r, "gnutls_priority_init");
  return TRUE;
}

void
md_dtls_context_clear (MdDtlsContext *context)
{
  g_return_if_fail (context != NULL);

  g_clear_pointer (&context->credentials, gnutls_psk_free_server_credentials);
  g_clear_pointer (&context->priority, gnutls_priority_deinit);
}

/* ---- push and pull over one datagram ----------------------------------------- */

static ssize_t
on_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  MdDtlsSession *self = ptr;

  self->context->send (&self->peer, data, len, self->context->send_data);
  /* A datagram UDP could not take is lost like one lost on the way. */
  return (ssize_t)len;
}

static ssize_t
on_pull (gnutls_transport_ptr_t ptr, void *data, size_t size)
{
  MdDtlsSession *self = ptr;
  gsize len;

  if (self->in == NULL)
    {
      gnutls_transport_set_errno (self->tls, EAGAIN);
      return -1;
    }
  len = MIN (size, self->in_len);
  memcpy (data, self->in, len);
  self->in = NULL;
  return (ssize_t)len;
}

static int
on_pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  MdDtlsSession *self = ptr;

  return self->in != NULL ? 1 : 0;
}

/* ---- the session ------------------------------------------------------------- */

static gboolean
setup_tls (MdDtlsSession *self, gnutls_dtls_prestate_st *prestate, GError **error)
{
  int r = gnutls_init (&self->tls, GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);

  if (r < 0)
    return set_gnutls_error (error, r, "gnutls_init");
  r = gnutls_priority_set (self->tls, self->context->priority);
  if (r >= 0)
    r = gnutls_credentials_set (self->tls, GNUTLS_CRD_PSK, self->context->credentials);
  if (r < 0)
    return set_gnutls_error (error, r, "gnutls session setup");
  gnutls_session_set_ptr (self->tls, self);
  gnutls_transport_set_ptr (self->tls, self);
  gnutls_transport_set_push_function (self->tls, on_push);
  gnutls_transport_set_pull_function (self->tls, on_pull);
  gnutls_transport_set_pull_timeout_function (self->tls, on_pull_timeout);
  /* The cookie exchange is done: the sequence numbers go on from it. */
  gnutls_dtls_prestate_set (self->tls, prestate);
  gnutls_dtls_set_mtu (self->tls, self->context->mtu);
  return TRUE;
}

MdDtlsSession *
md_dtls_session_new (const MdDtlsContext *context, const MdPeer *peer,
                     gnutls_dtls_prestate_st *prestate, gint64 now_us, GError **error)
{
  MdDtlsSession *self;

  g_return_val_if_fail (context != NULL && peer != NULL && prestate != NULL, NULL);

  self = g_new0 (MdDtlsSession, 1);
  self->context = context;
  self->peer = *peer;
  self->state = MD_DTLS_SESSION_HANDSHAKING;
  self->started_us = self->active_us = now_us;
  if (!setup_tls (self, prestate, error))
    {
      md_dtls_session_free (self);
      return NULL;
    }
  return self;
}

void
md_dtls_session_free (MdDtlsSession *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->tls, gnutls_deinit);
  if (self->secret != NULL)
    explicit_bzero (self->secret, strlen (self->secret));
  g_free (self->secret);
  g_free (self);
}

/* Whether @data holds a handshake record of epoch 1 or later: the client's
 * encrypted Finished. */
static gboolean
has_encrypted_handshake (const guint8 *data, gsize len)
{
  while (len >= MD_DTLS_HEADER_LEN)
    {
      gsize record_len = MD_DTLS_HEADER_LEN + ((gsize)data[11] << 8 | data[12]);
      guint epoch = (guint)data[3] << 8 | data[4];

      if (data[0] == MD_DTLS_CONTENT_HANDSHAKE && epoch > 0)
        return TRUE;
      if (record_len > len)
        break;
      data += record_len;
      len -= record_len;
    }
  return FALSE;
}

static MdDtlsSessionState
fail (MdDtlsSession *self, int code, GError **error)
{
  if (self->identity[0] != '\0' && !self->looked_up && code != GNUTLS_E_AGAIN)
    g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "no key for this name");
  else if (code == GNUTLS_E_AGAIN)
    /* DTLS drops a record it cannot decrypt (RFC 6347 §4.1.2.7), so a
     * Finished under another key shows as no progress. */
    g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                         "wrong key: the client's Finished does not decrypt");
  else
    set_gnutls_error (error, code, "handshake");
  /* Tell the client, which otherwise retransmits until it gives up. */
  if (code != GNUTLS_E_AGAIN)
    gnutls_alert_send_appropriate (self->tls, code);
  else
    gnutls_alert_send (self->tls, GNUTLS_AL_FATAL, GNUTLS_A_DECRYPT_ERROR);
  self->state = MD_DTLS_SESSION_FAILED;
  return self->state;
}

static MdDtlsSessionState
continue_handshake (MdDtlsSession *self, gboolean finished_came, GError **error)
{
  int r = gnutls_handshake (self->tls);

  if (r == 0)
    self->state = MD_DTLS_SESSION_ESTABLISHED;
  else if (gnutls_error_is_fatal (r))
    return fail (self, r, error);
  else if (r == GNUTLS_E_AGAIN && finished_came && self->looked_up)
    return fail (self, r, error);
  return self->state;
}

static void
read_records (MdDtlsSession *self, MdDtlsDeliverFunc deliver, gpointer user_data)
{
  guint8 record[MD_DTLS_RECORD_MAX];

  for (guint i = 0; i < MD_DTLS_RECORDS_PER_DATAGRAM; i++)
    {
      ssize_t r = gnutls_record_recv (self->tls, record, sizeof record);

      if (r > 0)
        deliver (&self->peer, self->identity, record, (gsize)r, user_data);
      else if (r == 0 || gnutls_error_is_fatal ((int)r))
        {
          /* close_notify, or the end of the association. */
          g_debug ("DTLS session of %s ended: %s", self->identity,
                   r == 0 ? "close_notify" : gnutls_strerror ((int)r));
          self->state = MD_DTLS_SESSION_CLOSED;
          return;
        }
      else if (r == GNUTLS_E_AGAIN)
        return;
      /* Other non-fatal results (a warning alert, a renegotiation we do
       * not do): go on reading. */
    }
}

MdDtlsSessionState
md_dtls_session_feed (MdDtlsSession *self, const MdPeer *peer, const guint8 *data, gsize len,
                      gint64 now_us, MdDtlsDeliverFunc deliver, gpointer user_data, GError **error)
{
  g_return_val_if_fail (self != NULL && peer != NULL && data != NULL, MD_DTLS_SESSION_CLOSED);

  if (self->state != MD_DTLS_SESSION_HANDSHAKING && self->state != MD_DTLS_SESSION_ESTABLISHED)
    return self->state;
  self->active_us = now_us;
  self->in = data;
  self->in_len = len;
  if (self->state == MD_DTLS_SESSION_HANDSHAKING)
    continue_handshake (self, has_encrypted_handshake (data, len), error);
  if (self->state == MD_DTLS_SESSION_ESTABLISHED)
    read_records (self, deliver, user_data);
  self->in = NULL;
  return self->state;
}

gboolean
md_dtls_session_send (MdDtlsSession *self, const guint8 *data, gsize len)
{
  ssize_t r;

  g_return_val_if_fail (self != NULL && (data != NULL || len == 0), FALSE);

  if (self->state != MD_DTLS_SESSION_ESTABLISHED)
    return FALSE;
  r = gnutls_record_send (self->tls, data, len);
  if (r >= 0)
    return TRUE;
  g_debug ("DTLS record of %" G_GSIZE_FORMAT " bytes to %s not sent: %s", len, self->identity,
           gnutls_strerror ((int)r));
  return FALSE;
}

void
md_dtls_session_close (MdDtlsSession *self)
{
  g_return_if_fail (self != NULL);

  if (self->state == MD_DTLS_SESSION_ESTABLISHED)
    gnutls_bye (self->tls, GNUTLS_SHUT_WR);
  self->state = MD_DTLS_SESSION_CLOSED;
}

MdDtlsSessionState
md_dtls_session_get_state (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, MD_DTLS_SESSION_CLOSED);
  return self->state;
}

const MdPeer *
md_dtls_session_get_peer (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->peer;
}

const char *
md_dtls_session_get_identity (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->identity;
}

const char *
md_dtls_session_get_secret (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->secret;
}

gint64
md_dtls_session_get_started (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->started_us;
}

gint64
md_dtls_session_get_active (const MdDtlsSession *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->active_us;
}
