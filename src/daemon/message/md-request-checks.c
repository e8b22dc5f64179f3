#include "config.h"

#include "md-request-checks.h"

#include "md-diagnostic.h"
#include "md-note.h"
#include "md-write-proof.h"

/* Options this endpoint understands; any other critical one gets 4.02. */
static const guint16 known_options[] = {
  MD_COAP_OPTION_URI_HOST,       MD_COAP_OPTION_ETAG,      MD_COAP_OPTION_IF_NONE_MATCH,
  MD_COAP_OPTION_OBSERVE,        MD_COAP_OPTION_URI_PORT,  MD_COAP_OPTION_URI_PATH,
  MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_OPTION_URI_QUERY, MD_COAP_OPTION_ACCEPT,
  MD_COAP_OPTION_BLOCK2,         MD_COAP_OPTION_BLOCK1,    MD_COAP_OPTION_SIZE2,
  MD_COAP_OPTION_SIZE1,          MD_COAP_OPTION_ECHO,      0,
};

static gboolean
reject (MdCoapMessage *response, guint8 code, const char *reason)
{
  md_diagnostic_set (response, code, reason);
  return FALSE;
}

static gboolean
check_block1 (const MdCoapMessage *request, MdCoapMessage *response)
{
  MdCoapBlock block;

  if (!md_coap_message_has_option (request, MD_COAP_OPTION_BLOCK1))
    return TRUE;
  if (!md_coap_message_get_block (request, MD_COAP_OPTION_BLOCK1, &block))
    return reject (response, MD_COAP_BAD_OPTION, "malformed Block1 option");
  /* A note fits one datagram; a lone final block 0 is simply the whole body. */
  if (block.num == 0 && !block.more)
    return TRUE;
  reject (response, MD_COAP_REQUEST_ENTITY_TOO_LARGE, "send the note in one datagram");
  /* After the reset of reject(): RFC 7252 §5.9.2.9, the largest body we
   * take.  Without room the 4.13 alone still says "too large". */
  if (!md_coap_message_add_uint_option (response, MD_COAP_OPTION_SIZE1, MD_NOTE_MAX_BYTES))
    g_warning ("no room for Size1 in a 4.13");
  return FALSE;
}

gboolean
md_request_check (MdEcho *echo, const MdCoapMessage *request, const MdPeer *peer, gint64 now_us,
                  MdCoapMessage *response)
{
  const MdCoapOption *value;
  guint16 unknown;

  g_return_val_if_fail (echo != NULL && request != NULL && peer != NULL, FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  if (md_coap_message_has_option (request, MD_COAP_OPTION_PROXY_URI)
      || md_coap_message_has_option (request, MD_COAP_OPTION_PROXY_SCHEME))
    return reject (response, MD_COAP_PROXYING_NOT_SUPPORTED, "this server is not a proxy");
  unknown = md_coap_message_find_unknown_critical (request, known_options);
  if (unknown != 0)
    {
      g_autofree char *reason = g_strdup_printf ("unknown critical option %u", unknown);

      return reject (response, MD_COAP_BAD_OPTION, reason);
    }
  if (!check_block1 (request, response))
    return FALSE;
  value = md_coap_message_find_option (request, MD_COAP_OPTION_ECHO);
  if (value != NULL)
    md_echo_check_value (echo, peer, value->value, value->length, now_us);
  return md_write_proof_check (echo, request, peer, now_us, response);
}
