#include "config.h"

#include "md-client-dtls.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "md-coap.h"
#include "md-error.h"

/* The server's MTU (MD_DTLS_DEFAULT_MTU): a full CoAP datagram and the
 * record's overhead fit. */
#define DTLS_MTU 1400
/* GnuTLS's first handshake retransmission (RFC 6347 §4.2.4.1); the total is
 * left to the exchanges' deadlines. */
#define RETRANS_TIMEOUT_MS 1000
#define TOTAL_TIMEOUT_MS (24 * 3600 * 1000)
/* Messages kept while the handshake runs: a windowed read has a few. */
#define PENDING_MAX 64
/* Sent, with nothing back for this long, the session is taken for lost (the
 * daemon restarted, or dropped it as idle): the next send shakes hands
 * again.  Past a CoAP exchange's first two retransmissions. */
#define SESSION_LOST_US (5 * G_USEC_PER_SEC)
#define RECORDS_PER_DATAGRAM 16
#define RECORD_HEADER_LEN 13

struct _MdClientDtls
{
  char *name;
  char *key;
  MdClientClock *clock;
  MdClientDtlsFuncs funcs;
  MdClientDtlsRecordFunc record_func;
  gpointer record_data;
  MdClientDtlsPlaintextFunc plaintext_func;
  gpointer plaintext_data;
  /* The message gnutls_record_send is encrypting, until its record is
   * pushed. */
  const guint8 *sending;
  gsize sending_len;
  gnutls_psk_client_credentials_t credentials;
  gnutls_session_t tls; /* NULL between sessions */
  gboolean established;
  GQueue pending; /* GBytes, until established */
  guint timer;
  gint64 unanswered_since; /* the first send since anything came back, or 0 */
  /* The datagram GnuTLS may pull, until it has. */
  const guint8 *in;
  gsize in_len;
};

/* ---- the record hook --------------------------------------------------------- */

static void
report_records (MdClientDtls *self, gboolean outgoing, const guint8 *data, gsize len)
{
  for (guint i = 0; i < RECORDS_PER_DATAGRAM && len >= RECORD_HEADER_LEN; i++)
    {
      gsize record_len = (gsize)data[11] << 8 | data[12];
      gsize total = MIN (RECORD_HEADER_LEN + record_len, len);

      self->record_func (outgoing, data[0], record_len, self->record_data);
      data += total;
      len -= total;
    }
}

/* ---- push and pull ----------------------------------------------------------- */

static ssize_t
on_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  MdClientDtls *self = ptr;

  if (self->sending != NULL && self->plaintext_func != NULL)
    self->plaintext_func (self->sending, self->sending_len, self->plaintext_data);
  self->sending = NULL;
  if (self->record_func != NULL)
    report_records (self, TRUE, data, len);
  self->funcs.push (data, len, self->funcs.user_data);
  /* A datagram UDP could not take is lost like one lost on the way. */
  return (ssize_t)len;
}

static ssize_t
on_pull (gnutls_transport_ptr_t ptr, void *data, size_t size)
{
  MdClientDtls *self = ptr;
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

/* Non-blocking: there is data now or there is not; GnuTLS then checks its
 * retransmission timer itself. */
static int
on_pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  MdClientDtls *self = ptr;

  return self->in != NULL ? 1 : 0;
}

/* ---- the session ------------------------------------------------------------- */

static gboolean
set_gnutls_error (GError **error, int code, const char *what)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "%s: %s", what, gnutls_strerror (code));
  return FALSE;
}

MdClientDtls *
md_client_dtls_new (const char *name, const char *key, MdClientClock *clock,
                    const MdClientDtlsFuncs *funcs, GError **error)
{
  g_autoptr (MdClientDtls) self = NULL;
  const gnutls_datum_t datum = { (unsigned char *)key, key != NULL ? (unsigned)strlen (key) : 0 };
  int r;

  g_return_val_if_fail (name != NULL && key != NULL && clock != NULL, NULL);
  g_return_val_if_fail (funcs != NULL && funcs->push != NULL && funcs->deliver != NULL, NULL);

  self = g_new0 (MdClientDtls, 1);
  self->name = g_strdup (name);
  self->key = g_strdup (key);
  self->clock = md_client_clock_ref (clock);
  self->funcs = *funcs;
  g_queue_init (&self->pending);
  r = gnutls_psk_allocate_client_credentials (&self->credentials);
  if (r >= 0)
    r = gnutls_psk_set_client_credentials (self->credentials, name, &datum, GNUTLS_PSK_KEY_RAW);
  if (r < 0)
    {
      set_gnutls_error (error, r, "gnutls_psk_set_client_credentials");
      return NULL;
    }
  return g_steal_pointer (&self);
}

static void
end_session (MdClientDtls *self)
{
  md_client_clock_clear_timer (self->clock, &self->timer);
  g_clear_pointer (&self->tls, gnutls_deinit);
  self->established = FALSE;
  self->unanswered_since = 0;
}

void
md_client_dtls_free (MdClientDtls *self)
{
  if (self == NULL)
    return;
  if (self->established)
    gnutls_bye (self->tls, GNUTLS_SHUT_WR);
  end_session (self);
  g_queue_clear_full (&self->pending, (GDestroyNotify)g_bytes_unref);
  if (self->credentials != NULL)
    gnutls_psk_free_client_credentials (self->credentials);
  explicit_bzero (self->key, strlen (self->key));
  g_free (self->key);
  g_free (self->name);
  md_client_clock_unref (self->clock);
  g_free (self);
}

void
md_client_dtls_set_record_func (MdClientDtls *self, MdClientDtlsRecordFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);

  self->record_func = func;
  self->record_data = user_data;
}

void
md_client_dtls_set_plaintext_func (MdClientDtls *self, MdClientDtlsPlaintextFunc func,
                                   gpointer user_data)
{
  g_return_if_fail (self != NULL);

  self->plaintext_func = func;
  self->plaintext_data = user_data;
}

/* One message as one record; the plaintext hook sees it just before its
 * record leaves, and only if it does. */
static ssize_t
send_record (MdClientDtls *self, const guint8 *data, gsize len)
{
  ssize_t r;

  self->sending = data;
  self->sending_len = len;
  r = gnutls_record_send (self->tls, data, len);
  self->sending = NULL;
  return r;
}

static gboolean
start_session (MdClientDtls *self, GError **error)
{
  int r = gnutls_init (&self->tls, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);

  if (r < 0)
    return set_gnutls_error (error, r, "gnutls_init");
  r = gnutls_priority_set_direct (self->tls, MD_CLIENT_DTLS_PRIORITY, NULL);
  if (r >= 0)
    r = gnutls_credentials_set (self->tls, GNUTLS_CRD_PSK, self->credentials);
  if (r < 0)
    return set_gnutls_error (error, r, "gnutls session setup");
  gnutls_transport_set_ptr (self->tls, self);
  gnutls_transport_set_push_function (self->tls, on_push);
  gnutls_transport_set_pull_function (self->tls, on_pull);
  gnutls_transport_set_pull_timeout_function (self->tls, on_pull_timeout);
  gnutls_dtls_set_mtu (self->tls, DTLS_MTU);
  gnutls_dtls_set_timeouts (self->tls, RETRANS_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
  return TRUE;
}

static void
fail (MdClientDtls *self, GError *error)
{
  g_debug ("DTLS: %s", error->message);
  end_session (self);
  g_queue_clear_full (&self->pending, (GDestroyNotify)g_bytes_unref);
  if (self->funcs.failed != NULL)
    self->funcs.failed (error, self->funcs.user_data);
  g_error_free (error);
}

/* A fatal alert during the handshake is the server's no: to a PSK client
 * it means an unknown name or a Finished that did not decrypt. */
static GError *
handshake_error (MdClientDtls *self, int code)
{
  if (code == GNUTLS_E_FATAL_ALERT_RECEIVED)
    {
      g_debug ("DTLS: the server sent the alert “%s”",
               gnutls_alert_get_name (gnutls_alert_get (self->tls)));
      /* TRANSLATORS: %s is a person's name, as in the keys file */
      return g_error_new (MD_ERROR, MD_ERROR_UNAUTHENTICATED,
                          _ ("the server refused the key for “%s” (wrong key or unknown name)"),
                          self->name);
    }
  /* TRANSLATORS: %s is GnuTLS's description of the failure */
  return g_error_new (MD_ERROR, MD_ERROR_FAILED, _ ("the DTLS handshake failed: %s"),
                      gnutls_strerror (code));
}

static void
flush_pending (MdClientDtls *self)
{
  GBytes *message;

  while (self->established && (message = g_queue_pop_head (&self->pending)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (message, &len);
      ssize_t r = send_record (self, data, len);

      if (r < 0)
        g_debug ("DTLS record of %" G_GSIZE_FORMAT " bytes not sent: %s", len,
                 gnutls_strerror ((int)r));
      g_bytes_unref (message);
    }
}

static void on_timer (gpointer data);

static void
arm_timer (MdClientDtls *self)
{
  unsigned ms = gnutls_dtls_get_timeout (self->tls);
  gint64 now = md_client_clock_now (self->clock);

  md_client_clock_clear_timer (self->clock, &self->timer);
  self->timer
      = md_client_clock_add_timer (self->clock, now + (gint64)MAX (ms, 1u) * 1000, on_timer, self);
}

static void
step_handshake (MdClientDtls *self)
{
  int r = gnutls_handshake (self->tls);

  /* Defensive: nothing may end the session from inside GnuTLS's callbacks. */
  if (self->tls == NULL)
    return;
  if (r == 0)
    {
      md_client_clock_clear_timer (self->clock, &self->timer);
      self->established = TRUE;
      g_debug ("DTLS session as “%s” established", self->name);
      flush_pending (self);
    }
  else if (gnutls_error_is_fatal (r))
    fail (self, handshake_error (self, r));
  else
    arm_timer (self);
}

static void
on_timer (gpointer data)
{
  MdClientDtls *self = data;

  self->timer = 0;
  if (self->tls != NULL && !self->established)
    step_handshake (self);
}

static gboolean
is_pending (MdClientDtls *self, GBytes *message)
{
  for (GList *l = self->pending.head; l != NULL; l = l->next)
    if (g_bytes_equal (l->data, message))
      return TRUE;
  return FALSE;
}

/* A retransmission while the handshake runs is the same message again:
 * kept once. */
static void
keep_pending (MdClientDtls *self, const guint8 *data, gsize len)
{
  g_autoptr (GBytes) message = g_bytes_new (data, len);

  if (self->pending.length < PENDING_MAX && !is_pending (self, message))
    g_queue_push_tail (&self->pending, g_steal_pointer (&message));
}

/* Only a CON message waits for an answer: an empty ACK or RST, or a NON,
 * may rightly get none. */
static gboolean
expects_answer (const guint8 *data, gsize len)
{
  return len > 0 && (data[0] >> 4 & 0x3) == MD_COAP_TYPE_CON;
}

static gboolean
session_seems_lost (MdClientDtls *self, gboolean expecting)
{
  gint64 now = md_client_clock_now (self->clock);

  if (self->unanswered_since == 0 && !expecting)
    return FALSE;
  if (self->unanswered_since == 0)
    self->unanswered_since = now;
  return now - self->unanswered_since > SESSION_LOST_US;
}

void
md_client_dtls_send (MdClientDtls *self, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (self != NULL && data != NULL);

  if (self->established && session_seems_lost (self, expects_answer (data, len)))
    {
      g_debug ("DTLS: no answer in the session for a while; shaking hands again");
      end_session (self);
    }
  if (self->established)
    {
      ssize_t r = send_record (self, data, len);

      if (r < 0)
        g_debug ("DTLS record not sent: %s", gnutls_strerror ((int)r));
      return;
    }
  keep_pending (self, data, len);
  if (self->tls != NULL)
    return;
  if (!start_session (self, &error))
    {
      fail (self, g_steal_pointer (&error));
      return;
    }
  step_handshake (self);
}

static void
read_records (MdClientDtls *self)
{
  guint8 record[MD_COAP_MAX_DATAGRAM + 1];

  for (guint i = 0; i < RECORDS_PER_DATAGRAM && self->established; i++)
    {
      ssize_t r = gnutls_record_recv (self->tls, record, sizeof record);

      if (r > 0)
        {
          self->unanswered_since = 0;
          self->funcs.deliver (record, (gsize)r, self->funcs.user_data);
        }
      else if (r == 0 || gnutls_error_is_fatal ((int)r))
        {
          /* close_notify or a fatal alert: the next send shakes hands. */
          g_debug ("DTLS session ended: %s", r == 0 ? "close_notify" : gnutls_strerror ((int)r));
          end_session (self);
        }
      else if (r == GNUTLS_E_AGAIN)
        return;
    }
}

void
md_client_dtls_feed (MdClientDtls *self, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL && data != NULL);

  if (self->record_func != NULL)
    report_records (self, FALSE, data, len);
  if (self->tls == NULL)
    return;
  self->in = data;
  self->in_len = len;
  if (!self->established)
    step_handshake (self);
  if (self->established)
    read_records (self);
  self->in = NULL;
}

void
md_client_dtls_reset (MdClientDtls *self)
{
  g_return_if_fail (self != NULL);

  end_session (self);
}

gboolean
md_client_dtls_is_established (MdClientDtls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->established;
}

const char *
md_client_dtls_get_name (MdClientDtls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

char *
md_client_dtls_describe (MdClientDtls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!self->established)
    return NULL;
  /* gnutls_session_get_desc() names the group (ECDHE-X25519), not PSK. */
  return g_strdup_printf ("%s %s %s %s",
                          gnutls_protocol_get_name (gnutls_protocol_get_version (self->tls)),
                          gnutls_kx_get_name (gnutls_kx_get (self->tls)),
                          gnutls_cipher_get_name (gnutls_cipher_get (self->tls)),
                          gnutls_mac_get_name (gnutls_mac_get (self->tls)));
}
