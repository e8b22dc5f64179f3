#include "config.h"

#include "md-budget.h"
#include "md-echo.h"
#include "md-transport.h"

#include <arpa/inet.h>

/* A peer that came through a transport proving addresses (DTLS after its
 * cookie exchange) counts as verified: its answers need no Echo. */

static const MdTransportClass proving_class = { .name = "proving", .proves_address = TRUE };
static const MdTransportClass plain_class = { .name = "plain" };

static MdPeer
peer_through (MdTransport *transport)
{
  MdPeer peer = { .fd = 3, .transport = transport };
  struct sockaddr_in *sin = (struct sockaddr_in *)&peer.addr;

  sin->sin_family = AF_INET;
  sin->sin_port = htons (40000);
  sin->sin_addr.s_addr = htonl (0xc0000201);
  peer.addr_len = sizeof *sin;
  return peer;
}

static void
test_proven (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdTransport proving = { &proving_class, 3 };
  MdTransport plain = { &plain_class, 3 };
  MdPeer dtls = peer_through (&proving);
  MdPeer udp = peer_through (&plain);
  MdPeer bare = peer_through (NULL);

  g_assert_true (md_transport_proves_address (&dtls));
  g_assert_false (md_transport_proves_address (&udp));
  g_assert_false (md_transport_proves_address (&bare));
  g_assert_true (md_echo_is_verified (echo, &dtls, G_USEC_PER_SEC));
  g_assert_false (md_echo_is_verified (echo, &udp, G_USEC_PER_SEC));
  /* A large answer to a small request goes to the proven peer only. */
  g_assert_true (md_budget_allows (echo, &dtls, 1024, 20, G_USEC_PER_SEC));
  g_assert_false (md_budget_allows (echo, &udp, 1024, 20, G_USEC_PER_SEC));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proven-address/echo-and-budget", test_proven);
  return g_test_run ();
}
