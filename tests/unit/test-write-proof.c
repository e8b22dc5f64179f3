#include "config.h"

#include "md-request-checks.h"
#include "md-test-peer.h"
#include "md-transport.h"
#include "md-write-proof.h"

#include <string.h>

#define T0 (G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC)

static void
make_request (MdCoapMessage *request, guint8 code, const char *path)
{
  md_coap_message_init (request, MD_COAP_TYPE_CON, code, 0x1234);
  g_assert_true (md_coap_message_add_path (request, MD_COAP_OPTION_URI_PATH, path));
  if (code != MD_COAP_GET)
    g_assert_true (md_coap_message_set_payload (request, "hello", 5));
}

/* What md_request_check() makes of @request from @peer: TRUE when it goes
 * on to the resources; else @response is what it got. */
static gboolean
check (MdEcho *echo, const MdCoapMessage *request, const MdPeer *peer, gint64 now_us,
       MdCoapMessage *response)
{
  md_coap_message_init_response (response, request, MD_COAP_EMPTY, 1);
  return md_request_check (echo, request, peer, now_us, response);
}

/* Writes from a plain non-loopback source, IPv4, IPv6 or mapped, are held
 * until the source proves its address; reads are not. */
static void
test_write_proof_policy (void)
{
  static const MdTransportClass proving = { .name = "proving", .proves_address = TRUE };
  MdTransport dtls = { &proving, 3 };
  MdCoapMessage post, put, get;
  MdPeer lan = md_test_peer4 (3, "192.168.1.7", 40000);
  MdPeer lan6 = md_test_peer6 (3, "fd00::7", 40000);
  MdPeer mapped = md_test_peer6 (3, "::ffff:192.168.1.7", 40000);
  MdPeer local = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer local6 = md_test_peer6 (3, "::1", 40000);
  MdPeer local_mapped = md_test_peer6 (3, "::ffff:127.1.2.3", 40000);
  MdPeer keyed = md_test_peer4 (3, "192.168.1.7", 40000);

  keyed.transport = &dtls;
  make_request (&post, MD_COAP_POST, "notes");
  make_request (&put, MD_COAP_PUT, "notes");
  make_request (&get, MD_COAP_GET, "notes");
  g_assert_true (md_write_needs_proven_address (&post, &lan));
  g_assert_true (md_write_needs_proven_address (&put, &lan));
  g_assert_true (md_write_needs_proven_address (&post, &lan6));
  g_assert_true (md_write_needs_proven_address (&post, &mapped));
  g_assert_false (md_write_needs_proven_address (&get, &lan));
  g_assert_false (md_write_needs_proven_address (&post, &local));
  g_assert_false (md_write_needs_proven_address (&post, &local6));
  g_assert_false (md_write_needs_proven_address (&post, &local_mapped));
  g_assert_false (md_write_needs_proven_address (&post, &keyed));
}

/* The first POST gets 4.01 with an Echo value and no diagnostic; the same
 * POST carrying that value goes through, and so does the next one. */
static void
test_write_proof_challenge (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer lan = md_test_peer4 (3, "192.168.1.7", 40000);
  MdPeer other = md_test_peer4 (3, "192.168.1.8", 40000);
  MdCoapMessage post, retry, response, response_other;
  const MdCoapOption *echo_option;

  make_request (&post, MD_COAP_POST, "notes");
  g_assert_false (check (echo, &post, &lan, T0, &response));
  g_assert_cmpuint (response.code, ==, MD_COAP_UNAUTHORIZED);
  g_assert_cmpuint (response.payload_len, ==, 0);
  echo_option = md_coap_message_find_option (&response, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo_option);
  g_assert_cmpuint (echo_option->length, ==, MD_ECHO_VALUE_LEN);

  /* Another address cannot use it: its write is challenged in turn. */
  make_request (&retry, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_add_option (&retry, MD_COAP_OPTION_ECHO, echo_option->value,
                                             echo_option->length));
  g_assert_false (check (echo, &retry, &other, T0 + 1, &response_other));
  g_assert_cmpuint (response_other.code, ==, MD_COAP_UNAUTHORIZED);

  g_assert_true (check (echo, &retry, &lan, T0 + 2, &response));
  g_assert_true (check (echo, &post, &lan, T0 + 3, &response));
  /* Loopback is never asked. */
  {
    g_autoptr (MdEcho) fresh = md_echo_new ();
    MdPeer local = md_test_peer4 (3, "127.0.0.1", 40000);

    g_assert_true (check (fresh, &post, &local, T0, &response));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/write-proof/policy", test_write_proof_policy);
  g_test_add_func ("/write-proof/challenge", test_write_proof_challenge);
  return g_test_run ();
}
