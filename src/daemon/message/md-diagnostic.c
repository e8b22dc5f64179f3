#include "config.h"

#include "md-diagnostic.h"

static void
make_ascii (GString *text)
{
  for (gsize i = 0; i < text->len; i++)
    {
      if (text->str[i] < 0x20 || text->str[i] > 0x7e)
        text->str[i] = '?';
    }
  if (text->len > MD_DIAGNOSTIC_MAX)
    {
      g_string_truncate (text, MD_DIAGNOSTIC_MAX - 3);
      g_string_append (text, "...");
    }
}

void
md_diagnostic_set (MdCoapMessage *response, guint8 code, const char *text)
{
  g_autoptr (GString) diagnostic = NULL;

  g_return_if_fail (response != NULL);
  g_return_if_fail (text != NULL);

  diagnostic = g_string_new (text);
  make_ascii (diagnostic);
  md_coap_message_reset (response, code);
  /* A diagnostic is far smaller than a message's storage; without room the
   * code alone still says what happened. */
  if (!md_coap_message_set_payload (response, diagnostic->str, diagnostic->len))
    g_warning ("no room for a diagnostic of %" G_GSIZE_FORMAT " bytes", diagnostic->len);
}

gboolean
md_diagnostic_is_carried (const MdCoapMessage *response)
{
  g_return_val_if_fail (response != NULL, FALSE);

  return MD_COAP_CODE_CLASS (response->code) >= 4 && response->code != MD_COAP_PRECONDITION_FAILED;
}

void
md_diagnostic_shorten (MdCoapMessage *response, gsize excess)
{
  gsize keep;

  g_return_if_fail (response != NULL);

  keep = response->payload_len > excess ? response->payload_len - excess : 0;
  while (keep > 0 && (response->payload[keep] & 0xc0) == 0x80)
    keep--;
  response->payload_len = keep;
}
