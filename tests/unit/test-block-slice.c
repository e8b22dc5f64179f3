#include "config.h"

#include "md-block-slice.h"

#include <string.h>

/* "0123456789" repeated: any byte's value tells its offset. */
static void
make_body (char *body, gsize len)
{
  for (gsize i = 0; i < len; i++)
    body[i] = (char)('0' + i % 10);
}

static void
make_content (MdCoapMessage *response, const char *payload, gsize len)
{
  md_coap_message_init (response, MD_COAP_TYPE_ACK, MD_COAP_CONTENT, 0x1234);
  md_coap_message_set_token (response, (const guint8 *)"tok", 3);
  g_assert_true (md_coap_message_add_uint_option (response, MD_COAP_OPTION_CONTENT_FORMAT, 0));
  g_assert_true (md_coap_message_set_payload (response, payload, len));
}

static void
make_block_request (MdCoapMessage *request, guint32 num, guint szx)
{
  MdCoapBlock block = { num, FALSE, szx };

  md_coap_message_init (request, MD_COAP_TYPE_CON, MD_COAP_GET, 0x1234);
  g_assert_true (md_coap_message_add_block (request, MD_COAP_OPTION_BLOCK2, &block));
}

static void
assert_block (const MdCoapMessage *response, guint32 num, gboolean more, guint szx)
{
  MdCoapBlock block;

  g_assert_true (md_coap_message_get_block (response, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_cmpuint (block.num, ==, num);
  g_assert_cmpint (block.more, ==, more);
  g_assert_cmpuint (block.szx, ==, szx);
}

/* A body the resources serve whole, asked for block by block. */
static void
test_answer_blocks (void)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *response = g_new0 (MdCoapMessage, 1);
  char body[100];
  guint32 size2;

  make_body (body, sizeof body);
  make_content (response, body, sizeof body);
  make_block_request (request, 0, 1);
  md_block_slice_answer (request, response);
  assert_block (response, 0, TRUE, 1);
  g_assert_true (md_coap_message_get_uint_option (response, MD_COAP_OPTION_SIZE2, &size2));
  g_assert_cmpuint (size2, ==, sizeof body);
  g_assert_cmpmem (response->payload, response->payload_len, body, 32);
  g_assert_cmpmem (response->token, response->token_len, "tok", 3);
  g_assert_true (md_coap_message_has_option (response, MD_COAP_OPTION_CONTENT_FORMAT));

  make_content (response, body, sizeof body);
  make_block_request (request, 3, 1);
  md_block_slice_answer (request, response);
  assert_block (response, 3, FALSE, 1);
  g_assert_false (md_coap_message_has_option (response, MD_COAP_OPTION_SIZE2));
  g_assert_cmpmem (response->payload, response->payload_len, body + 96, 4);

  make_content (response, body, sizeof body);
  make_block_request (request, 4, 1);
  md_block_slice_answer (request, response);
  g_assert_cmpuint (response->code, ==, MD_COAP_BAD_OPTION);
}

/* No Block2 asked for, or an answer that is not a 2.05: left as it is. */
static void
test_answer_untouched (void)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *response = g_new0 (MdCoapMessage, 1);
  char body[100];

  make_body (body, sizeof body);
  make_content (response, body, sizeof body);
  md_coap_message_init (request, MD_COAP_TYPE_CON, MD_COAP_GET, 1);
  md_block_slice_answer (request, response);
  g_assert_false (md_coap_message_has_option (response, MD_COAP_OPTION_BLOCK2));
  g_assert_cmpuint (response->payload_len, ==, sizeof body);

  make_block_request (request, 1, 0);
  response->code = MD_COAP_NOT_FOUND;
  md_block_slice_answer (request, response);
  g_assert_false (md_coap_message_has_option (response, MD_COAP_OPTION_BLOCK2));
  g_assert_cmpuint (response->payload_len, ==, sizeof body);
}

/* Block 2 of 1024 bytes cut to 256: the same offset, block 8. */
static void
test_shrink (void)
{
  g_autofree MdCoapMessage *response = g_new0 (MdCoapMessage, 1);
  MdCoapBlock block = { 2, TRUE, 6 };
  char body[1024];

  make_body (body, sizeof body);
  make_content (response, body, sizeof body);
  g_assert_true (md_coap_message_add_block (response, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_false (md_block_slice_shrink (response, 6, TRUE));
  g_assert_true (md_block_slice_shrink (response, 4, TRUE));
  assert_block (response, 8, TRUE, 4);
  g_assert_cmpmem (response->payload, response->payload_len, body, 256);
  g_assert_false (md_coap_message_has_option (response, MD_COAP_OPTION_SIZE2));
}

/* A whole body cut to its first block says how long it is. */
static void
test_shrink_whole (void)
{
  g_autofree MdCoapMessage *response = g_new0 (MdCoapMessage, 1);
  char body[40];
  guint32 size2;

  make_body (body, sizeof body);
  make_content (response, body, sizeof body);
  g_assert_false (md_block_slice_shrink (response, 2, TRUE));
  g_assert_true (md_block_slice_shrink (response, 0, TRUE));
  assert_block (response, 0, TRUE, 0);
  g_assert_true (md_coap_message_get_uint_option (response, MD_COAP_OPTION_SIZE2, &size2));
  g_assert_cmpuint (size2, ==, sizeof body);
  g_assert_cmpmem (response->payload, response->payload_len, body, 16);
}

/* A block far into a large body (past 16 MiB, a notebook of that size)
 * cannot be named in small blocks, whose number would pass the 20 bits of
 * a Block2 option: it stays as it is. */
static void
test_shrink_far_block (void)
{
  g_autofree MdCoapMessage *response = g_new0 (MdCoapMessage, 1);
  MdCoapBlock block = { 16384, TRUE, 6 };
  char body[1024];

  make_body (body, sizeof body);
  make_content (response, body, sizeof body);
  g_assert_true (md_coap_message_add_block (response, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_false (md_block_slice_shrink (response, 0, TRUE));
  assert_block (response, 16384, TRUE, 6);
  g_assert_cmpuint (response->payload_len, ==, sizeof body);
  g_assert_true (md_block_slice_shrink (response, 2, TRUE));
  assert_block (response, 16384 * 16, TRUE, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/block-slice/answer/blocks", test_answer_blocks);
  g_test_add_func ("/block-slice/answer/untouched", test_answer_untouched);
  g_test_add_func ("/block-slice/shrink/block", test_shrink);
  g_test_add_func ("/block-slice/shrink/whole", test_shrink_whole);
  g_test_add_func ("/block-slice/shrink/far-block", test_shrink_far_block);
  return g_test_run ();
}
