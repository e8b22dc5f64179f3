#include "config.h"

#include "md-author.h"

#include <arpa/inet.h>
#include <string.h>

static MdDatagram
datagram_from (int family, const char *address, const char *identity)
{
  MdDatagram d = { .identity = identity };

  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&d.peer.addr;

      sin->sin_family = AF_INET;
      sin->sin_port = htons (40000);
      g_assert_cmpint (inet_pton (AF_INET, address, &sin->sin_addr), ==, 1);
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&d.peer.addr;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (40000);
      g_assert_cmpint (inet_pton (AF_INET6, address, &sin6->sin6_addr), ==, 1);
    }
  return d;
}

static void
test_author (void)
{
  char out[MD_AUTHOR_MAX];
  MdDatagram d;

  d = datagram_from (AF_INET, "192.0.2.1", "alice");
  g_assert_cmpstr (md_author_from_datagram (&d, out), ==, "alice");
  d = datagram_from (AF_INET, "192.0.2.1", NULL);
  g_assert_cmpstr (md_author_from_datagram (&d, out), ==, "@192.0.2.1");
  d = datagram_from (AF_INET6, "::ffff:192.0.2.7", NULL);
  g_assert_cmpstr (md_author_from_datagram (&d, out), ==, "@192.0.2.7");
  d = datagram_from (AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL);
  g_assert_cmpstr (md_author_from_datagram (&d, out), ==,
                   "@ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/author/from-datagram", test_author);
  return g_test_run ();
}
