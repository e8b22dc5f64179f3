#include "config.h"

#include "md-message-layer.h"

#include "md-budget.h"
#include "md-coap-describe.h"
#include "md-error.h"

void
md_message_layer_log (MdMessageLayer *self, const char *direction, const MdPeer *peer,
                      const MdCoapMessage *msg)
{
  g_autofree char *text = NULL;
  char address[64];

  g_return_if_fail (self != NULL);

  if (!self->verbose)
    return;
  text = md_coap_message_describe (msg);
  g_debug ("%s %s: %s", direction, md_peer_to_string (peer, address), text);
}

static void
log_bytes (MdMessageLayer *self, const char *direction, const MdPeer *peer, GBytes *bytes)
{
  g_autofree MdCoapMessage *msg = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (!self->verbose)
    return;
  msg = g_new0 (MdCoapMessage, 1);
  if (md_coap_parse (data, len, msg, NULL))
    md_message_layer_log (self, direction, peer, msg);
}

static void
log_malformed (const MdPeer *peer, gsize len, const char *reason)
{
  char address[64];

  g_debug ("dropped a malformed datagram of %" G_GSIZE_FORMAT " bytes from %s: %s", len,
           md_peer_to_string (peer, address), reason);
}

/* RST for a CON we cannot or will not process (RFC 7252 §4.2). */
static void
send_reset (MdMessageLayer *self, const MdPeer *peer, guint16 mid)
{
  MdCoapMessage rst;
  guint8 data[4];
  gssize len;

  md_coap_message_init (&rst, MD_COAP_TYPE_RST, MD_COAP_EMPTY, mid);
  len = md_coap_encode (&rst, data, sizeof data, NULL);
  if (len > 0)
    {
      md_message_layer_log (self, "send to", peer, &rst);
      md_peer_send (peer, data, (gsize)len);
    }
}

/* The cached answer to a duplicate, within the budget of this datagram: a
 * retransmission has the original's length, but a forged 4-byte request
 * with a known Message ID must not fetch a large cached response. */
static void
replay (MdMessageLayer *self, const MdPeer *peer, GBytes *cached, gsize request_len, gint64 now_us)
{
  gsize len;
  const guint8 *data;

  /* NULL: the first answer was silence (over the amplification budget). */
  if (cached == NULL)
    return;
  data = g_bytes_get_data (cached, &len);
  if (!md_budget_allows (self->echo, peer, len, request_len, now_us))
    {
      g_debug ("duplicate shorter than its original: not replayed");
      return;
    }
  log_bytes (self, "replay to", peer, cached);
  md_peer_send (peer, data, len);
}

/* Whether the request is new; a duplicate is answered or dropped here. */
static gboolean
is_new_request (MdMessageLayer *self, const MdPeer *peer, const MdCoapMessage *request, gsize len,
                gint64 now_us)
{
  GBytes *cached = NULL;

  switch (md_dedup_check (self->dedup, peer, request->mid, now_us, &cached))
    {
      case MD_DEDUP_REPLAY:
        replay (self, peer, cached, len, now_us);
        return FALSE;
      case MD_DEDUP_IN_PROGRESS:
        return FALSE;
      case MD_DEDUP_NEW:
      default:
        return TRUE;
    }
}

static void
handle_empty (MdMessageLayer *self, const MdPeer *peer, const MdCoapMessage *msg)
{
  switch (msg->type)
    {
      case MD_COAP_TYPE_CON:
        send_reset (self, peer, msg->mid); /* a ping (RFC 7252 §4.3) */
        break;
      case MD_COAP_TYPE_RST:
        md_observers_reset (self->observers, peer, msg->mid);
        break;
      case MD_COAP_TYPE_ACK:
      case MD_COAP_TYPE_NON:
      default:
        break; /* we send no CON, so an ACK matches nothing */
    }
}

static gboolean
handle_message (MdMessageLayer *self, const MdPeer *peer, const MdCoapMessage *msg, gsize len,
                gint64 now_us)
{
  if (msg->code == MD_COAP_EMPTY)
    handle_empty (self, peer, msg);
  else if (MD_COAP_CODE_CLASS (msg->code) != 0)
    {
      /* A response, or a reserved class: we asked nothing. */
      if (msg->type == MD_COAP_TYPE_CON)
        send_reset (self, peer, msg->mid);
    }
  else if (msg->type == MD_COAP_TYPE_CON || msg->type == MD_COAP_TYPE_NON)
    return is_new_request (self, peer, msg, len, now_us);
  /* A request code in an ACK or RST is a format error: silently ignored. */
  return FALSE;
}

/* No resource looks at the identity yet: plain CoAP proves none. */
gboolean
md_message_layer_accept (MdMessageLayer *self, const MdDatagram *datagram, MdCoapMessage *request,
                         gint64 now_us)
{
  g_autoptr (GError) error = NULL;
  MdCoapType type;
  guint8 code;
  guint16 mid;

  g_return_val_if_fail (self != NULL && datagram != NULL && request != NULL, FALSE);

  /* Not even a CoAP header: nothing to answer to (RFC 7252 §4.2). */
  if (!md_coap_peek_header (datagram->data, datagram->len, &type, &code, &mid))
    return FALSE;
  if (datagram->truncated)
    g_set_error_literal (&error, MD_ERROR, MD_ERROR_MALFORMED, "datagram truncated");
  if (datagram->truncated || !md_coap_parse (datagram->data, datagram->len, request, &error))
    {
      log_malformed (&datagram->peer, datagram->len, error != NULL ? error->message : "unparsable");
      if (type == MD_COAP_TYPE_CON)
        send_reset (self, &datagram->peer, mid);
      return FALSE;
    }
  md_message_layer_log (self, "recv from", &datagram->peer, request);
  return handle_message (self, &datagram->peer, request, datagram->len, now_us);
}
