/* fuzz-coap: the CoAP codec on arbitrary datagrams.
 *
 * Whatever parses must encode back to the very same bytes (the option
 * encoding of RFC 7252 §3.1 is canonical), parse again to the same message,
 * and survive every reader the server and the client use.  Whatever the
 * bytes, their one-line decode (verbose log, mydailyctl --debug) is one line
 * of printable UTF-8. */
#include "config.h"

#include "fuzz-common.h"
#include "md-coap-describe.h"
#include "md-dtls-describe.h"
#include "md-error.h"

#include <string.h>

static void
assert_same_message (const MdCoapMessage *a, const MdCoapMessage *b)
{
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpuint (a->code, ==, b->code);
  g_assert_cmpuint (a->mid, ==, b->mid);
  g_assert_cmpmem (a->token, a->token_len, b->token, b->token_len);
  g_assert_cmpuint (a->n_options, ==, b->n_options);
  for (guint i = 0; i < a->n_options; i++)
    {
      g_assert_cmpuint (a->options[i].number, ==, b->options[i].number);
      g_assert_cmpmem (a->options[i].value, a->options[i].length, b->options[i].value,
                       b->options[i].length);
    }
  g_assert_cmpmem (a->payload, a->payload_len, b->payload, b->payload_len);
}

/* Every accessor on a parsed message: none may read outside the datagram. */
static void
exercise_readers (const MdCoapMessage *msg)
{
  static const guint16 known[] = { MD_COAP_OPTION_URI_PATH, MD_COAP_OPTION_URI_QUERY,
                                   MD_COAP_OPTION_BLOCK2, MD_COAP_OPTION_OBSERVE, 0 };
  g_autofree char *describe = md_coap_message_describe (msg);
  MdCoapBlock block;
  guint32 value;
  char code[5];

  g_assert_nonnull (describe);
  g_assert_null (strchr (describe, '\n'));
  g_free (md_coap_message_get_path (msg));
  g_free (md_coap_message_get_query (msg, "after"));
  g_free (md_coap_message_get_query (msg, ""));
  if (md_coap_message_get_block (msg, MD_COAP_OPTION_BLOCK2, &block))
    g_assert_cmpuint (md_coap_block_size (block.szx), <=, 1024);
  md_coap_message_get_block (msg, MD_COAP_OPTION_BLOCK1, &block);
  md_coap_message_get_uint_option (msg, MD_COAP_OPTION_OBSERVE, &value);
  md_coap_message_get_uint_option (msg, MD_COAP_OPTION_CONTENT_FORMAT, &value);
  md_coap_message_find_unknown_critical (msg, known);
  md_coap_code_format (msg->code, code);
  md_coap_type_to_string (msg->type);
  for (guint i = 0; i < msg->n_options; i++)
    md_coap_option_name (msg->options[i].number);
}

static void
assert_printable_line (const char *text)
{
  const guint8 *p = (const guint8 *)text;

  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (gsize i = 0; p[i] != '\0'; i++)
    {
      g_assert_cmpuint (p[i], >=, 0x20);
      g_assert_cmpuint (p[i], !=, 0x7f);
      /* C1 controls in UTF-8 */
      g_assert_false (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f);
    }
}

/* The same bytes as a datagram of DTLS records (mydailyctl --debug over
 * coaps): each record read stays inside them. */
static void
check_datagram_describe (const guint8 *data, gsize size)
{
  g_autofree char *text = md_coap_datagram_describe (data, size);
  MdDtlsRecord record;
  gsize at = 0;

  assert_printable_line (text);
  while (at < size && md_dtls_record_parse (data + at, size - at, &record))
    {
      g_autofree char *line = md_dtls_record_describe (&record);

      assert_printable_line (line);
      at += MD_DTLS_RECORD_HEADER + record.length;
      g_assert_cmpuint (at, <=, size);
    }
}

/* The builder must reproduce the datagram too, when it has room for it. */
static void
check_builder (const MdCoapMessage *msg, const guint8 *data, gsize size)
{
  g_autofree MdCoapMessage *built = g_new0 (MdCoapMessage, 1);
  g_autofree guint8 *out = g_malloc (size + 1);
  gssize len;

  md_coap_message_init (built, msg->type, msg->code, msg->mid);
  md_coap_message_set_token (built, msg->token, msg->token_len);
  for (guint i = 0; i < msg->n_options; i++)
    if (!md_coap_message_add_option (built, msg->options[i].number, msg->options[i].value,
                                     msg->options[i].length))
      return;
  if (!md_coap_message_set_payload (built, msg->payload, msg->payload_len))
    return;
  len = md_coap_encode (built, out, size + 1, NULL);
  g_assert_cmpmem (out, len, data, size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static MdCoapMessage msg, again;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *out = NULL;
  MdCoapType type;
  guint8 code;
  guint16 mid;
  gssize len;

  md_fuzz_init_logging ();
  check_datagram_describe (data, size);
  if (!md_coap_parse (data, size, &msg, &error))
    {
      g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
      return 0;
    }
  g_assert_true (md_coap_peek_header (data, size, &type, &code, &mid));
  g_assert_true (type == msg.type && code == msg.code && mid == msg.mid);
  exercise_readers (&msg);

  /* Too small a buffer fails cleanly; the exact size is enough. */
  out = g_malloc (size + 16);
  if (size > 0)
    g_assert_cmpint (md_coap_encode (&msg, out, size - 1, NULL), ==, -1);
  len = md_coap_encode (&msg, out, size + 16, NULL);
  g_assert_cmpmem (out, len, data, size);
  g_assert_true (md_coap_parse (out, (gsize)len, &again, NULL));
  assert_same_message (&msg, &again);
  check_builder (&msg, data, size);
  return 0;
}
