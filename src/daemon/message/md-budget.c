#include "config.h"

#include "md-budget.h"

#include "md-block-slice.h"
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

/* @response cut to blocks of @szx, with @echo_value unless NULL and a Size2
 * if @with_size2, encoded into @candidate if that fits @budget; else NULL. */
static GBytes *
encode_block (MdCoapMessage *candidate, const MdCoapMessage *response, guint szx,
              gboolean with_size2, const guint8 *echo_value, gsize budget)
{
  g_autoptr (GBytes) bytes = NULL;

  md_block_slice_copy (candidate, response);
  if (!md_block_slice_shrink (candidate, szx, with_size2))
    return NULL;
  if (echo_value != NULL
      && !md_coap_message_add_option (candidate, MD_COAP_OPTION_ECHO, echo_value,
                                      MD_ECHO_VALUE_LEN))
    return NULL;
  bytes = encode_message (candidate);
  if (bytes == NULL || g_bytes_get_size (bytes) > budget)
    return NULL;
  return g_steal_pointer (&bytes);
}

/* Whether @response starts its body: there an Echo value is worth a
 * smaller block, since the client that returns it reads on in full blocks;
 * further on, one that has not returned it yet has no Echo at all. */
static gboolean
starts_body (const MdCoapMessage *response)
{
  MdCoapBlock block;

  return !md_coap_message_get_block (response, MD_COAP_OPTION_BLOCK2, &block) || block.num == 0;
}

/* The 2.05 @response cut to the largest block that fits the budget (RFC
 * 7959 §2.4: the client goes on in that size), so a client without Echo
 * still reads everything.  With an Echo value too when it fits, if need be
 * without the optional Size2 and, on the first block, in a smaller block:
 * a client that sends it back is verified and reads on in full blocks.
 * NULL when not even the smallest block fits; @response is the answer
 * otherwise. */
static GBytes *
encode_small_block (MdEcho *echo, const MdPeer *peer, gsize budget, MdCoapMessage *response,
                    gint64 now_us)
{
  g_autofree MdCoapMessage *candidate = g_new (MdCoapMessage, 1);
  guint8 value[MD_ECHO_VALUE_LEN];
  const guint8 *offers[] = { value, NULL };
  /* Tried in this order: (offer, size) on the first block, else (size, offer). */
  gboolean echo_first = starts_body (response);
  guint n = G_N_ELEMENTS (offers) * (MD_COAP_MAX_BLOCK_SZX + 1);

  md_echo_make_value (echo, peer, now_us, value);
  for (guint i = 0; i < n; i++)
    {
      guint offer = echo_first ? i / (MD_COAP_MAX_BLOCK_SZX + 1) : i % G_N_ELEMENTS (offers);
      guint step = echo_first ? i % (MD_COAP_MAX_BLOCK_SZX + 1) : i / G_N_ELEMENTS (offers);
      guint szx = MD_COAP_MAX_BLOCK_SZX - step;

      for (gint with_size2 = 1; with_size2 >= 0; with_size2--)
        {
          GBytes *bytes
              = encode_block (candidate, response, szx, with_size2, offers[offer], budget);

          if (bytes != NULL)
            {
              md_block_slice_copy (response, candidate);
              return bytes;
            }
        }
    }
  return NULL;
}

/* Tells @observers what each notification to a registration answered by
 * @response may cost: unbounded for a verified peer, else its budget.
 * FALSE when no more unverified observers are taken. */
static gboolean
limit_observer (MdObservers *observers, const MdPeer *peer, gboolean verified, gsize request_len,
                const MdCoapMessage *response)
{
  if (observers == NULL || !registers_observer (response))
    return TRUE;
  return md_observers_set_budget (observers, peer, response->token, response->token_len,
                                  verified ? 0 : MD_ECHO_AMPLIFICATION * request_len);
}

/* @response made a challenge and encoded, or NULL: silence. */
static GBytes *
encode_challenge (MdEcho *echo, MdObservers *observers, const MdPeer *peer, gsize request_len,
                  MdCoapMessage *response, gint64 now_us)
{
  if (!challenge (echo, observers, peer, response, now_us))
    return NULL;
  return keep_if_allowed (echo, peer, request_len, encode_message (response), now_us);
}

/* Over the budget, unverified: a diagnostic is cut to fit, a body sent in
 * small blocks, anything else challenged. */
static GBytes *
encode_within (MdEcho *echo, MdObservers *observers, const MdPeer *peer, gsize request_len,
               MdCoapMessage *response, gsize len, gint64 now_us)
{
  gsize budget = MD_ECHO_AMPLIFICATION * request_len;

  if (md_diagnostic_is_carried (response))
    {
      md_diagnostic_shorten (response, len - budget);
      return keep_if_allowed (echo, peer, request_len, encode_message (response), now_us);
    }
  if (response->code == MD_COAP_CONTENT)
    {
      GBytes *small = encode_small_block (echo, peer, budget, response, now_us);

      if (small != NULL)
        return small;
    }
  return encode_challenge (echo, observers, peer, request_len, response, now_us);
}

GBytes *
md_budget_encode_reply (MdEcho *echo, MdObservers *observers, const MdPeer *peer, gsize request_len,
                        MdCoapMessage *response, gint64 now_us)
{
  g_autoptr (GBytes) bytes = NULL;
  gboolean verified;
  gsize len;

  g_return_val_if_fail (echo != NULL && peer != NULL && response != NULL, NULL);

  verified = md_echo_is_verified (echo, peer, now_us);
  if (!limit_observer (observers, peer, verified, request_len, response))
    {
      /* Unverified observers are at their cap: only a proven one is taken. */
      return encode_challenge (echo, observers, peer, request_len, response, now_us);
    }
  bytes = encode_message (response);
  if (bytes == NULL)
    return NULL;
  len = g_bytes_get_size (bytes);
  if (verified || len <= MD_ECHO_AMPLIFICATION * request_len)
    return g_steal_pointer (&bytes);
  return encode_within (echo, observers, peer, request_len, response, len, now_us);
}
