/* The one-line decode of datagrams that the daemon's verbose log and
 * mydailyctl --debug print: every field, and hostile bytes that never reach
 * the terminal as controls. */
#include "config.h"

#include "md-coap-describe.h"

#include <string.h>

/* RFC 7252 Appendix A, Figure 16's piggybacked 2.05 Content ACK. */
static const guint8 content_ack[] = { 0x60, 0x45, 0x7d, 0x34, 0xff, '2', '2', '.', '3', ' ', 'C' };

/* No byte below 0x20, no DEL, no C1 (UTF-8 0xc2 0x80-0x9f). */
static void
assert_printable_line (const char *text)
{
  const guint8 *p = (const guint8 *)text;

  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (gsize i = 0; p[i] != '\0'; i++)
    {
      g_assert_cmpuint (p[i], >=, 0x20);
      g_assert_cmpuint (p[i], !=, 0x7f);
      g_assert_false (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f);
    }
}

static void
test_request (void)
{
  MdCoapMessage msg;
  const guint8 token[] = { 0xa1, 0xb2 };
  g_autofree gchar *text = NULL;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, MD_COAP_GET, 0x7d34);
  md_coap_message_set_token (&msg, token, sizeof token);
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, "notes/3"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "after=5"));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, "rt=x"));
  g_assert_true (
      md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK2, &(MdCoapBlock){ 3, FALSE, 6 }));
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, 0));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_true (md_coap_message_set_payload (&msg, "twelve bytes", 12));
  text = md_coap_message_describe (&msg);
  g_assert_cmpstr (text, ==,
                   "CON GET mid=0x7d34 token=a1b2 path=notes/3 query=after=5&rt=x "
                   "block2=3/0/1024 observe=0 if-none-match payload=12B");
}

static void
test_response (void)
{
  MdCoapMessage msg;
  g_autofree gchar *ack = NULL, *created = NULL;

  g_assert_true (md_coap_parse (content_ack, sizeof content_ack, &msg, NULL));
  ack = md_coap_message_describe (&msg);
  g_assert_cmpstr (ack, ==, "ACK 2.05 mid=0x7d34 payload=6B");

  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_CREATED, 0xffff);
  g_assert_true (md_coap_message_add_path (&msg, MD_COAP_OPTION_LOCATION_PATH, "notes/42"));
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_CONTENT_FORMAT, 0));
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_MAX_AGE, 7));
  g_assert_true (
      md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK1, &(MdCoapBlock){ 0, TRUE, 0 }));
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_SIZE2, 5000));
  created = md_coap_message_describe (&msg);
  g_assert_cmpstr (created, ==,
                   "NON 2.01 mid=0xffff location=notes/42 ct=0 max-age=7 block1=0/1/16 "
                   "size2=5000");
}

/* Echo and ETag as hex, shortened; options without a field by number. */
static void
test_opaque_options (void)
{
  const guint8 echo[12] = { 0x3f, 0x9a, 0x01, 0xc2, 5, 6, 7, 8, 9, 10, 11, 12 };
  const guint8 etag[2] = { 0xbe, 0xef };
  MdCoapMessage msg;
  g_autofree gchar *text = NULL;

  md_coap_message_init (&msg, MD_COAP_TYPE_ACK, MD_COAP_UNAUTHORIZED, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ECHO, echo, sizeof echo));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_ETAG, etag, sizeof etag));
  g_assert_true (md_coap_message_add_option (&msg, 65000, "abc", 3));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_HOST, "h", 1));
  text = md_coap_message_describe (&msg);
  g_assert_cmpstr (text, ==,
                   "ACK 4.01 mid=0x0001 etag=beef(2B) echo=3f9a01c205060708...(12B) opt3=1B "
                   "opt65000=3B");
}

/* Bytes a peer chose never break the line or reach the terminal as a
 * control; text a person can read stays readable. */
static void
test_hostile_values (void)
{
  MdCoapMessage msg;
  g_autofree gchar *text = NULL;
  const char path[] = "a\nb c\x1b]0;pwn\x07\xe2\x80\xae\xc2\x9b\xff";

  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_POST, 1);
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_URI_PATH, path, sizeof path));
  g_assert_true (md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_PATH, "笔记"));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_BLOCK2, "\x0f", 1));
  g_assert_true (md_coap_message_add_option (&msg, MD_COAP_OPTION_OBSERVE, "12345", 5));
  text = md_coap_message_describe (&msg);
  g_assert_cmpstr (text, ==,
                   "NON POST mid=0x0001 path=a\\u000ab\\x20c\\u001b]0;pwn\\u0007\\u202e\\u009b"
                   "\\xff\\u0000/笔记 block2=invalid observe=invalid");
  assert_printable_line (text);
}

typedef struct
{
  const char *name;
  const guint8 *data;
  gsize len;
  const char *expected;
} Malformed;

static void
test_malformed (void)
{
  static const guint8 short_header[] = { 0x40, 0x01 };
  static const guint8 version_2[] = { 0x80, 0x01, 0x00, 0x01 };
  static const guint8 token_9[] = { 0x49, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  static const guint8 option_past_end[] = { 0x50, 0x45, 0xbe, 0xef, 0x00, 0xb5, 'a' };
  static const guint8 marker_alone[] = { 0x60, 0x45, 0x00, 0x02, 0xff };
  static const guint8 empty_with_token[] = { 0x41, 0x00, 0x00, 0x03, 0x1b };
  static const Malformed cases[] = {
    { "empty", NULL, 0, "malformed: message shorter than the 4-byte header (0 bytes)" },
    { "short", short_header, sizeof short_header,
      "malformed: message shorter than the 4-byte header (2 bytes)" },
    { "version", version_2, sizeof version_2, "malformed: unsupported CoAP version (4 bytes)" },
    { "token", token_9, sizeof token_9,
      "CON GET mid=0x1234 malformed: token length 9-15 is reserved (13 bytes)" },
    { "option", option_past_end, sizeof option_past_end,
      "NON 2.05 mid=0xbeef malformed: option value runs past the end (7 bytes)" },
    { "marker", marker_alone, sizeof marker_alone,
      "ACK 2.05 mid=0x0002 malformed: payload marker without payload (5 bytes)" },
    { "empty-token", empty_with_token, sizeof empty_with_token,
      "CON EMPTY mid=0x0003 malformed: empty message with token, options or payload (5 bytes)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *text = md_coap_datagram_describe (cases[i].data, cases[i].len);

      g_test_message ("%s: %s", cases[i].name, text);
      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_datagram_parses (void)
{
  g_autofree gchar *text = md_coap_datagram_describe (content_ack, sizeof content_ack);

  g_assert_cmpstr (text, ==, "ACK 2.05 mid=0x7d34 payload=6B");
}

/* Random datagrams, most with a valid header: always one printable line. */
static void
test_random (void)
{
  guint8 data[48];

  for (guint round = 0; round < 20000; round++)
    {
      gsize len = (gsize)g_test_rand_int_range (0, sizeof data + 1);
      g_autofree guint8 *copy = NULL;
      g_autofree gchar *text = NULL;

      for (gsize i = 0; i < len; i++)
        data[i] = (guint8)g_test_rand_int_range (0, 256);
      if (len > 0 && round % 4 != 0)
        data[0] = (guint8)(0x40 | (data[0] & 0x37)); /* version 1, token length 0-7 */
      copy = g_memdup2 (data, len);
      text = md_coap_datagram_describe (copy, len);
      assert_printable_line (text);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/coap/describe/request", test_request);
  g_test_add_func ("/coap/describe/response", test_response);
  g_test_add_func ("/coap/describe/opaque-options", test_opaque_options);
  g_test_add_func ("/coap/describe/hostile-values", test_hostile_values);
  g_test_add_func ("/coap/describe/malformed", test_malformed);
  g_test_add_func ("/coap/describe/datagram", test_datagram_parses);
  g_test_add_func ("/coap/describe/random", test_random);
  return g_test_run ();
}
