#include "config.h"

#include "md-coap-describe.h"

#include <string.h>

#include "md-terminal.h"

/* Bytes of an Echo value shown: mydaily's start with a 4-byte time window,
 * so 8 also show part of the MAC, enough to match a challenge to the retry
 * that carries it back. */
#define ECHO_SHOWN 8

/* The options with a field of their own; the rest show as optN=LENGTHB. */
static const guint16 described[] = {
  MD_COAP_OPTION_URI_PATH,       MD_COAP_OPTION_URI_QUERY,     MD_COAP_OPTION_LOCATION_PATH,
  MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_OPTION_MAX_AGE,       MD_COAP_OPTION_BLOCK1,
  MD_COAP_OPTION_BLOCK2,         MD_COAP_OPTION_SIZE1,         MD_COAP_OPTION_SIZE2,
  MD_COAP_OPTION_OBSERVE,        MD_COAP_OPTION_IF_NONE_MATCH, MD_COAP_OPTION_ETAG,
  MD_COAP_OPTION_ECHO,
};

/* Terminal-safe, and a space shows as \x20: a value never looks like two
 * fields. */
static void
append_text (GString *out, const guint8 *data, gsize len)
{
  g_autoptr (GString) safe = g_string_new (NULL);

  md_terminal_append_safe (safe, (const char *)data, len, MD_TERMINAL_NONE);
  for (gsize i = 0; i < safe->len; i++)
    if (safe->str[i] == ' ')
      g_string_append (out, "\\x20");
    else
      g_string_append_c (out, safe->str[i]);
}

static void
append_hex (GString *out, const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
}

/* " KEY=a/b/c" for every option with @number, or nothing. */
static void
describe_repeated (GString *out, const MdCoapMessage *msg, guint16 number, const char *key,
                   char separator)
{
  gboolean first = TRUE;

  for (guint i = 0; i < msg->n_options; i++)
    {
      const MdCoapOption *opt = &msg->options[i];

      if (opt->number != number)
        continue;
      if (first)
        g_string_append_printf (out, " %s=", key);
      else
        g_string_append_c (out, separator);
      append_text (out, opt->value, opt->length);
      first = FALSE;
    }
}

static void
describe_block (GString *out, const MdCoapMessage *msg, guint16 number, const char *key)
{
  MdCoapBlock block;

  if (md_coap_message_get_block (msg, number, &block))
    g_string_append_printf (out, " %s=%u/%d/%" G_GSIZE_FORMAT, key, block.num, block.more ? 1 : 0,
                            md_coap_block_size (block.szx));
  else if (md_coap_message_has_option (msg, number))
    g_string_append_printf (out, " %s=invalid", key);
}

static void
describe_uint (GString *out, const MdCoapMessage *msg, guint16 number, const char *key)
{
  guint32 value;

  if (md_coap_message_get_uint_option (msg, number, &value))
    g_string_append_printf (out, " %s=%u", key, value);
  else if (md_coap_message_has_option (msg, number))
    g_string_append_printf (out, " %s=invalid", key);
}

static void
describe_bytes (GString *out, const MdCoapMessage *msg, guint16 number, const char *key,
                gsize shown)
{
  const MdCoapOption *opt = md_coap_message_find_option (msg, number);

  if (opt == NULL)
    return;
  g_string_append_printf (out, " %s=", key);
  append_hex (out, opt->value, MIN (opt->length, shown));
  if (opt->length > shown)
    g_string_append (out, "...");
  g_string_append_printf (out, "(%uB)", (guint)opt->length);
}

static gboolean
is_described (guint16 number)
{
  for (guint i = 0; i < G_N_ELEMENTS (described); i++)
    if (described[i] == number)
      return TRUE;
  return FALSE;
}

static void
describe_others (GString *out, const MdCoapMessage *msg)
{
  for (guint i = 0; i < msg->n_options; i++)
    if (!is_described (msg->options[i].number))
      g_string_append_printf (out, " opt%u=%uB", msg->options[i].number,
                              (guint)msg->options[i].length);
}

static void
describe_header (GString *out, MdCoapType type, guint8 code, guint16 mid)
{
  static const char *const methods[] = { "EMPTY", "GET", "POST", "PUT", "DELETE" };
  char text[5];

  g_string_append_printf (out, "%s ", md_coap_type_to_string (type));
  if (code < G_N_ELEMENTS (methods))
    g_string_append (out, methods[code]);
  else
    {
      md_coap_code_format (code, text);
      g_string_append (out, text);
    }
  g_string_append_printf (out, " mid=0x%04x", mid);
}

static void
describe_options (GString *out, const MdCoapMessage *msg)
{
  describe_repeated (out, msg, MD_COAP_OPTION_URI_PATH, "path", '/');
  describe_repeated (out, msg, MD_COAP_OPTION_URI_QUERY, "query", '&');
  describe_repeated (out, msg, MD_COAP_OPTION_LOCATION_PATH, "location", '/');
  describe_uint (out, msg, MD_COAP_OPTION_CONTENT_FORMAT, "ct");
  describe_uint (out, msg, MD_COAP_OPTION_MAX_AGE, "max-age");
  describe_block (out, msg, MD_COAP_OPTION_BLOCK1, "block1");
  describe_block (out, msg, MD_COAP_OPTION_BLOCK2, "block2");
  describe_uint (out, msg, MD_COAP_OPTION_SIZE1, "size1");
  describe_uint (out, msg, MD_COAP_OPTION_SIZE2, "size2");
  describe_uint (out, msg, MD_COAP_OPTION_OBSERVE, "observe");
  if (md_coap_message_has_option (msg, MD_COAP_OPTION_IF_NONE_MATCH))
    g_string_append (out, " if-none-match");
  describe_bytes (out, msg, MD_COAP_OPTION_ETAG, "etag", 8);
  describe_bytes (out, msg, MD_COAP_OPTION_ECHO, "echo", ECHO_SHOWN);
  describe_others (out, msg);
}

gchar *
md_coap_message_describe (const MdCoapMessage *msg)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_return_val_if_fail (msg != NULL, NULL);

  describe_header (out, msg->type, msg->code, msg->mid);
  if (msg->token_len > 0)
    g_string_append (out, " token=");
  append_hex (out, msg->token, MIN (msg->token_len, MD_COAP_MAX_TOKEN));
  describe_options (out, msg);
  if (msg->payload_len > 0)
    g_string_append_printf (out, " payload=%" G_GSIZE_FORMAT "B", msg->payload_len);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gchar *
md_coap_datagram_describe (const guint8 *data, gsize len)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  MdCoapType type;
  guint8 code;
  guint16 mid;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (md_coap_parse (data, len, msg, &error))
    return md_coap_message_describe (msg);
  if (md_coap_peek_header (data, len, &type, &code, &mid))
    {
      describe_header (out, type, code, mid);
      g_string_append_c (out, ' ');
    }
  g_string_append (out, "malformed: ");
  md_terminal_append_safe (out, error->message, strlen (error->message), MD_TERMINAL_NONE);
  g_string_append_printf (out, " (%" G_GSIZE_FORMAT " bytes)", len);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
