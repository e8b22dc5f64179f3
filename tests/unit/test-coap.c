/* The CoAP codec against RFC 7252 §3 and Appendix A, and RFC 7959 Block. */
#include "config.h"

#include "md-coap-describe.h"
#include "md-error.h"

#include <string.h>

/* RFC 7252 Appendix A, Figure 16: CON GET /temperature, MID 0x7d34, no token. */
static const guint8 get_temperature[]
    = { 0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p', 'e', 'r', 'a', 't', 'u', 'r', 'e' };
/* ... and its piggybacked 2.05 Content ACK with payload "22.3 C". */
static const guint8 content_ack[] = { 0x60, 0x45, 0x7d, 0x34, 0xff, '2', '2', '.', '3', ' ', 'C' };
/* Figure 17: the same exchange with a one-byte token 0x20. */
static const guint8 get_temperature_token[]
    = { 0x41, 0x01, 0x7d, 0x34, 0x20, 0xbb, 't', 'e', 'm', 'p', 'e', 'r', 'a', 't', 'u', 'r', 'e' };
static const guint8 content_ack_token[]
    = { 0x61, 0x45, 0x7d, 0x34, 0x20, 0xff, '2', '2', '.', '3', ' ', 'C' };

static void
assert_parse_ok (const guint8 *data, gsize len, MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_coap_parse (data, len, msg, &error));
  g_assert_no_error (error);
}

static void
assert_malformed (const guint8 *data, gsize len)
{
  MdCoapMessage msg;
  g_autoptr (GError) error = NULL;

  g_assert_false (md_coap_parse (data, len, &msg, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
  g_assert_nonnull (error->message);
  g_assert_cmpuint (strlen (error->message), >, 0);
}

static void
assert_encodes_to (const MdCoapMessage *msg, const guint8 *expected, gsize expected_len)
{
  guint8 out[MD_COAP_MAX_DATAGRAM * 2];
  g_autoptr (GError) error = NULL;
  gssize n;

  n = md_coap_encode (msg, out, sizeof out, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (out, n, expected, expected_len);
}

static void
test_parse_rfc_get (void)
{
  MdCoapMessage msg;
  g_autofree gchar *path = NULL;

  assert_parse_ok (get_temperature, sizeof get_temperature, &msg);
  g_assert_cmpint (msg.type, ==, MD_COAP_TYPE_CON);
  g_assert_cmpuint (msg.code, ==, MD_COAP_GET);
  g_assert_cmpuint (msg.mid, ==, 0x7d34);
  g_assert_cmpuint (msg.token_len, ==, 0);
  g_assert_cmpuint (msg.n_options, ==, 1);
  g_assert_cmpuint (msg.options[0].number, ==, MD_COAP_OPTION_URI_PATH);
  /* Zero allocation: the value points into the datagram. */
  g_assert_true (msg.options[0].value == get_temperature + 5);
  g_assert_null (msg.payload);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  path = md_coap_message_get_path (&msg);
  g_assert_cmpstr (path, ==, "temperature");
}

static void
test_parse_rfc_content (void)
{
  MdCoapMessage msg;

  assert_parse_ok (content_ack, sizeof content_ack, &msg);
  g_assert_cmpint (msg.type, ==, MD_COAP_TYPE_ACK);
  g_assert_cmpuint (msg.code, ==, MD_COAP_CONTENT);
  g_assert_cmpuint (msg.mid, ==, 0x7d34);
  g_assert_cmpuint (msg.n_options, ==, 0);
  g_assert_true (msg.payload == content_ack + 5);
  g_assert_cmpmem (msg.payload, msg.payload_len, "22.3 C", 6);
}

static void
test_parse_rfc_token (void)
{
  MdCoapMessage msg;

  assert_parse_ok (get_temperature_token, sizeof get_temperature_token, &msg);
  g_assert_cmpuint (msg.token_len, ==, 1);
  g_assert_cmpuint (msg.token[0], ==, 0x20);
  g_assert_cmpuint (msg.n_options, ==, 1);
  assert_parse_ok (content_ack_token, sizeof content_ack_token, &msg);
  g_assert_cmpuint (msg.token_len, ==, 1);
  g_assert_cmpmem (msg.payload, msg.payload_len, "22.3 C", 6);
}

static void
test_encode_rfc_examples (void)
{
  MdCoapMessage request, response;
  const guint8 token = 0x20;

  md_coap_message_init (&request, MD_COAP_TYPE_CON, MD_COAP_GET, 0x7d34);
  g_assert_true (md_coap_message_add_path (&request, MD_COAP_OPTION_URI_PATH, "/temperature"));
  assert_encodes_to (&request, get_temperature, sizeof get_temperature);

  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_set_payload (&response, "22.3 C", 6));
  assert_encodes_to (&response, content_ack, sizeof content_ack);

  md_coap_message_set_token (&request, &token, 1);
  assert_encodes_to (&request, get_temperature_token, sizeof get_temperature_token);
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_set_payload (&response, "22.3 C", 6));
  assert_encodes_to (&response, content_ack_token, sizeof content_ack_token);
}

/* An option with @number (first, so delta == number) and an empty value. */
static void
check_delta (guint16 number, const guint8 *expected, gsize expected_len)
{
  MdCoapMessage msg, parsed;
  guint8 datagram[16] = { 0x50, 0x01, 0x00, 0x01 };

  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_GET, 1);
  g_assert_true (md_coap_message_add_option (&msg, number, NULL, 0));
  memcpy (datagram + 4, expected, expected_len);
  assert_encodes_to (&msg, datagram, 4 + expected_len);
  assert_parse_ok (datagram, 4 + expected_len, &parsed);
  g_assert_cmpuint (parsed.n_options, ==, 1);
  g_assert_cmpuint (parsed.options[0].number, ==, number);
  g_assert_cmpuint (parsed.options[0].length, ==, 0);
}

static void
test_encode_extended_delta (void)
{
  check_delta (12, (const guint8[]){ 0xc0 }, 1);
  check_delta (13, (const guint8[]){ 0xd0, 0x00 }, 2);
  check_delta (268, (const guint8[]){ 0xd0, 0xff }, 2);
  check_delta (269, (const guint8[]){ 0xe0, 0x00, 0x00 }, 3);
  check_delta (65535, (const guint8[]){ 0xe0, 0xfe, 0xf2 }, 3);
}

/* An If-Match (1) option of @len bytes 'x'. */
static void
check_length (gsize len, const guint8 *header, gsize header_len)
{
  MdCoapMessage msg, parsed;
  g_autofree guint8 *datagram = g_malloc (4 + header_len + len);

  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_GET, 1);
  memset (datagram, 'x', 4 + header_len + len);
  g_assert_true (md_coap_message_add_option (&msg, 1, datagram, len));
  memcpy (datagram, (const guint8[]){ 0x50, 0x01, 0x00, 0x01 }, 4);
  memcpy (datagram + 4, header, header_len);
  assert_encodes_to (&msg, datagram, 4 + header_len + len);
  assert_parse_ok (datagram, 4 + header_len + len, &parsed);
  g_assert_cmpuint (parsed.n_options, ==, 1);
  g_assert_cmpuint (parsed.options[0].length, ==, len);
}

static void
test_encode_extended_length (void)
{
  check_length (12, (const guint8[]){ 0x1c }, 1);
  check_length (13, (const guint8[]){ 0x1d, 0x00 }, 2);
  check_length (268, (const guint8[]){ 0x1d, 0xff }, 2);
  check_length (269, (const guint8[]){ 0x1e, 0x00, 0x00 }, 3);
  check_length (1024, (const guint8[]){ 0x1e, 0x02, 0xf3 }, 3);
}

static void
test_encode_uint_option (void)
{
  static const struct
  {
    guint32 value;
    guint8 bytes[4];
    gsize len;
  } cases[] = {
    { 0, { 0 }, 0 },
    { 1, { 0x01 }, 1 },
    { 255, { 0xff }, 1 },
    { 256, { 0x01, 0x00 }, 2 },
    { 0x10000, { 0x01, 0x00, 0x00 }, 3 },
    { 0xffffffff, { 0xff, 0xff, 0xff, 0xff }, 4 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MdCoapMessage msg;
      guint32 value = 12345;

      md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
      g_assert_true (
          md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, cases[i].value));
      g_assert_cmpmem (msg.options[0].value, msg.options[0].length, cases[i].bytes, cases[i].len);
      g_assert_true (md_coap_message_get_uint_option (&msg, MD_COAP_OPTION_OBSERVE, &value));
      g_assert_cmpuint (value, ==, cases[i].value);
    }
}

static void
test_parse_uint_option_too_long (void)
{
  /* Max-Age (14) with 5 bytes. */
  static const guint8 data[] = { 0x50, 0x45, 0x00, 0x01, 0xd5, 0x01, 1, 2, 3, 4, 5 };
  MdCoapMessage msg;
  guint32 value;

  assert_parse_ok (data, sizeof data, &msg);
  g_assert_cmpuint (msg.options[0].number, ==, MD_COAP_OPTION_MAX_AGE);
  g_assert_false (md_coap_message_get_uint_option (&msg, MD_COAP_OPTION_MAX_AGE, &value));
  g_assert_false (md_coap_message_get_uint_option (&msg, MD_COAP_OPTION_OBSERVE, &value));
}

/* RFC 7959 §2.2: NUM << 4 | M << 3 | SZX in 1 to 3 bytes. */
static void
test_encode_block (void)
{
  static const struct
  {
    MdCoapBlock block;
    guint8 bytes[3];
    gsize len;
  } cases[] = {
    { { 0, FALSE, 0 }, { 0 }, 0 },                    /* 0/0/16 is the empty value */
    { { 0, FALSE, 2 }, { 0x02 }, 1 },                 /* 0/0/64 (Figure 2) */
    { { 0, TRUE, 3 }, { 0x0b }, 1 },                  /* 0/1/128 */
    { { 1, TRUE, 3 }, { 0x1b }, 1 },                  /* 1/1/128 */
    { { 2, FALSE, 3 }, { 0x23 }, 1 },                 /* 2/0/128 */
    { { 15, TRUE, 6 }, { 0xfe }, 1 },                 /* 15/1/1024 */
    { { 16, FALSE, 6 }, { 0x01, 0x06 }, 2 },          /* first two-byte NUM */
    { { 4095, TRUE, 4 }, { 0xff, 0xfc }, 2 },         /* last two-byte NUM */
    { { 4096, FALSE, 0 }, { 0x01, 0x00, 0x00 }, 3 },  /* first three-byte NUM */
    { { 0xfffff, TRUE, 6 }, { 0xff, 0xff, 0xfe }, 3 } /* largest NUM */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MdCoapMessage msg;
      MdCoapBlock block;

      md_coap_message_init (&msg, MD_COAP_TYPE_ACK, MD_COAP_CONTENT, 1);
      g_assert_true (md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK2, &cases[i].block));
      g_assert_cmpmem (msg.options[0].value, msg.options[0].length, cases[i].bytes, cases[i].len);
      g_assert_true (md_coap_message_get_block (&msg, MD_COAP_OPTION_BLOCK2, &block));
      g_assert_cmpuint (block.num, ==, cases[i].block.num);
      g_assert_cmpint (block.more, ==, cases[i].block.more);
      g_assert_cmpuint (block.szx, ==, cases[i].block.szx);
    }
}

static void
test_parse_block_invalid (void)
{
  MdCoapMessage msg;
  MdCoapBlock block;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_false (md_coap_message_get_block (&msg, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_BLOCK2, "\x07", 1));
  g_assert_false (md_coap_message_get_block (&msg, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_BLOCK1, "\x00\x00\x00\x01", 4));
  g_assert_false (md_coap_message_get_block (&msg, MD_COAP_OPTION_BLOCK1, &block));
}

static void
test_block_size (void)
{
  g_assert_cmpuint (md_coap_block_size (0), ==, 16);
  g_assert_cmpuint (md_coap_block_size (2), ==, 64);
  g_assert_cmpuint (md_coap_block_size (MD_COAP_MAX_BLOCK_SZX), ==, 1024);
}

static void
test_encode_sorted (void)
{
  MdCoapMessage msg;
  static const guint16 expected[] = { 3, 11, 11, 11, 15, 23, 60 };

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_POST, 7);
  g_assert_true (md_coap_message_add_option (&msg, 60, "", 0));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "a"));
  g_assert_true (md_coap_message_add_option (&msg, 23, "", 0));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "b"));
  g_assert_true (md_coap_message_add_option (&msg, 3, "h", 1));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "q=1"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "c"));
  g_assert_cmpuint (msg.n_options, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < msg.n_options; i++)
    g_assert_cmpuint (msg.options[i].number, ==, expected[i]);
  /* Repeats stay in the order they were added. */
  g_assert_cmpmem (msg.options[1].value, 1, "a", 1);
  g_assert_cmpmem (msg.options[2].value, 1, "b", 1);
  g_assert_cmpmem (msg.options[3].value, 1, "c", 1);
}

static void
test_encode_round_trip (void)
{
  MdCoapMessage msg, parsed, again;
  const guint8 token[] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18 };
  guint8 out[MD_COAP_MAX_DATAGRAM], out2[MD_COAP_MAX_DATAGRAM];
  guint8 payload[1024];
  gssize n, n2;

  memset (payload, 'p', sizeof payload);
  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_CONTENT, 0xffff);
  md_coap_message_set_token (&msg, token, sizeof token);
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, 70000));
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_CONTENT_FORMAT, 0));
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_LOCATION_PATH, "notes//42/"));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ECHO, token, sizeof token));
  g_assert_true (
      md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK2, &(MdCoapBlock){ 300, TRUE, 6 }));
  g_assert_true (md_coap_message_set_payload (&msg, payload, sizeof payload));

  n = md_coap_encode (&msg, out, sizeof out, NULL);
  g_assert_cmpint (n, >, 1024);
  assert_parse_ok (out, n, &parsed);
  g_assert_cmpint (parsed.type, ==, msg.type);
  g_assert_cmpuint (parsed.code, ==, msg.code);
  g_assert_cmpuint (parsed.mid, ==, msg.mid);
  g_assert_cmpmem (parsed.token, parsed.token_len, token, sizeof token);
  g_assert_cmpuint (parsed.n_options, ==, msg.n_options);
  for (guint i = 0; i < msg.n_options; i++)
    {
      g_assert_cmpuint (parsed.options[i].number, ==, msg.options[i].number);
      g_assert_cmpmem (parsed.options[i].value, parsed.options[i].length, msg.options[i].value,
                       msg.options[i].length);
    }
  g_assert_cmpmem (parsed.payload, parsed.payload_len, payload, sizeof payload);

  /* Re-encoding a parsed message gives the same bytes: encodings are minimal. */
  n2 = md_coap_encode (&parsed, out2, sizeof out2, NULL);
  g_assert_cmpmem (out2, n2, out, n);
  md_coap_message_init (&again, MD_COAP_TYPE_CON, 0, 0);
  g_assert_cmpuint (again.n_options, ==, 0);
}

static void
test_encode_buffer_too_small (void)
{
  MdCoapMessage msg;
  guint8 out[sizeof get_temperature];
  g_autoptr (GError) error = NULL;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 0x7d34);
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, "temperature"));
  g_assert_cmpint (md_coap_encode (&msg, out, sizeof out - 1, &error), ==, -1);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (md_coap_encode (&msg, out, 3, &error), ==, -1);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (md_coap_encode (&msg, out, sizeof out, &error), ==, sizeof out);
  g_assert_no_error (error);
}

static void
test_encode_storage_full (void)
{
  MdCoapMessage msg;
  g_autofree guint8 *big = g_malloc0 (MD_COAP_STORAGE + 1);

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_false (md_coap_message_set_payload (&msg, big, MD_COAP_STORAGE + 1));
  g_assert_false (md_coap_message_add_option (&msg, MD_COAP_OPTION_ETAG, big, MD_COAP_STORAGE + 1));
  g_assert_cmpuint (msg.n_options, ==, 0);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ETAG, big, MD_COAP_STORAGE - 1));
  g_assert_false (md_coap_message_set_payload (&msg, big, 2));
  g_assert_true (md_coap_message_set_payload (&msg, "x", 1));
  g_assert_false (md_coap_message_add_option (&msg, MD_COAP_OPTION_ETAG, "y", 1));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_cmpuint (msg.n_options, ==, 2);
  g_assert_cmpmem (msg.payload, msg.payload_len, "x", 1);
}

static void
test_encode_too_many_options (void)
{
  MdCoapMessage msg;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  for (guint i = 0; i < MD_COAP_MAX_OPTIONS; i++)
    g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "s"));
  g_assert_false (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "s"));
  g_assert_false (md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, "t"));
  g_assert_cmpuint (msg.n_options, ==, MD_COAP_MAX_OPTIONS);
}

static void
test_response_init (void)
{
  MdCoapMessage request, response;
  const guint8 token[] = { 1, 2, 3, 4 };

  md_coap_message_init (&request, MD_COAP_TYPE_CON, MD_COAP_GET, 0x1234);
  md_coap_message_set_token (&request, token, sizeof token);
  g_assert_true (md_coap_message_set_payload (&request, "q", 1));
  md_coap_message_init_response (&response, &request, MD_COAP_NOT_FOUND, 0x9999);
  g_assert_cmpint (response.type, ==, MD_COAP_TYPE_ACK);
  g_assert_cmpuint (response.mid, ==, 0x1234);
  g_assert_cmpuint (response.code, ==, MD_COAP_NOT_FOUND);
  g_assert_cmpmem (response.token, response.token_len, token, sizeof token);
  g_assert_cmpuint (response.n_options, ==, 0);
  g_assert_cmpuint (response.payload_len, ==, 0);

  request.type = MD_COAP_TYPE_NON;
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0x9999);
  g_assert_cmpint (response.type, ==, MD_COAP_TYPE_NON);
  g_assert_cmpuint (response.mid, ==, 0x9999);
  g_assert_cmpmem (response.token, response.token_len, token, sizeof token);
}

/* A datagram: NON GET MID 1, no token, then @rest.  It stays in a static
 * buffer until the next call, since @msg points into it. */
static void
parse_with_options (const guint8 *rest, gsize rest_len, MdCoapMessage *msg, gboolean ok)
{
  static guint8 data[4 + 256];

  g_assert_cmpuint (rest_len, <=, sizeof data - 4);
  memcpy (data, (const guint8[]){ 0x50, 0x01, 0x00, 0x01 }, 4);
  memcpy (data + 4, rest, rest_len);
  if (ok)
    assert_parse_ok (data, 4 + rest_len, msg);
  else
    assert_malformed (data, 4 + rest_len);
}

static void
test_parse_empty_ping (void)
{
  static const guint8 ping[] = { 0x40, 0x00, 0x12, 0x34 };
  MdCoapMessage msg;

  assert_parse_ok (ping, sizeof ping, &msg);
  g_assert_cmpint (msg.type, ==, MD_COAP_TYPE_CON);
  g_assert_cmpuint (msg.code, ==, MD_COAP_EMPTY);
  g_assert_cmpuint (msg.mid, ==, 0x1234);
}

static void
test_parse_malformed_header (void)
{
  /* Truncated header: 0 to 3 bytes. */
  assert_malformed ((const guint8[]){ 0 }, 0);
  assert_malformed ((const guint8[]){ 0x40 }, 1);
  assert_malformed ((const guint8[]){ 0x40, 0x01 }, 2);
  assert_malformed ((const guint8[]){ 0x40, 0x01, 0x00 }, 3);
  /* Versions 0, 2, 3. */
  assert_malformed ((const guint8[]){ 0x00, 0x01, 0x00, 0x01 }, 4);
  assert_malformed ((const guint8[]){ 0x80, 0x01, 0x00, 0x01 }, 4);
  assert_malformed ((const guint8[]){ 0xc0, 0x01, 0x00, 0x01 }, 4);
}

static void
test_parse_malformed_token (void)
{
  guint8 data[4 + 15];

  memset (data, 0xaa, sizeof data);
  for (guint tkl = 9; tkl <= 15; tkl++)
    {
      data[0] = (guint8)(0x40 | tkl);
      data[1] = MD_COAP_GET;
      assert_malformed (data, sizeof data);
    }
  /* Token length 8 with only 7 bytes there. */
  data[0] = 0x48;
  assert_malformed (data, 4 + 7);
  data[0] = 0x48;
  {
    MdCoapMessage msg;

    assert_parse_ok (data, 4 + 8, &msg);
    g_assert_cmpuint (msg.token_len, ==, 8);
  }
}

static void
test_parse_malformed_empty (void)
{
  /* Code 0.00 with a token, an option, a payload. */
  assert_malformed ((const guint8[]){ 0x41, 0x00, 0x00, 0x01, 0x20 }, 5);
  assert_malformed ((const guint8[]){ 0x40, 0x00, 0x00, 0x01, 0xb0 }, 5);
  assert_malformed ((const guint8[]){ 0x70, 0x00, 0x00, 0x01, 0xff, 'x' }, 6);
}

static void
test_parse_malformed_nibble15 (void)
{
  MdCoapMessage msg;

  parse_with_options ((const guint8[]){ 0xf0 }, 1, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0x0f }, 1, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xf1, 'x' }, 2, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0x1f, 0x00 }, 2, &msg, FALSE);
  /* After a valid option too. */
  parse_with_options ((const guint8[]){ 0xb1, 'a', 0xf0 }, 3, &msg, FALSE);
}

static void
test_parse_malformed_past_end (void)
{
  MdCoapMessage msg;

  /* Value longer than what is left. */
  parse_with_options ((const guint8[]){ 0xb3, 'a', 'b' }, 3, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xb3, 'a', 'b', 'c' }, 4, &msg, TRUE);
  /* Extended delta or length bytes missing. */
  parse_with_options ((const guint8[]){ 0xd0 }, 1, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xe0, 0x00 }, 2, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0x1d }, 1, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0x1e, 0x00 }, 2, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xdd, 0x00 }, 2, &msg, FALSE);
  /* 16-bit length 269 with one byte of value. */
  parse_with_options ((const guint8[]){ 0x1e, 0x00, 0x00, 'x' }, 4, &msg, FALSE);
}

static void
test_parse_malformed_marker (void)
{
  MdCoapMessage msg;

  parse_with_options ((const guint8[]){ 0xff }, 1, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xb1, 'a', 0xff }, 3, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xff, 0xff }, 2, &msg, TRUE);
  g_assert_cmpuint (msg.payload_len, ==, 1);
  g_assert_cmpuint (msg.payload[0], ==, 0xff);
}

static void
test_parse_number_overflow (void)
{
  MdCoapMessage msg;

  /* 65535 itself is fine; one more is not. */
  parse_with_options ((const guint8[]){ 0xe0, 0xfe, 0xf2 }, 3, &msg, TRUE);
  g_assert_cmpuint (msg.options[0].number, ==, 65535);
  parse_with_options ((const guint8[]){ 0xe0, 0xfe, 0xf2, 0x10 }, 4, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xe0, 0xff, 0xff }, 3, &msg, FALSE);
  parse_with_options ((const guint8[]){ 0xe0, 0xff, 0x00, 0xe0, 0xff, 0x00 }, 6, &msg, FALSE);
}

static void
test_parse_too_many_options (void)
{
  guint8 rest[MD_COAP_MAX_OPTIONS + 1];
  MdCoapMessage msg;

  /* Repeated empty If-Match options: 0x10 then 0x00 0x00 ... */
  memset (rest, 0x00, sizeof rest);
  rest[0] = 0x10;
  parse_with_options (rest, MD_COAP_MAX_OPTIONS, &msg, TRUE);
  g_assert_cmpuint (msg.n_options, ==, MD_COAP_MAX_OPTIONS);
  parse_with_options (rest, MD_COAP_MAX_OPTIONS + 1, &msg, FALSE);
}

/* Every prefix of a valid message parses or fails cleanly (ASan watches). */
static void
test_parse_truncations (void)
{
  MdCoapMessage msg;
  guint8 out[MD_COAP_MAX_DATAGRAM];
  gssize n;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_PUT, 42);
  md_coap_message_set_token (&msg, (const guint8 *)"abcd", 4);
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, "notes/key"));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ECHO, "0123456789abcdef", 16));
  g_assert_true (md_coap_message_add_option (&msg, 2000, "z", 1));
  g_assert_true (md_coap_message_set_payload (&msg, "hello", 5));
  n = md_coap_encode (&msg, out, sizeof out, NULL);
  g_assert_cmpint (n, ==, 47);
  for (gssize len = 0; len <= n; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (out, (gsize)len);
      gboolean ok = md_coap_parse (copy, (gsize)len, &msg, NULL);
      /* Option boundaries (header + token, "notes", "key", Echo, option 2000),
       * then the marker with one or more payload bytes. */
      gboolean expect_ok
          = len == 8 || len == 14 || len == 18 || len == 37 || len == 41 || len >= 43;

      if (ok != expect_ok)
        g_test_message ("prefix of %" G_GSSIZE_FORMAT " bytes", len);
      g_assert_cmpint (ok, ==, expect_ok);
    }
}

/* Random datagrams never crash the parser; the ones that parse re-encode. */
static void
test_parse_random (void)
{
  guint8 data[64], out[MD_COAP_MAX_DATAGRAM];

  for (guint round = 0; round < 20000; round++)
    {
      gsize len = (gsize)g_test_rand_int_range (0, sizeof data + 1);
      g_autofree guint8 *copy = NULL;
      MdCoapMessage msg;

      for (gsize i = 0; i < len; i++)
        data[i] = (guint8)g_test_rand_int_range (0, 256);
      if (len > 0)
        data[0] = (guint8)(0x40 | (data[0] & 0x3f)); /* version 1 mostly */
      copy = g_memdup2 (data, len);
      if (md_coap_parse (copy, len, &msg, NULL))
        {
          g_autofree gchar *text = md_coap_message_describe (&msg);

          g_assert_cmpint (md_coap_encode (&msg, out, sizeof out, NULL), >=, 4);
          g_assert_nonnull (text);
        }
    }
}

static void
test_peek_header (void)
{
  MdCoapType type;
  guint8 code;
  guint16 mid;

  g_assert_true (md_coap_peek_header (content_ack, 4, &type, &code, &mid));
  g_assert_cmpint (type, ==, MD_COAP_TYPE_ACK);
  g_assert_cmpuint (code, ==, MD_COAP_CONTENT);
  g_assert_cmpuint (mid, ==, 0x7d34);
  /* Whatever follows is not looked at. */
  g_assert_true (
      md_coap_peek_header ((const guint8[]){ 0x4f, 0x01, 0, 9, 0xff }, 5, NULL, NULL, &mid));
  g_assert_cmpuint (mid, ==, 9);
  g_assert_false (md_coap_peek_header (content_ack, 3, &type, &code, &mid));
  g_assert_false (md_coap_peek_header ((const guint8[]){ 0x80, 0x01, 0, 1 }, 4, NULL, NULL, NULL));
}

static void
test_path (void)
{
  MdCoapMessage msg;
  g_autofree gchar *empty = NULL, *path = NULL, *root = NULL;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  empty = md_coap_message_get_path (&msg);
  g_assert_cmpstr (empty, ==, "");
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, "/notes/3"));
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_LOCATION_PATH, "other"));
  path = md_coap_message_get_path (&msg);
  g_assert_cmpstr (path, ==, "notes/3");

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_PATH, "a/b", 3));
  g_assert_null (md_coap_message_get_path (&msg));
  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_PATH, "a\0b", 3));
  g_assert_null (md_coap_message_get_path (&msg));
  /* One empty segment is how some clients say "/". */
  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_PATH, "", 0));
  root = md_coap_message_get_path (&msg);
  g_assert_cmpstr (root, ==, "");
}

static void
test_query (void)
{
  MdCoapMessage msg;
  g_autofree gchar *after = NULL, *empty = NULL, *first = NULL;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_null (md_coap_message_get_query (&msg, "after"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "aft=1"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "afterx=2"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "after"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "after=5"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "after=6"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "n="));
  after = md_coap_message_get_query (&msg, "after");
  g_assert_cmpstr (after, ==, "5");
  empty = md_coap_message_get_query (&msg, "n");
  g_assert_cmpstr (empty, ==, "");
  g_assert_null (md_coap_message_get_query (&msg, "missing"));
  /* A Uri-Path is not a query. */
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "p=1"));
  g_assert_null (md_coap_message_get_query (&msg, "p"));
  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_QUERY, "k=a\0b", 5));
  g_assert_null (md_coap_message_get_query (&msg, "k"));
  first = md_coap_message_get_query (&msg, "");
  g_assert_null (first);
}

static void
test_unknown_critical (void)
{
  static const guint16 known[] = { MD_COAP_OPTION_URI_PATH, MD_COAP_OPTION_URI_QUERY, 0 };
  MdCoapMessage msg;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  g_assert_cmpuint (md_coap_message_find_unknown_critical (&msg, known), ==, 0);
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "x"));
  g_assert_true (md_coap_message_add_option (&msg, 2000, "", 0)); /* elective */
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ETAG, "e", 1));
  g_assert_cmpuint (md_coap_message_find_unknown_critical (&msg, known), ==, 0);
  g_assert_true (md_coap_message_add_option (&msg, 2001, "", 0));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_PROXY_URI, "", 0));
  g_assert_cmpuint (md_coap_message_find_unknown_critical (&msg, known), ==,
                    MD_COAP_OPTION_PROXY_URI);
}

static void
test_names (void)
{
  char code[5];

  md_coap_code_format (MD_COAP_CONTENT, code);
  g_assert_cmpstr (code, ==, "2.05");
  md_coap_code_format (MD_COAP_PRECONDITION_FAILED, code);
  g_assert_cmpstr (code, ==, "4.12");
  md_coap_code_format (MD_COAP_GET, code);
  g_assert_cmpstr (code, ==, "0.01");
  md_coap_code_format (0xff, code);
  g_assert_cmpstr (code, ==, "7.31");
  g_assert_cmpstr (md_coap_type_to_string (MD_COAP_TYPE_CON), ==, "CON");
  g_assert_cmpstr (md_coap_type_to_string (MD_COAP_TYPE_RST), ==, "RST");
  g_assert_cmpstr (md_coap_option_name (MD_COAP_OPTION_URI_PATH), ==, "Uri-Path");
  g_assert_cmpstr (md_coap_option_name (MD_COAP_OPTION_ECHO), ==, "Echo");
  g_assert_cmpstr (md_coap_option_name (MD_COAP_OPTION_BLOCK2), ==, "Block2");
  g_assert_null (md_coap_option_name (2));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/coap/parse/rfc7252-get", test_parse_rfc_get);
  g_test_add_func ("/coap/parse/rfc7252-content", test_parse_rfc_content);
  g_test_add_func ("/coap/parse/rfc7252-token", test_parse_rfc_token);
  g_test_add_func ("/coap/parse/empty-ping", test_parse_empty_ping);
  g_test_add_func ("/coap/parse/uint-too-long", test_parse_uint_option_too_long);
  g_test_add_func ("/coap/parse/block-invalid", test_parse_block_invalid);
  g_test_add_func ("/coap/parse/malformed/header", test_parse_malformed_header);
  g_test_add_func ("/coap/parse/malformed/token", test_parse_malformed_token);
  g_test_add_func ("/coap/parse/malformed/empty-message", test_parse_malformed_empty);
  g_test_add_func ("/coap/parse/malformed/nibble-15", test_parse_malformed_nibble15);
  g_test_add_func ("/coap/parse/malformed/past-end", test_parse_malformed_past_end);
  g_test_add_func ("/coap/parse/malformed/marker-without-payload", test_parse_malformed_marker);
  g_test_add_func ("/coap/parse/malformed/number-overflow", test_parse_number_overflow);
  g_test_add_func ("/coap/parse/malformed/too-many-options", test_parse_too_many_options);
  g_test_add_func ("/coap/parse/truncations", test_parse_truncations);
  g_test_add_func ("/coap/parse/random", test_parse_random);
  g_test_add_func ("/coap/parse/peek-header", test_peek_header);
  g_test_add_func ("/coap/encode/rfc7252-examples", test_encode_rfc_examples);
  g_test_add_func ("/coap/encode/extended-delta", test_encode_extended_delta);
  g_test_add_func ("/coap/encode/extended-length", test_encode_extended_length);
  g_test_add_func ("/coap/encode/uint-option", test_encode_uint_option);
  g_test_add_func ("/coap/encode/block", test_encode_block);
  g_test_add_func ("/coap/encode/sorted", test_encode_sorted);
  g_test_add_func ("/coap/encode/round-trip", test_encode_round_trip);
  g_test_add_func ("/coap/encode/buffer-too-small", test_encode_buffer_too_small);
  g_test_add_func ("/coap/encode/storage-full", test_encode_storage_full);
  g_test_add_func ("/coap/encode/too-many-options", test_encode_too_many_options);
  g_test_add_func ("/coap/encode/response", test_response_init);
  g_test_add_func ("/coap/options/path", test_path);
  g_test_add_func ("/coap/options/query", test_query);
  g_test_add_func ("/coap/options/unknown-critical", test_unknown_critical);
  g_test_add_func ("/coap/format/names", test_names);
  g_test_add_func ("/coap/format/block-size", test_block_size);

  return g_test_run ();
}
