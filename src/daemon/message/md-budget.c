#include "config.h"

#include "md-budget.h"

#include "md-diagnostic.h"

gboolean
md_budget_allows (MdEcho *echo, const MdPeer *peer, gsize response_len, gsize request_len,
                  gint64 now_us)
{
  g_return_val_if_fail (echo != NULL && peer != NULL, FALSE);

  if (response_len <= MD_ECHO_AMPLIFICATION * request_len)
    return TRUE;
  return md_echo_is_verified (echo, peer, now_us);
}

static GBytes *
encode_message (const MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  guint8 data[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, data, sizeof data, &error);

  /* Cannot happen: a built message fits its own storage. */
  if (len < 0)
    {
      g_warning ("cannot encode a response: %s", error != NULL ? error->message : "no reason");
      return NULL;
    }
  return g_bytes_new (data, (gsize)len);
}

/* The resources answer a registration they accepted with an Observe
 * option, so the response itself says whether the peer now observes. */
static gboolean
registers_observer (const MdCoapMessage *response)
{
  return MD_COAP_CODE_CLASS (response->code) == 2
         && md_coap_message_has_option (response, MD_COAP_OPTION_OBSERVE);
}

/* 4.01 with an Echo value instead of a large response (RFC 9175 §2.4): the
 * peer proves its address by sending the request again with the value.
 * FALSE when the value does not fit, which cannot happen in an emptied
 * message; then the answer is silence. */
static gboolean
challenge (MdEcho *echo, MdObservers *observers, const MdPeer *peer, MdCoapMessage *response,
           gint64 now_us)
{
  guint8 value[MD_ECHO_VALUE_LEN];
  gboolean was_observing = registers_observer (response);

  md_coap_message_reset (response, MD_COAP_UNAUTHORIZED);
  md_echo_make_value (echo, peer, now_us, value);
  /* The registration was not answered, so the peer does not observe. */
  if (was_observing && observers != NULL)
    md_observers_deregister (observers, peer, response->token, response->token_len);
  return md_coap_message_add_option (response, MD_COAP_OPTION_ECHO, value, sizeof value);
}

/* @bytes if within the budget, else NULL; takes @bytes either way. */
static GBytes *
keep_if_allowed (MdEcho *echo, const MdPeer *peer, gsize request_len, GBytes *bytes, gint64 now_us)
{
  if (bytes != NULL && md_budget_allows (echo, peer, g_bytes_get_size (bytes), request_len, now_us))
    return bytes;
  g_clear_pointer (&bytes, g_bytes_unref);
  return NULL;
}

GBytes *
md_budget_encode_reply (MdEcho *echo, MdObservers *observers, const MdPeer *peer, gsize request_len,
                        MdCoapMessage *response, gint64 now_us)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize len;

  g_return_val_if_fail (echo != NULL && peer != NULL && response != NULL, NULL);

  if (registers_observer (response) && !md_echo_is_verified (echo, peer, now_us))
    {
      if (!challenge (echo, observers, peer, response, now_us))
        return NULL;
    }
  else
    {
      bytes = encode_message (response);
      if (bytes == NULL)
        return NULL;
      len = g_bytes_get_size (bytes);
      if (md_budget_allows (echo, peer, len, request_len, now_us))
        return g_steal_pointer (&bytes);
      if (md_diagnostic_is_carried (response))
        md_diagnostic_shorten (response, len - MD_ECHO_AMPLIFICATION * request_len);
      else if (!challenge (echo, observers, peer, response, now_us))
        return NULL;
    }
  return keep_if_allowed (echo, peer, request_len, encode_message (response), now_us);
}
